"""blockwork.distributed: a local cluster of Python workers, futures,
collections on the cluster, errors."""

from __future__ import annotations

import operator
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path

import cloudpickle
import numpy as np
import pytest
from conftest import blockwork_binary, run_interrupted

import blockwork
import blockwork.array as da
from blockwork import _core, config
from blockwork.distributed import Client, LocalCluster, as_completed, wait

# Workers cannot import this test module: its functions travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster:
        c = Client(cluster, set_as_default=False)
        try:
            yield c
        finally:
            c.close()


def inc(x: int) -> int:
    return x + 1


def test_submit_map_gather(client: Client) -> None:
    f = client.submit(inc, 1)
    assert f.result(timeout=30) == 2
    assert client.submit(inc, 1).key == f.key, "pure calls share a key"
    assert client.submit(inc, 1, pure=False).key != f.key
    fs = client.map(inc, range(20))
    assert client.gather(fs) == list(range(1, 21))
    total = client.submit(sum, fs)  # a list of futures as one argument
    assert total.result() == sum(range(1, 21))
    pair = client.submit(lambda d, k: d["a"] * k, {"a": fs[3]}, k=fs[4])
    assert pair.result() == 4 * 5
    assert client.gather({"x": f, "ys": (fs[0], 7)}) == {"x": 2, "ys": (1, 7)}
    assert f.done() and f.status == "finished"


def test_scatter_and_numpy_values(client: Client) -> None:
    a = np.arange(12.0).reshape(3, 4)
    fa, fb = client.scatter([a, 2.0])
    out = client.submit(operator.mul, fa, fb).result()
    np.testing.assert_array_equal(out, a * 2)
    named = client.scatter({"k": [1, 2]})
    assert named["k"].result() == [1, 2]


def test_scatters_one_after_another_keep_their_own_values(client: Client) -> None:
    # Each scattered value is freed here once sent; a later one may take its
    # address, and must not take its key.
    futures = [client.scatter([np.full(3, float(i))])[0] for i in range(40)]
    for i, f in enumerate(futures):
        np.testing.assert_array_equal(f.result(), np.full(3, float(i)))


def test_task_exceptions_reach_the_caller(client: Client) -> None:
    class Custom(Exception):
        pass

    def boom(x: int) -> int:
        raise Custom(f"bad {x}")

    f = client.submit(boom, 3)
    with pytest.raises(Custom, match="bad 3") as info:
        f.result()
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert f.key in notes and "boom" in notes, notes
    assert f.status == "error"
    assert isinstance(f.exception(), Custom)
    downstream = client.submit(inc, f)
    with pytest.raises(Custom):
        downstream.result()
    with pytest.raises(ZeroDivisionError):
        client.submit(operator.truediv, 1, 0).result()


def test_wait_as_completed_timeout_cancel(client: Client) -> None:
    fs = [client.submit(time.sleep, d, pure=False) for d in (0.3, 0.0, 0.1)]
    done = wait(fs, return_when="FIRST_COMPLETED")
    assert done.done
    done = wait(fs)
    assert done.done == set(fs) and not done.not_done
    fs = client.map(inc, range(5))
    seen = [r for _, r in as_completed(fs, with_results=True)]
    assert sorted(seen) == [1, 2, 3, 4, 5]
    slow = client.submit(time.sleep, 5, pure=False)
    with pytest.raises(TimeoutError):
        slow.result(timeout=0.1)
    with pytest.raises(TimeoutError):
        wait([slow], timeout=0.1)
    slow.cancel()
    with pytest.raises(CancelledError):
        slow.result(timeout=30)


def test_arrays_and_delayed_on_the_cluster(client: Client) -> None:
    x = da.random.random((60, 40), chunks=(25, 15))
    want = x.compute(scheduler="threads")
    expr = (x + 1).T.dot(x) - x.mean(axis=0)
    local = expr.compute(scheduler="threads")
    np.testing.assert_allclose(expr.compute(scheduler=client), local, rtol=1e-12)
    with config.set(scheduler=client):
        np.testing.assert_allclose(x.sum(axis=0).compute(), want.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(x), want)
        lazy = blockwork.delayed(inc)(blockwork.delayed(sum)([1, 2, 3]))
        (arr, val) = blockwork.compute(x[:5], lazy)
        np.testing.assert_array_equal(arr, want[:5])
        assert val == 7
        assert lazy.compute() == 7
    future = client.compute(x.sum())
    assert future.result() == pytest.approx(want.sum())
    values = client.compute([x[3:9, 2], lazy], sync=True)
    np.testing.assert_array_equal(values[0], want[3:9, 2])
    assert values[1] == 7
    held = client.persist(x)
    np.testing.assert_array_equal(held.compute(scheduler="sync"), want)


