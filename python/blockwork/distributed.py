"""blockwork's distributed scheduler from Python, with dask.distributed's API.

    from blockwork.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))
    future = client.submit(pow, 2, 10)
    future.result()                      # 1024
    x.sum().compute()                    # blockwork arrays now run on the cluster

`Client(address)` connects to a running scheduler (`blockwork scheduler`,
or another process's `LocalCluster`); `Client()` starts a `LocalCluster`.
A new client becomes the default scheduler of `compute` (as in Dask) until
it is closed; `blockwork.config.set(scheduler=client)` does so for a block.

Array tasks run natively on any worker. Python callables (`submit`, `map`,
`delayed`) are pickled with cloudpickle and run on workers started from
this package (`python -m blockwork worker tcp://HOST:PORT`, or the workers
a `LocalCluster` starts), which host an interpreter; a worker without one
(`blockwork worker`) fails such a task with an error that says so. Values
travel pickled, results come back pickled, and the scheduler never runs
Python.

`map_blocks` and `map_overlap` functions go pickled too, and the blocks of
`from_array` travel in the graph. `persist` keeps an array's blocks on the
workers: while the persisted array lives, what this client computes from it
starts from those blocks.

`Variable`, `Queue`, `Lock`, `Event` and `Semaphore` (from
`blockwork.coordination`) are held by the scheduler and shared by every
client; variables and queues may hold futures.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, NamedTuple

import cloudpickle
import numpy as np

from blockwork import _core, config
from blockwork._names import funcname as _funcname
from blockwork.coordination import Event, Lock, Queue, Semaphore, Variable

__all__ = [
    "Client",
    "Event",
    "Future",
    "LocalCluster",
    "Lock",
    "Queue",
    "Semaphore",
    "Variable",
    "as_completed",
    "get_client",
    "performance_report",
    "wait",
]


_NO_DEFAULT: Any = object()


class LocalCluster:
    """A scheduler in this process and worker processes on this machine
    (`python -m blockwork worker`), as `distributed.LocalCluster`.

    `memory_limit` is per worker: bytes, or a string like "2GiB"; None for
    no limit. The scheduler serves its dashboard and HTTP API on
    `dashboard_address` (`":8787"`: that port on `host`, or another one
    when it is taken; None: none); `dashboard_link` says where.
    """

    def __init__(
        self,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        memory_limit: int | str | None = None,
        host: str = "127.0.0.1",
        scheduler_port: int = 0,
        dashboard_address: str | None = ":8787",
    ) -> None:
        if n_workers is None:
            n_workers = max(1, (os.cpu_count() or 1) // threads_per_worker)
        if not isinstance(n_workers, int) or n_workers < 0:
            raise ValueError(f"n_workers must be a non-negative int, got {n_workers!r}")
        if not isinstance(threads_per_worker, int) or threads_per_worker < 1:
            raise ValueError(f"threads_per_worker must be a positive int, got {threads_per_worker!r}")
        self.threads_per_worker = threads_per_worker
        self.memory_limit = memory_limit
        if dashboard_address is not None and dashboard_address.startswith(":"):
            dashboard_address = host + dashboard_address
        self._scheduler: Any = _core.Scheduler(f"{host}:{scheduler_port}", dashboard_address)
        self.scheduler_address: str = self._scheduler.address
        self._workers: list[tuple[str, subprocess.Popen[str]]] = []
        self._started = 0
        # Workers stop before the scheduler, also when the cluster is only
        # garbage-collected or the interpreter exits.
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self._scheduler)
        try:
            self.scale(n_workers)
        except BaseException:
            self.close()
            raise

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard's address (``http://host:port/status``), if it serves one."""
        link: str | None = self._scheduler.dashboard_link
        return link

    @property
    def workers(self) -> list[str]:
        """The names of the running workers, oldest first."""
        return [name for name, _ in self._workers]

    def scale(self, n: int) -> None:
        """Starts or stops workers (the newest first) until `n` run."""
        while len(self._workers) > n:
            _, proc = self._workers.pop()
            _stop(proc)
        while len(self._workers) < n:
            self._workers.append(self._start_worker())

    def _start_worker(self) -> tuple[str, subprocess.Popen[str]]:
        name = f"worker-{self._started}"
        self._started += 1
        args = [sys.executable, "-m", "blockwork", "worker", self.scheduler_address]
        args += ["--nthreads", str(self.threads_per_worker), "--name", name]
        if self.memory_limit is not None:
            args += ["--memory-limit", str(self.memory_limit)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        # Its first line says it joined the scheduler.
        line = proc.stdout.readline()
        if not line.startswith("worker "):
            code = proc.wait()
            raise RuntimeError(f"worker {name} did not start (exit code {code}): {line.strip()!r}")
        return name, proc

    def close(self) -> None:
        """Stops the workers, then the scheduler."""
        self._finalizer()

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"LocalCluster({self.scheduler_address!r}, workers={len(self._workers)}, "
            f"threads_per_worker={self.threads_per_worker})"
        )


