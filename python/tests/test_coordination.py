"""blockwork.distributed's coordination primitives: Variable, Queue, Lock,
Event, Semaphore, shared by two clients, with workers lost mid-use."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import cloudpickle
import numpy as np
import pytest

from blockwork import config
from blockwork.distributed import Client, Event, Future, LocalCluster, Lock, Queue, Semaphore, Variable

cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=2, threads_per_worker=1) as c:
        yield c


@pytest.fixture
def clients(cluster: LocalCluster) -> Iterator[tuple[Client, Client]]:
    a, b = Client(cluster, set_as_default=False), Client(cluster, set_as_default=False)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


class Background:
    """Runs a call on a thread; `result()` joins it."""

    def __init__(self, f: Callable[[], Any]) -> None:
        self._out: list[Any] = []
        self._t = threading.Thread(target=lambda: self._out.append(f()))
        self._t.start()
        time.sleep(0.3)  # long enough for its request to wait at the scheduler

    def result(self) -> Any:
        self._t.join(60)
        assert not self._t.is_alive(), "still waiting"
        return self._out[0]


def test_variable_values_and_futures(clients: tuple[Client, Client]) -> None:
    a, b = clients
    waiting = Background(lambda: Variable("cfg", client=b).get(timeout=30))
    value = {"grid": np.arange(6).reshape(2, 3), "name": "era5"}
    Variable("cfg", client=a).set(value)
    got = waiting.result()
    assert got["name"] == "era5" and np.array_equal(got["grid"], value["grid"])
    f = a.submit(lambda x: x * 3, 14)
    Variable("result", client=a).set(f)
    g = Variable("result", client=b).get()
    assert isinstance(g, Future) and g.key == f.key and g.result() == 42
    Variable("result", client=a).delete()
    with pytest.raises(TimeoutError, match="result"):
        Variable("result", client=b).get(timeout=0.2)


def test_queue_is_first_in_first_out_and_bounded(clients: tuple[Client, Client]) -> None:
    a, b = clients
    q = Queue("work", client=a, maxsize=2)
    q.put(1)
    q.put("two")
    putter = Background(lambda: Queue("work", client=b, maxsize=2).put([3]))
    assert q.qsize() == 2
    assert Queue("work", client=b).get() == 1
    putter.result()
    assert Queue("work", client=b).get(batch=2) == ["two", [3]]
    assert Queue("work", client=b).get(batch=True) == []
    with pytest.raises(TimeoutError):
        Queue("work", client=b).get(timeout=0.2)
    fs = a.map(lambda i: i * i, range(5))
    for f in fs:
        Queue("squares", client=a).put(f)
    got = Queue("squares", client=b).get(batch=5)
    assert [f.result() for f in got] == [0, 1, 4, 9, 16]


def test_lock_excludes_across_clients_and_handles(clients: tuple[Client, Client]) -> None:
    a, b = clients
    with Lock("ingest", client=a) as held:
        assert held.locked()
        assert not Lock("ingest", client=b).acquire(timeout=0.2)
        assert not Lock("ingest", client=a).acquire(blocking=False)
        other = Lock("ingest", client=b)
        waiter = Background(lambda: other.acquire(timeout=30))
        with pytest.raises(ValueError, match="not held"):
            Lock("ingest", client=b).release()
    assert waiter.result() is True
    other.release()
    assert not Lock("ingest", client=a).locked()


def test_event_wakes_every_waiter(clients: tuple[Client, Client]) -> None:
    a, b = clients
    waiters = [Background(lambda: Event("go", client=b).wait(timeout=30)) for _ in range(2)]
    assert not Event("go", client=a).is_set()
    Event("go", client=a).set()
    assert [w.result() for w in waiters] == [True, True]
    Event("go", client=a).clear()
    assert Event("go", client=b).wait(timeout=0.2) is False


def test_semaphore_bounds_leases(clients: tuple[Client, Client]) -> None:
    a, b = clients
    s1, s2 = Semaphore(2, "db", client=a), Semaphore(2, "db", client=a)
    assert s1.acquire() and s2.acquire()
    assert Semaphore(2, "db", client=b).get_value() == 2
    assert not Semaphore(2, "db", client=b).acquire(timeout=0.2)
    waiter = Background(lambda: Semaphore(2, "db", client=b).acquire(timeout=30))
    s1.release()
    assert waiter.result() is True
    with pytest.raises(ValueError, match="no lease"):
        s1.release()
    with pytest.raises(ValueError, match="has 2 leases"):
        Semaphore(3, "db", client=b).acquire()
    with Semaphore(1, "solo", client=a):
        assert not Semaphore(1, "solo", client=b).acquire(timeout=0.1)


def test_primitives_survive_lost_workers_and_a_departed_client() -> None:
    with LocalCluster(n_workers=1, threads_per_worker=1) as cluster:
        b = Client(cluster, set_as_default=False)
        a = Client(cluster, set_as_default=False)
        f = a.submit(lambda: np.arange(4) * 10)
        f.result()
        Variable("kept", client=a).set(f)
        assert Lock("l", client=a).acquire()
        waiter = Background(lambda: Lock("l", client=b).acquire(timeout=60))
        a.close()  # its lock passes on; its future stays in the variable
        assert waiter.result() is True
        # The only worker holding the result is lost: recomputed on the next.
        cluster.scale(0)
        cluster.scale(1)
        g = Variable("kept", client=b).get()
        assert np.array_equal(g.result(timeout=60), np.arange(4) * 10)
        b.close()


def test_bad_arguments_are_errors(clients: tuple[Client, Client]) -> None:
    a, _ = clients
    with pytest.raises(TypeError, match="named by a str"):
        Variable(3, client=a)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_leases"):
        Semaphore(0, client=a)
    with pytest.raises(ValueError, match="maxsize"):
        Queue(client=a, maxsize=-1)
    with pytest.raises(ValueError, match="timeout"):
        Event(client=a).wait(timeout=-1)
    with pytest.raises(TypeError, match="blockwork Client"):
        Lock(client="tcp://nowhere:1")  # type: ignore[arg-type]
    with config.set(scheduler="threads"), pytest.raises(RuntimeError, match="no client"):
        Variable("x")


def test_who_has_has_what_and_scheduler_info(clients: tuple[Client, Client]) -> None:
    a, _ = clients
    fs = a.map(lambda i: np.full(100, i), range(6))
    a.gather(fs)
    holders = a.who_has(fs)
    assert set(holders) == {f.key for f in fs}
    info = a.scheduler_info()
    assert info["type"] == "Scheduler" and info["address"] == a.scheduler_address
    addresses = set(info["workers"])
    assert len(addresses) == 2 and all(w.startswith("tcp://") for w in addresses)
    assert all(w["nthreads"] == 1 for w in info["workers"].values())
    assert all(ws and set(ws) <= addresses for ws in holders.values())
    held = a.has_what()
    assert set(held) == addresses
    for key, ws in holders.items():
        for w, keys in held.items():
            assert (w in ws) == (key in keys)
    assert set(a.who_has()) >= set(holders)
    name = next(iter(info["workers"].values()))["name"]
    assert list(a.has_what([name])) == [next(iter(info["workers"]))]
    with pytest.raises(TypeError, match="list of addresses"):
        a.has_what("tcp://x:1")  # type: ignore[arg-type]


def test_published_datasets_outlive_their_publisher(cluster: LocalCluster) -> None:
    b = Client(cluster, set_as_default=False)
    a = Client(cluster, set_as_default=False)
    fs = a.map(lambda i: np.full(3, i), range(4))
    a.publish_dataset(grid={"blocks": fs, "units": "K"})
    with pytest.raises(ValueError, match="published already"):
        a.publish_dataset(grid=fs)
    a.publish_dataset(grid=[fs[0]], override=True)
    a.publish_dataset(grid={"blocks": fs, "units": "K"}, override=True)
    a.close()
    assert b.list_datasets() == ("grid",)
    got = b.get_dataset("grid")
    assert got["units"] == "K"
    assert [int(x[0]) for x in b.gather(got["blocks"])] == [0, 1, 2, 3]
    b.unpublish_dataset("grid")
    assert b.list_datasets() == ()
    assert b.get_dataset("grid", default=None) is None
    with pytest.raises(KeyError, match="no dataset"):
        b.get_dataset("grid")
    with pytest.raises(KeyError):
        b.unpublish_dataset("grid")
    with pytest.raises(TypeError, match="name each dataset"):
        b.publish_dataset(fs)
    b.close()


def test_workers_restrict_where_tasks_run(clients: tuple[Client, Client]) -> None:
    a, _ = clients
    info = a.scheduler_info()
    second = sorted(info["workers"])[1]
    fs = a.map(lambda i: i * 2, range(6), workers=[second], priority=2)
    assert a.gather(fs) == [0, 2, 4, 6, 8, 10]
    assert all(ws == (second,) for ws in a.who_has(fs).values())
    name = info["workers"][second]["name"]
    f = a.submit(lambda: 7, workers=name, pure=False)
    assert f.result() == 7 and a.who_has([f])[f.key] == (second,)
    anywhere = a.submit(lambda: 8, workers="no-such-worker", allow_other_workers=True, pure=False)
    assert anywhere.result(timeout=30) == 8
    waiting = a.submit(lambda: 9, workers=["no-such-worker"], pure=False)
    with pytest.raises(TimeoutError):
        waiting.result(timeout=0.5)
    with pytest.raises(TypeError, match="workers="):
        a.submit(lambda: 1, workers=[3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="priority"):
        a.submit(lambda: 1, priority="high")  # type: ignore[arg-type]

    # Collections take the same placement in compute and persist.
    import blockwork.array as bwa

    base = np.arange(1200.0).reshape(40, 30)
    x = bwa.from_array(base, chunks=10) * 2
    fut = a.compute(x, workers=[second], priority=1)
    np.testing.assert_array_equal(fut.result(), base * 2)
    holders = a.who_has()
    assert all(holders[str(b.key)] == (second,) for b in fut._blocks)
    held = a.persist(x + 1, workers=name)
    np.testing.assert_array_equal(held.compute(scheduler=a), base * 2 + 1)
    assert set(a.has_what([name])[second]) >= {str(b.key) for b in held._held}
    with pytest.raises(TypeError, match="compute: priority"):
        a.compute(x, priority=1.5)  # type: ignore[arg-type]


def _work_in_a_task(i: int, q: Queue, v: Variable, lock: Lock, done: Event) -> Any:
    """A task that uses handles passed to it: they reach the scheduler
    through the worker's own client."""
    from blockwork.distributed import get_client

    with lock:
        q.put(i * 10)
    done.set()
    return v.get(timeout=30), get_client().scheduler_address