def test_map_blocks_and_map_overlap_run_on_python_workers(client: Client) -> None:
    x = da.random.random((50, 30), chunks=(20, 12))
    y = x.map_blocks(lambda b: b * 2 + 1)
    np.testing.assert_array_equal(y.compute(scheduler=client), y.compute(scheduler="threads"))

    def where(b: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        assert block_info is not None
        return np.full(b.shape, block_info[0]["chunk-location"][0], dtype="int32")

    loc = x.map_blocks(where, dtype="int32")
    np.testing.assert_array_equal(loc.compute(scheduler=client), loc.compute(scheduler="sync"))
    smooth = x.map_overlap(lambda b: (np.roll(b, 1, 0) + b + np.roll(b, -1, 0)) / 3, depth=1, boundary="reflect")
    np.testing.assert_allclose(smooth.compute(scheduler=client), smooth.compute(scheduler="threads"))

    v = da.random.random(30, chunks=7)
    both = da.map_blocks(lambda p, q: p - q, x, v)
    np.testing.assert_allclose(both.compute(scheduler=client), both.compute(scheduler="threads"))
    prod = da.blockwise(np.dot, "ik", x, "ij", x.T, "jk", dtype=float, concatenate=True)
    np.testing.assert_allclose(prod.compute(scheduler=client), prod.compute(scheduler="threads"))

    def fail(b: np.ndarray) -> np.ndarray:
        raise KeyError("no such column")

    with pytest.raises(KeyError, match="no such column"):
        x.map_blocks(fail).compute(scheduler=client)


def test_persisted_blocks_stay_on_the_workers_and_are_reused(client: Client, tmp_path: Path) -> None:
    log = tmp_path / "calls"

    def counted(b: np.ndarray) -> np.ndarray:
        with open(log, "a") as f:  # the workers share this machine's files
            f.write("call\n")
        return b * 2

    x = da.arange(100, chunks=10).map_blocks(counted, dtype="int64")  # no call to infer the type
    held = client.persist(x)
    assert client.compute(held.sum()).result() == 2 * sum(range(100))
    np.testing.assert_array_equal(held.compute(scheduler=client), np.arange(100) * 2)
    assert (held + 1).max().compute(scheduler=client) == 199
    assert log.read_text().count("call") == 10, "each block computed once, then reused"


def test_arrays_frames_and_delayed_persist_in_one_call(client: Client) -> None:
    import pandas as pd

    import blockwork.dataframe as dd

    a = np.arange(60.0).reshape(6, 10)
    pdf = pd.DataFrame({"k": np.arange(20) % 3, "v": np.arange(20.0)})
    x, frame, d = client.persist(
        [da.from_array(a, chunks=(3, 5)) * 2, dd.from_pandas(pdf, npartitions=4), blockwork.delayed(sum)([1, 2, 3])]
    )
    np.testing.assert_array_equal(x.compute(scheduler=client), a * 2)
    pd.testing.assert_frame_equal(frame.compute(scheduler=client).reset_index(drop=True), pdf)
    assert d.result() == 6
    # The engine's binding takes an array or a frame, and a task graph as
    # one (keys, callables, dependencies, outputs) value; anything else is
    # a TypeError.
    with pytest.raises(TypeError):
        client._c.persist(object())
    with pytest.raises(TypeError):
        client._c.compute_tasks(["a"], [b""], [[]], [0])  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="out of range"):
        client._c.compute_tasks((["a"], [cloudpickle.dumps(lambda: 1)], [[]], [5]))