def _shutdown(workers: list[tuple[str, subprocess.Popen[str]]], scheduler: Any) -> None:
    for _, proc in workers:
        proc.terminate()
    for _, proc in workers:
        _stop(proc)
    workers.clear()
    scheduler.close()


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


class Future:
    """A task's result on the cluster, as `distributed.Future`."""

    __slots__ = ("_f", "client")

    def __init__(self, f: Any, client: Client) -> None:
        self._f = f
        self.client = client

    @property
    def key(self) -> str:
        """The task's key."""
        return str(self._f.key)

    @property
    def status(self) -> str:
        """ "pending", "finished", "error" or "cancelled"."""
        return str(self._f.status)

    def done(self) -> bool:
        """Whether it finished, failed or was cancelled."""
        return bool(self._f.done())

    def result(self, timeout: float | None = None) -> Any:
        """Its value (waiting at most `timeout` seconds); a failed task's exception is raised again."""
        return self._f.result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The exception of a failed task, else None."""
        return self._f.exception(timeout)  # type: ignore[no-any-return]

    def cancel(self) -> None:
        """Cancels it."""
        self._f.cancel()

    def cancelled(self) -> bool:
        """Whether it was cancelled."""
        return self.status == "cancelled"

    def __repr__(self) -> str:
        return f"<Future: {self.status}, key: {self.key}>"


class CollectionFuture:
    """A collection being computed on the cluster: its blocks' (or
    partitions') futures, assembled here by `result()`."""

    __slots__ = ("_blocks", "client")

    def __init__(self, blocks: list[Any], client: Client) -> None:
        self._blocks, self.client = blocks, client

    @property
    def key(self) -> str:
        """The key of its first block."""
        return str(self._blocks[0].key) if self._blocks else ""

    @property
    def status(self) -> str:
        """ "error" or "cancelled" if a block is, else "finished" when all are, else "pending"."""
        states = {b.status for b in self._blocks}
        for s in ("error", "cancelled", "pending"):
            if s in states:
                return s
        return "finished"

    def done(self) -> bool:
        """Whether every block is done."""
        return all(b.done() for b in self._blocks)

    def result(self, timeout: float | None = None) -> Any:
        raise NotImplementedError

    def cancel(self) -> None:
        """Cancels its blocks."""
        self.client._c.cancel(self._blocks)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.status}, {len(self._blocks)} blocks>"


class ArrayFuture(CollectionFuture):
    """A blockwork array being computed on the cluster, assembled into a
    NumPy array by `result()`."""

    __slots__ = ("_a",)

    def __init__(self, a: Any, blocks: list[Any], client: Client) -> None:
        super().__init__(blocks, client)
        self._a = a

    def result(self, timeout: float | None = None) -> Any:
        """The array, assembled from its blocks (a NumPy scalar for 0-d)."""
        out = np.asarray(self.client._c.gather_array(self._a, self._blocks, timeout))
        return out[()] if out.ndim == 0 else out


class FrameFuture(CollectionFuture):
    """A blockwork dataframe, series or scalar being computed on the
    cluster, assembled into a pandas one (a NumPy scalar) by `result()`."""

    __slots__ = ("_held",)

    def __init__(self, held: Any, client: Client) -> None:
        super().__init__(list(held._held), client)
        self._held = held

    def result(self, timeout: float | None = None) -> Any:
        """The frame (or series), from the partitions the cluster holds."""
        _, pending = self.client._c.wait(self._blocks, timeout)
        if pending:
            raise TimeoutError(f"{self!r}: not done after {timeout} s")
        return self._held.compute(scheduler=self.client)