def test_handles_passed_to_tasks_work_inside_them(clients: tuple[Client, Client]) -> None:
    from blockwork.distributed import get_client

    a, _ = clients
    q, v = Queue("from-tasks", client=a), Variable("for-tasks", client=a)
    lock, done = Lock("in-tasks", client=a), Event("tasks-go", client=a)
    v.set("hello")
    fs = a.map(_work_in_a_task, range(3), q=q, v=v, lock=lock, done=done, pure=False)
    assert a.gather(fs) == [("hello", a.scheduler_address)] * 3
    assert sorted(q.get(batch=3, timeout=30)) == [0, 10, 20]
    assert done.is_set()
    with config.set(scheduler="threads"), pytest.raises(ValueError, match="no client"):
        get_client()
    with config.set(scheduler=a):
        assert get_client() is a


def _hold(started: Queue, gate: Event) -> bool:
    """A task that says it started, then holds its thread until the gate opens."""
    started.put(1)
    return gate.wait(timeout=30)


def test_run_and_replicate_reach_every_worker(clients: tuple[Client, Client]) -> None:
    a, _ = clients
    import os

    out = a.run(os.getpid)
    assert set(out) == set(a.scheduler_info()["workers"])
    assert len(set(out.values())) == 2, "each worker is its own process"
    # Every task thread busy: run still answers, beside the tasks.
    started, gate = Queue("run-started", client=a), Event("run-gate", client=a)
    blockers = [a.submit(_hold, started, gate, workers=[w], pure=False) for w in sorted(a.scheduler_info()["workers"])]
    started.get(batch=2, timeout=30)
    assert a.run(os.getpid) == out
    # A run reaches the scheduler as a task does.
    Variable("for-run", client=a).set("seen")
    assert set(a.run(lambda v: v.get(timeout=10), Variable("for-run", client=a)).values()) == {"seen"}
    gate.set()
    assert a.gather(blockers) == [True, True]
    one = next(iter(out))
    assert a.run(lambda x: x + 1, 41, workers=[one]) == {one: 42}
    with pytest.raises(ValueError, match="no running worker"):
        a.run(os.getpid, workers=["tcp://10.9.9.9:1"])
    fs = a.map(lambda i: np.full(10, i), range(4))
    a.replicate(fs)
    assert all(len(ws) == 2 for ws in a.who_has(fs).values())
    with pytest.raises(ValueError, match="n must be"):
        a.replicate(fs, n=0)