def test_numpy_arrays_travel_to_the_workers(client: Client) -> None:
    a = np.random.default_rng(3).random((37, 23))
    x = da.from_array(a, chunks=(10, 7))
    np.testing.assert_allclose((x * 2 - x.T.mean(axis=1)).compute(scheduler=client), a * 2 - a.T.mean(axis=1))
    mask = da.from_array(a > 0.5, chunks=(10, 7))
    assert mask.sum().compute(scheduler=client) == (a > 0.5).sum()
    zarr = Path(__file__).resolve().parents[2] / "crates" / "labeled" / "tests" / "fixtures" / "plain" / "v2.zarr"
    assert da.from_zarr(zarr).sum().compute(scheduler=client) == da.from_zarr(zarr).sum().compute(scheduler="sync")
    ints = da.from_array(np.arange(100, dtype=np.int32), chunks=30)
    np.testing.assert_array_equal(ints.map_blocks(lambda b: b * 3).compute(scheduler=client), np.arange(100) * 3)


def test_delayed_chains_match_local_threads(client: Client) -> None:
    total = blockwork.delayed(0)
    for i in range(200):
        total = blockwork.delayed(operator.add)(total, i)
    assert total.compute(scheduler=client) == total.compute(scheduler="threads") == sum(range(200))


def test_a_new_client_is_the_default_until_closed() -> None:
    with Client(n_workers=1, threads_per_worker=2) as c:
        assert config.client() is c
        assert da.ones((10, 10), chunks=5).sum().compute() == 100.0
        assert c.cluster is not None and len(c.cluster.workers) == 1
    assert config.client() is None


def test_bad_arguments_are_errors() -> None:
    with pytest.raises(ValueError, match="n_workers"):
        LocalCluster(n_workers=-1)
    with pytest.raises(ConnectionError):
        Client("tcp://127.0.0.1:1", set_as_default=False)
    with pytest.raises(ValueError, match="scheduler"):
        config.set(scheduler="processes")


def test_a_worker_without_python_refuses_python_tasks() -> None:
    scheduler = _core.Scheduler("127.0.0.1:0")
    worker = subprocess.Popen(
        [str(blockwork_binary()), "worker", scheduler.address, "--nthreads", "1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None and worker.stdout.readline().startswith("worker ")
        c = Client(scheduler.address, set_as_default=False)
        with pytest.raises(RuntimeError, match="python -m blockwork worker"):
            c.submit(inc, 1).result(timeout=30)
        # Native tasks run there.
        assert da.arange(10, chunks=3).sum().compute(scheduler=c) == 45
    finally:
        worker.terminate()
        worker.wait()
        scheduler.close()


def test_keyboard_interrupt_cancels_a_cluster_compute() -> None:
    code = textwrap.dedent(
        """
        import os, signal, threading, time
        import blockwork
        from blockwork.distributed import Client
        with Client(n_workers=1) as c:
            slow = [blockwork.delayed(time.sleep)(0.05 * (i % 3), dask_key_name=f"s-{i}") for i in range(400)]
            t0 = time.perf_counter()
            threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
            try:
                blockwork.compute(*slow)
                print("finished", time.perf_counter() - t0)
            except KeyboardInterrupt:
                print("interrupted", time.perf_counter() - t0)
            print(c.submit(sum, [1, 2]).result())
        """
    )
    second = run_interrupted(code)
    assert second == "3"


def test_python_worker_help_and_bad_flags() -> None:
    out = subprocess.run([sys.executable, "-m", "blockwork", "worker", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--memory-limit SIZE" in out.stdout, out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "blockwork", "worker", "127.0.0.1:1", "--nthreads", "0"], capture_output=True, text=True
    )
    assert out.returncode == 2 and "--nthreads wants a positive number" in out.stderr, out.stderr


def test_retire_workers_moves_results_and_recomputes_nothing() -> None:
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster, set_as_default=False) as c:
        fs = c.map(lambda i: np.full(1000, i, dtype=np.int64), range(8))
        c.gather(fs)
        out = c.retire_workers(workers=[cluster.workers[0]])
        assert len(out["retired"]) == 1 and out["refused"] == {}, out
        # The results are still there, on the other worker.
        assert [int(a[0]) for a in c.gather(fs)] == list(range(8))
        # The last worker holding them cannot go: refused, it runs on.
        out = c.retire_workers(n=1)
        assert out["retired"] == [] and len(out["refused"]) == 1, out
        assert "no running worker" in next(iter(out["refused"].values()))
        with pytest.raises(ValueError, match="no worker"):
            c.retire_workers(workers=["tcp://10.9.9.9:1"])
        with pytest.raises(TypeError, match="name the workers"):
            c.retire_workers()