class Client:
    """A connection to a blockwork scheduler, as `distributed.Client`.

    `Client(address)` connects to `tcp://HOST:PORT`; `Client(cluster)` to a
    `LocalCluster` or any cluster with a `scheduler_address` (those of
    `blockwork.jobqueue`); `Client()` starts a `LocalCluster(**cluster_kwargs)`
    that it closes with itself. With `set_as_default` (the default) it is
    the scheduler of every `compute` until it is closed.
    """

    def __init__(
        self,
        address: str | LocalCluster | Any | None = None,
        set_as_default: bool = True,
        **cluster_kwargs: Any,
    ) -> None:
        self.cluster: Any = None
        self._owns_cluster = False
        if address is None:
            self.cluster = LocalCluster(**cluster_kwargs)
            self._owns_cluster = True
            address = self.cluster.scheduler_address
        elif not isinstance(address, str) and hasattr(address, "scheduler_address"):
            self.cluster = address
            address = address.scheduler_address
        self._c: Any = _core.Client(address)
        self._default: config.set | None = config.set(scheduler=self) if set_as_default else None

    @classmethod
    def _of(cls, core: Any) -> Client:
        """A client around a connected `_core.Client`, not the default."""
        client = cls.__new__(cls)
        client.cluster, client._owns_cluster, client._c, client._default = None, False, core, None
        return client

    @property
    def scheduler_address(self) -> str:
        """The scheduler's address."""
        return str(self._c.address)

    # -- collections ------------------------------------------------------

    def compute(
        self,
        collections: Any,
        sync: bool = False,
        workers: str | Iterable[str] | None = None,
        allow_other_workers: bool = False,
        priority: int = 0,
    ) -> Any:
        """Starts computing arrays, dataframes, bags and delayed values (one
        or a list); returns futures of their results (a bag's: the list of
        its items), or with `sync` the results. `workers`,
        `allow_other_workers` and `priority` place their tasks as `submit`
        places one."""
        from blockwork.array.core import Array
        from blockwork.delayed import Delayed

        place = _placement(workers, allow_other_workers, priority, "compute")
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        bags = sys.modules.get("blockwork.bag")
        if bags is not None:
            # A bag's future holds the list of its items; an item's, its value.
            items = [bags.as_delayed(x) if isinstance(x, (bags.Bag, bags.Item)) else x for x in items]
        out: list[Any] = []
        lazy = [x for x in items if isinstance(x, Delayed)]
        futures = iter(self._persist_delayed(lazy, place) if lazy else [])
        for x in items:
            if isinstance(x, Array):
                out.append(ArrayFuture(x._a, self._c.persist(x._a, *place), self))
            elif isinstance(x, Delayed):
                out.append(next(futures))
            elif _is_frame(x):
                out.append(FrameFuture(self._persist_one(x, Array, Delayed, place), self))
            else:
                out.append(x)
        if sync:
            out = [x.result() if isinstance(x, (Future, CollectionFuture)) else x for x in out]
        return out[0] if single else out

    def persist(
        self,
        collections: Any,
        workers: str | Iterable[str] | None = None,
        allow_other_workers: bool = False,
        priority: int = 0,
    ) -> Any:
        """Starts computing arrays, dataframes, bags and delayed values (one
        or a list) on the cluster and keeps their results there: an array,
        frame or bag comes back as one whose blocks the cluster holds (what
        this client computes from it reuses them), a delayed value as a
        future.
        `workers`, `allow_other_workers` and `priority` place their tasks as
        `submit` places one."""
        from blockwork.array.core import Array
        from blockwork.delayed import Delayed

        place = _placement(workers, allow_other_workers, priority, "persist")
        single = not isinstance(collections, (list, tuple))
        items = [collections] if single else list(collections)
        out = [self._persist_one(x, Array, Delayed, place) for x in items]
        return out[0] if single else out

    def _persist_one(self, x: Any, array_type: type, delayed_type: type, place: _Placement) -> Any:
        if isinstance(x, array_type):
            return array_type(x._a, held=self._c.persist(x._a, *place))
        if isinstance(x, delayed_type):
            return self._persist_delayed([x], place)[0]
        if _is_frame(x):
            return x._held_on(lambda frame: self._c.persist(frame, *place))
        bags = sys.modules.get("blockwork.bag")
        if bags is not None and isinstance(x, bags.Bag):
            # The same partitions, their results held by the cluster as long
            # as the new bag lives: graphs built on it reuse them.
            held = bags.Bag(x.to_delayed())
            held._held = self._persist_delayed(x.to_delayed(), place)
            return held
        return x

    def _compute_arrays(self, arrays: list[Any]) -> list[np.ndarray]:
        return [np.asarray(b) for b in self._c.compute_arrays([a._a for a in arrays])]

    def _compute_frame(self, frame: Any) -> list[Any]:
        return list(self._c.compute_frame(frame))

    def _compute_delayed(self, outputs: list[Any]) -> list[Any]:
        return list(self._c.compute_tasks(_delayed_graph(outputs, self)))

    def _persist_delayed(self, outputs: list[Any], place: _Placement = ([], False, 0)) -> list[Future]:
        return [Future(f, self) for f in self._c.persist_tasks(_delayed_graph(outputs, self), *place)]

    # -- futures ----------------------------------------------------------

    def submit(
        self,
        func: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        pure: bool = True,
        retries: int = 0,
        workers: str | Iterable[str] | None = None,
        allow_other_workers: bool = False,
        priority: int = 0,
        **kwargs: Any,
    ) -> Future:
        """Runs `func(*args, **kwargs)` on a worker; futures among the
        arguments (also inside lists, tuples and dicts) are replaced by
        their results. With `pure` (the default) equal calls share a key.
        `workers` (addresses or names) restricts where it runs (it waits
        for one of them; with `allow_other_workers`, anywhere while none
        runs); a higher `priority` runs before lower work submitted
        earlier."""
        if not callable(func):
            raise TypeError(f"submit needs a callable, got {type(func).__name__}")
        restrict, allow, priority = _placement(workers, allow_other_workers, priority, "submit")
        deps: list[Any] = []
        template = _extract_futures((args, kwargs), deps)
        call = functools.partial(_call_with, func, template) if deps or args or kwargs else func
        payload = cloudpickle.dumps(call)
        if key is None:
            key = f"{_funcname(func)}-{_token(payload, deps) if pure else uuid.uuid4().hex}"
        f = self._c.submit(key, payload, [d._f for d in deps], retries, restrict, allow, priority)
        return Future(f, self)

    def map(
        self,
        func: Callable[..., Any],
        *iterables: Iterable[Any],
        key: str | list[str] | None = None,
        pure: bool = True,
        retries: int = 0,
        workers: str | Iterable[str] | None = None,
        allow_other_workers: bool = False,
        priority: int = 0,
        **kwargs: Any,
    ) -> list[Future]:
        """`submit` for each element (of several iterables, zipped)."""
        kwargs.update(workers=workers, allow_other_workers=allow_other_workers, priority=priority)
        calls = list(zip(*iterables, strict=False))
        keys: list[str | None] = list(key) if isinstance(key, list) else [None] * len(calls)
        if isinstance(key, str):
            keys = [f"{key}-{i}" for i in range(len(calls))]
        return [
            self.submit(func, *a, key=k, pure=pure, retries=retries, **kwargs) for a, k in zip(calls, keys, strict=True)
        ]

    def scatter(self, data: Any) -> Any:
        """Sends data to the workers: a list (or tuple) or dict of values gives
        the same shape of futures, another value one future."""
        if isinstance(data, dict):
            fs = self._c.scatter([cloudpickle.dumps(v) for v in data.values()])
            return {k: Future(f, self) for k, f in zip(data, fs, strict=True)}
        if isinstance(data, (list, tuple)):
            fs = self._c.scatter([cloudpickle.dumps(v) for v in data])
            return type(data)(Future(f, self) for f in fs)
        return Future(self._c.scatter([cloudpickle.dumps(data)])[0], self)

    def gather(self, futures: Any, timeout: float | None = None) -> Any:
        """The results of futures, in the same structure (lists, tuples, dicts)."""
        found: list[Any] = []
        template = _extract_futures(futures, found)
        arrays = [f for f in found if isinstance(f, CollectionFuture)]
        plain = [f for f in found if isinstance(f, Future)]
        values = dict(zip((id(f) for f in plain), self._c.gather([f._f for f in plain], timeout), strict=True))
        values.update({id(a): a.result(timeout) for a in arrays})
        return _substitute(template, [values[id(f)] for f in found])

    def cancel(self, futures: Any, force: bool = False) -> None:
        """Cancels futures (with `force`, for every client)."""
        found: list[Any] = []
        _extract_futures(futures, found)
        self._c.cancel([f._f for f in found if isinstance(f, Future)], force)
        for a in found:
            if isinstance(a, CollectionFuture):
                a.cancel()

    # -- published datasets -----------------------------------------------

    def publish_dataset(self, *args: Any, override: bool = False, **kwargs: Any) -> None:
        """Publishes named data for every client of the cluster, as
        ``distributed.Client.publish_dataset``: ``publish_dataset(x=futures)``
        (any structure of futures and picklable values). The futures'
        results stay on the cluster until unpublished; a taken name is
        refused unless `override`. Collections are published by computing
        or persisting them into futures first."""
        if args:
            raise TypeError("publish_dataset: name each dataset, as publish_dataset(name=data)")
        for name, data in kwargs.items():
            found: list[Any] = []
            template = _extract_futures(data, found)
            if any(isinstance(f, CollectionFuture) for f in found):
                raise TypeError(
                    f"publish_dataset: {name!r} holds a collection being computed; publish its result, "
                    "or futures of its blocks"
                )
            try:
                meta = cloudpickle.dumps(template)
            except Exception as e:
                raise TypeError(f"publish_dataset: {name!r} cannot be pickled: {e}") from e
            self._c.publish_dataset(name, [f._f for f in found], meta, bool(override))

    def get_dataset(self, name: str, default: Any = _NO_DEFAULT) -> Any:
        """The data published as `name`, its futures this client's own
        (`default`, if given, when there is none; else ``KeyError``)."""
        try:
            meta, fs = self._c.get_dataset(name)
        except ValueError as e:
            if "no dataset" not in str(e):
                raise
            if default is not _NO_DEFAULT:
                return default
            raise KeyError(str(e)) from None
        return _substitute(cloudpickle.loads(meta), [Future(f, self) for f in fs])

    def unpublish_dataset(self, name: str) -> None:
        """Withdraws the dataset `name` (``KeyError`` if there is none)."""
        try:
            self._c.unpublish_dataset(name)
        except ValueError as e:
            raise KeyError(str(e)) from None

    def list_datasets(self) -> tuple[str, ...]:
        """The names of the published datasets, sorted."""
        return tuple(self._c.list_datasets())

    # -- the workers --------------------------------------------------------

    def run(
        self, function: Callable[..., Any], *args: Any, workers: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Runs ``function(*args, **kwargs)`` once on every worker (or on
        `workers`, by address or name), as ``distributed.Client.run``:
        returns ``{address: result}``; a failure raises. The client asks
        each worker directly, and the worker calls it at once on a thread of
        its own, beside its tasks (a busy worker answers too)."""
        if not callable(function):
            raise TypeError(f"run needs a callable, got {type(function).__name__}")
        call = functools.partial(function, *args, **kwargs) if args or kwargs else function
        names = [] if workers is None else _workers_arg(workers)
        if workers is not None and not names:
            raise ValueError("run: workers= names no worker")
        pairs = self._c.run_on_workers(cloudpickle.dumps(call), names)
        return {f"tcp://{address}": value for address, value in pairs}

    def replicate(self, futures: Any, n: int | None = None) -> None:
        """Copies the futures' results onto `n` workers (every worker when
        None), as ``distributed.Client.replicate``: the workers holding the
        fewest bytes take the copies; returns once they are there."""
        found: list[Any] = []
        _extract_futures(futures, found)
        if n is not None and int(n) < 1:
            raise ValueError(f"replicate: n must be 1 or more, not {n}")
        self._c.replicate([f._f for f in found if isinstance(f, Future)], None if n is None else int(n))

    def rebalance(self, futures: Any = None, workers: list[str] | None = None) -> None:
        """Moves results so the workers hold about equal bytes, as
        ``distributed.Client.rebalance``: from the fullest worker, results
        only it holds go to the emptiest, until each is within a tenth of
        the mean; only `futures` (all when None) among `workers` (by address
        or name; all when None). Returns once the moves are done."""
        keys: list[str] = []
        if futures is not None:
            found: list[Any] = []
            _extract_futures(futures, found)
            keys = [f.key for f in found if isinstance(f, Future)]
            if not keys:
                return
        self._c.rebalance(keys, _workers_arg(workers))

    def restart(self) -> Client:
        """Resets the cluster, as ``distributed.Client.restart`` does for its
        state: every client's futures are cancelled, running tasks stop and
        every result is freed (futures in variables, queues and datasets
        too). The worker processes are not restarted: memory their Python
        code leaked stays leaked."""
        self._c.restart()
        return self

    # -- the cluster's state ----------------------------------------------

    def who_has(self, futures: Any = None) -> dict[str, tuple[str, ...]]:
        """The workers (``tcp://`` addresses) holding each future's result, by
        key, as ``distributed.Client.who_has``; every result in memory when
        no futures are given."""
        keys: list[str] = []
        if futures is not None:
            found: list[Any] = []
            _extract_futures(futures, found)
            keys = [f.key for f in found if isinstance(f, Future)]
        return {k: tuple(f"tcp://{w}" for w in ws) for k, ws in self._c.who_has(keys)}

    def has_what(self, workers: list[str] | None = None) -> dict[str, tuple[str, ...]]:
        """The keys each worker holds, by its ``tcp://`` address, as
        ``distributed.Client.has_what``; `workers` by address or name (all
        when None)."""
        if workers is not None and not isinstance(workers, list | tuple):
            raise TypeError(f"has_what: workers is a list of addresses or names, not {type(workers).__name__}")
        return {f"tcp://{w}": tuple(ks) for w, ks in self._c.has_what(list(workers or []))}

    def scheduler_info(self) -> dict[str, Any]:
        """The scheduler and its workers, in ``distributed.Client.scheduler_info``'s
        shape: ``{"type", "address", "tasks", "clients", "workers": {address: {...}}}``."""
        tasks, clients, rows = self._c.scheduler_info()
        workers = {f"tcp://{row[1]}": _worker_info(row) for row in rows}
        return {
            "type": "Scheduler",
            "address": self.scheduler_address,
            "tasks": tasks,
            "clients": clients,
            "workers": workers,
        }

    def retire_workers(
        self, workers: list[str] | None = None, n: int | None = None, timeout: float = 300.0
    ) -> dict[str, Any]:
        """Retires workers gracefully, as Dask's ``Client.retire_workers``.

        Each named worker (by address or name; or ``n`` of them picked by the
        scheduler: idle ones holding the least data first) gets no new task,
        the results only it holds are copied to the other workers, then it
        stops: nothing is recomputed. Returns ``{"retired": [addresses],
        "refused": {address: why}}``; a worker is refused when no other can
        take its results, and runs on.
        """
        if workers is None and n is None:
            raise TypeError("retire_workers: name the workers, or give n")
        if workers is not None and not isinstance(workers, list | tuple):
            raise TypeError(f"retire_workers: workers is a list of addresses or names, not {type(workers).__name__}")
        retired, refused = self._c.retire_workers(list(workers or []), int(n or 0), float(timeout))
        return {"retired": retired, "refused": dict(refused)}

    # -- life -------------------------------------------------------------

    def close(self) -> None:
        """Closes the connection (the scheduler forgets what this client
        wanted; its locks and leases pass on), stops being the default
        scheduler, and closes a cluster it started."""
        self._c.close()
        if self._default is not None:
            self._default.__exit__(None, None, None)
            self._default = None
        if self._owns_cluster and self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def dashboard_link(self) -> str | None:
        """The dashboard of the cluster this client started or was given, if it serves one."""
        link: str | None = getattr(self.cluster, "dashboard_link", None)
        return link

    def __repr__(self) -> str:
        return f"<Client: {self.scheduler_address!r}>"


_Placement = tuple[list[str], bool, int]


def _is_frame(x: Any) -> bool:
    """Whether `x` is a blockwork dataframe, series or scalar (without
    importing the dataframe package, which needs pyarrow, when nobody did)."""
    frames = sys.modules.get("blockwork.dataframe.core")
    return frames is not None and isinstance(x, (frames._Frameish, frames.Scalar))


_worker_client: Client | None = None
_worker_client_lock = threading.Lock()


def get_client() -> Client:
    """The client to use here, as ``distributed.get_client``: the default
    client if there is one; inside a task on a worker, a client of that
    worker's scheduler (one per worker process, made on first use, and not
    the default scheduler of ``compute`` there). A `ValueError` elsewhere."""
    scheduler = config.get("scheduler")
    if isinstance(scheduler, Client):
        return scheduler
    client = _in_worker()
    if client is None:
        raise ValueError("no client: make one with Client(...), or call get_client() inside a task on a worker")
    return client


def _in_worker() -> Client | None:
    """This worker process's client of its scheduler; None outside a worker."""
    global _worker_client
    with _worker_client_lock:
        if _worker_client is None:
            core = _core.worker_client()
            _worker_client = None if core is None else Client._of(core)
        return _worker_client