def test_restart_cancels_every_future() -> None:
    from concurrent.futures import CancelledError

    with LocalCluster(n_workers=1, threads_per_worker=1) as cluster:
        a, b = Client(cluster, set_as_default=False), Client(cluster, set_as_default=False)
        fs = a.map(lambda i: i + 1, range(5))
        assert a.gather(fs) == [1, 2, 3, 4, 5]
        Variable("keep", client=a).set(fs[0])
        Variable("plain", client=a).set("stays")
        assert b.restart() is b
        with pytest.raises(CancelledError):
            fs[0].result()
        assert a.scheduler_info()["tasks"] == 0
        with pytest.raises(TimeoutError):
            Variable("keep", client=b).get(timeout=0.1)
        assert Variable("plain", client=b).get() == "stays"
        assert a.submit(lambda: 42, pure=False).result() == 42
        a.close()
        b.close()


def test_rebalance_evens_out_the_workers() -> None:
    with LocalCluster(n_workers=1, threads_per_worker=1) as cluster:
        c = Client(cluster, set_as_default=False)
        fs = c.map(lambda i: np.zeros(i * 5000), range(1, 9))
        c.gather(fs)
        cluster.scale(2)
        c.rebalance(fs)
        held = [w["nbytes"] for w in c.scheduler_info()["workers"].values()]
        mean = sum(held) / 2
        assert len(held) == 2 and all(abs(b - mean) <= mean / 5 for b in held), held
        assert all(len(ws) == 1 for ws in c.who_has(fs).values())
        assert [len(x) for x in c.gather(fs)] == [i * 5000 for i in range(1, 9)]
        c.close()