def _placement(workers: str | Iterable[str] | None, allow_other_workers: bool, priority: int, what: str) -> _Placement:
    """`workers=`, `allow_other_workers=` and `priority=` as the extension takes them."""
    if not isinstance(priority, int):
        raise TypeError(f"{what}: priority is an int, not {type(priority).__name__}")
    return _workers_arg(workers), bool(allow_other_workers), priority


def _workers_arg(workers: str | Iterable[str] | None) -> list[str]:
    """`workers=` as a list of addresses or names."""
    if workers is None:
        return []
    if isinstance(workers, str):
        return [workers]
    names = list(workers)
    if not all(isinstance(w, str) for w in names):
        raise TypeError("workers= takes an address or name, or a list of them")
    return names


def _worker_info(row: tuple[int, str, str, int, int, int, int, int, int, int, int, bool]) -> dict[str, Any]:
    """A worker's entry in `Client.scheduler_info`."""
    wid, _, name, nthreads, memory_limit, processing, keys, nbytes, managed, spilled, unmanaged, retiring = row
    return {
        "id": wid,
        "name": name,
        "nthreads": nthreads,
        "memory_limit": memory_limit,
        "processing": processing,
        "keys": keys,
        "nbytes": nbytes,
        "metrics": {"managed_bytes": managed, "spilled_bytes": spilled, "unmanaged_bytes": unmanaged},
        "status": "closing_gracefully" if retiring else "running",
    }


class DoneAndNotDoneFutures(NamedTuple):
    """What `wait` returns."""

    done: set[Future]
    not_done: set[Future]


def wait(
    fs: Future | list[Future],
    timeout: float | None = None,
    return_when: str = "ALL_COMPLETED",
) -> DoneAndNotDoneFutures:
    """Waits until all (or, with return_when="FIRST_COMPLETED", one) of the
    futures are done, or `timeout` seconds pass (then TimeoutError unless
    one is done for FIRST_COMPLETED)."""
    futures = [fs] if isinstance(fs, Future) else list(fs)
    if return_when not in ("ALL_COMPLETED", "FIRST_COMPLETED"):
        raise ValueError(f"return_when must be ALL_COMPLETED or FIRST_COMPLETED, not {return_when!r}")
    if not futures:
        return DoneAndNotDoneFutures(set(), set())
    client = futures[0].client
    first = return_when == "FIRST_COMPLETED"
    done, not_done = client._c.wait([f._f for f in futures], timeout, first)
    if timeout is not None and (not done if first else not_done):
        raise TimeoutError(f"{len(not_done)} of {len(futures)} futures not done after {timeout} s")
    return DoneAndNotDoneFutures({futures[i] for i in done}, {futures[i] for i in not_done})


class as_completed(Iterator[Any]):
    """Futures in the order they complete; with `with_results`, pairs of a
    future and its result."""

    def __init__(self, futures: Iterable[Future] = (), with_results: bool = False) -> None:
        self._futures = {id(f._f): f for f in futures}
        self._with_results = with_results
        self._it: Any = None
        self._by_key: dict[str, list[Future]] = {}
        for f in self._futures.values():
            self._by_key.setdefault(f.key, []).append(f)
        if self._futures:
            client = next(iter(self._futures.values())).client
            self._it = client._c.as_completed([f._f for f in self._futures.values()])

    def add(self, future: Future) -> None:
        """Adds a future to wait for."""
        if self._it is None:
            self._it = future.client._c.as_completed([future._f])
        else:
            self._it.add(future._f)
        self._by_key.setdefault(future.key, []).append(future)

    def __iter__(self) -> as_completed:
        return self

    def __next__(self) -> Any:
        f = self._it.next() if self._it is not None else None
        if f is None:
            raise StopIteration
        future = self._by_key[str(f.key)].pop(0)
        return (future, future.result()) if self._with_results else future


# -- helpers ------------------------------------------------------------------


def _token(payload: bytes, deps: list[Any]) -> str:
    h = hashlib.blake2b(payload, digest_size=16)
    for d in deps:
        h.update(d.key.encode())
    return h.hexdigest()


class _Slot(NamedTuple):
    """Where the `i`-th future's result goes in a template."""

    i: int


def _extract_futures(x: Any, found: list[Any]) -> Any:
    """`x` with each future (in lists, tuples, dicts) replaced by a slot
    numbering it in `found`."""
    if isinstance(x, (Future, CollectionFuture)):
        found.append(x)
        return _Slot(len(found) - 1)
    if isinstance(x, (list, tuple)) and not isinstance(x, _Slot):
        items = [_extract_futures(y, found) for y in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: _extract_futures(v, found) for k, v in x.items()}
    return x


def _substitute(x: Any, values: list[Any]) -> Any:
    if isinstance(x, _Slot):
        return values[x.i]
    if isinstance(x, (list, tuple, set, frozenset)):
        items = [_substitute(y, values) for y in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if isinstance(x, dict):
        return {k: _substitute(v, values) for k, v in x.items()}
    return x


def _call_with(func: Callable[..., Any], template: Any, *values: Any) -> Any:
    args, kwargs = _substitute(template, list(values))
    return func(*args, **kwargs)


def _delayed_task(d: Any, client: Client) -> tuple[Callable[..., Any], list[Any]]:
    """The picklable callable of a delayed value's task, and the delayed
    values whose results it takes, in order."""
    from blockwork.delayed import Delayed, _compute_array, _identity

    if d._func is None:
        return functools.partial(_identity, d._args[0]), []
    if d._func is _compute_array:
        # A blockwork array passed to a delayed function: computed on the
        # cluster, its NumPy result goes into the call.
        return functools.partial(_identity, client._compute_arrays([d._args[0]])[0]), []
    deps = list(d._deps)
    slots = {x._key: i for i, x in enumerate(deps)}

    def template(x: Any) -> Any:
        if isinstance(x, Delayed):
            return _Slot(slots[x._key])
        if isinstance(x, (list, tuple, set, frozenset)):
            return type(x)(template(y) for y in x)
        if isinstance(x, dict):
            return {k: template(v) for k, v in x.items()}
        return x

    return functools.partial(_call_with, d._func, (template(d._args), template(d._kwargs))), deps


def _delayed_graph(outputs: list[Any], client: Client) -> tuple[list[str], list[bytes], list[list[int]], list[int]]:
    """Delayed values as the engine's task lists: keys, pickled callables,
    dependency indices, and the indices of the outputs."""
    index: dict[str, int] = {}
    keys: list[str] = []
    funcs: list[bytes] = []
    deps: list[list[int]] = []
    pending: dict[str, tuple[Callable[..., Any], list[Any]]] = {}
    stack = list(reversed(outputs))
    while stack:
        d = stack[-1]
        if d._key in index:
            stack.pop()
            continue
        if d._key not in pending:
            pending[d._key] = _delayed_task(d, client)
            missing = [x for x in pending[d._key][1] if x._key not in index]
            for x in missing:
                if x._key in pending:
                    raise ValueError(f"the graph has a cycle through task {x._key!r}")
            if missing:
                stack.extend(missing)
                continue
        stack.pop()
        func, inputs = pending.pop(d._key)
        index[d._key] = len(keys)
        keys.append(d._key)
        funcs.append(cloudpickle.dumps(func))
        deps.append([index[x._key] for x in inputs])
    return keys, funcs, deps, [index[d._key] for d in outputs]


class performance_report:
    """Writes one self-contained HTML file of what the cluster did inside the
    ``with`` block, as ``dask.distributed.performance_report``: the task
    stream, compute time per key prefix, progress, the workers, their memory
    over time and the log; it opens offline.

    It reports on the cluster of ``client``, else of the default client
    (the last ``Client`` made with ``set_as_default``); that cluster's
    scheduler must serve its dashboard (``LocalCluster`` does by default).
    """

    def __init__(self, filename: str | os.PathLike[str] = "dask-report.html", client: Client | None = None) -> None:
        self.filename = filename
        self.client = client
        self._report: Any = None

    def __enter__(self) -> performance_report:
        client = self.client
        if client is None:
            scheduler = config.get("scheduler")
            client = scheduler if isinstance(scheduler, Client) else None
        if client is None:
            raise RuntimeError("performance_report: no client; make one with Client(...) or pass client=")
        link = client.dashboard_link
        if link is None:
            raise RuntimeError("performance_report: the client's cluster serves no dashboard (dashboard_address=None)")
        self._report = _core.PerformanceReport(link.removeprefix("http://").removesuffix("/status"))
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._report.finish(os.fspath(self.filename))
