"""Coordination primitives shared by every client of a cluster, as
dask.distributed's: `Variable`, `Queue`, `Lock`, `Event`, `Semaphore`.

    from blockwork.distributed import Client, Lock, Queue, Variable
    client = Client()
    with Lock("ingest"):
        Variable("stage").set("loading")
    q = Queue("jobs")
    q.put(client.submit(load, path))       # a future: its result is kept
    q.get().result()

The scheduler holds them, so they outlive any worker. A lock or lease
belongs to the handle that took it and passes on when its client closes. A
variable or queue may hold a `Future`: its result stays on the cluster
while it is held there (recomputed if the worker holding it is lost), and
whoever reads it gets a future of its own. Other values travel pickled.

Each takes ``client=`` (else the default client: the last `Client` made
with ``set_as_default``; inside a task on a worker, that worker's client
of its scheduler, as ``get_client()`` gives it) and a ``name`` (else a
fresh one). A handle pickles as its name and kind, and is made again where
it is unpickled: a handle passed to a task works inside it.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any

import cloudpickle

from blockwork import _core, config

if TYPE_CHECKING:
    from blockwork.distributed import Client

__all__ = ["Event", "Lock", "Queue", "Semaphore", "Variable"]


def _client(client: Client | None, what: str) -> Client:
    from blockwork.distributed import Client, _in_worker

    if client is None:
        scheduler = config.get("scheduler")
        client = scheduler if isinstance(scheduler, Client) else _in_worker()
    if client is None:
        raise RuntimeError(f"{what}: no client; make one with Client(...) or pass client=")
    if not isinstance(client, Client):
        raise TypeError(f"{what}: client= takes a blockwork Client, not {type(client).__name__}")
    return client


def _name(name: str | None, kind: str) -> str:
    if name is None:
        return f"{kind}-{uuid.uuid4().hex}"
    if not isinstance(name, str):
        raise TypeError(f"a {kind} is named by a str, not {type(name).__name__}")
    return name


def _timeout(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    t = float(timeout)
    if t < 0:
        raise ValueError(f"timeout must be a non-negative number of seconds or None, not {timeout}")
    return t


def _stored(value: Any) -> Any:
    from blockwork.distributed import Future

    return value._f if isinstance(value, Future) else cloudpickle.dumps(value)


def _loaded(item: Any, client: Client) -> Any:
    from blockwork.distributed import Future

    if isinstance(item, bytes):
        return cloudpickle.loads(item)
    return Future(item, client)


class Variable:
    """A named value every client of the cluster can set and read, as
    ``distributed.Variable``; it may hold a Future."""

    def __init__(self, name: str | None = None, client: Client | None = None) -> None:
        self.name = _name(name, "variable")
        self.client = _client(client, "Variable")
        self._v = _core.Variable(self.client._c, self.name)

    def set(self, value: Any) -> None:
        """Sets it to `value` (a Future keeps its result on the cluster),
        waking whoever waits in `get`."""
        self._v.set(_stored(value))

    def get(self, timeout: float | None = None) -> Any:
        """Its value (a Future stays a Future), waiting until it is set;
        `TimeoutError` after `timeout` seconds."""
        return _loaded(self._v.get(_timeout(timeout)), self.client)

    def delete(self) -> None:
        """Unsets it."""
        self._v.delete()

    def __reduce__(self) -> tuple[Any, ...]:
        return (Variable, (self.name,))

    def __repr__(self) -> str:
        return f"<Variable: {self.name}>"


class Queue:
    """A named first-in first-out queue shared by every client of the
    cluster, as ``distributed.Queue``; items may be Futures. With a
    `maxsize` (the first user's bound holds), `put` waits while it is full."""

    def __init__(self, name: str | None = None, client: Client | None = None, maxsize: int = 0) -> None:
        if int(maxsize) < 0:
            raise ValueError(f"Queue maxsize must be 0 (unbounded) or more, not {maxsize}")
        self.name = _name(name, "queue")
        self.client = _client(client, "Queue")
        self.maxsize = int(maxsize)
        self._q = _core.Queue(self.client._c, self.name, self.maxsize)

    def put(self, value: Any, timeout: float | None = None) -> None:
        """Appends `value`, waiting while the queue is full; `TimeoutError`
        after `timeout` seconds."""
        self._q.put(_stored(value), _timeout(timeout))

    def get(self, timeout: float | None = None, batch: bool | int = False) -> Any:
        """The first item, waiting for one; with ``batch=True`` every item
        there is now (a list, without waiting); with ``batch=n`` a list of
        `n` items, waiting for them. `TimeoutError` after `timeout` seconds."""
        if batch is True:
            items = self._q.get(0, None)
            return [_loaded(i, self.client) for i in items]
        if batch is False:
            return _loaded(self._q.get(1, _timeout(timeout))[0], self.client)
        n = int(batch)
        if n < 0:
            raise ValueError(f"Queue.get batch must be True, False or a count, not {batch}")
        if n == 0:
            return []
        return [_loaded(i, self.client) for i in self._q.get(n, _timeout(timeout))]

    def qsize(self) -> int:
        """How many items it holds."""
        return int(self._q.qsize())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Queue, (self.name, None, self.maxsize))

    def __repr__(self) -> str:
        return f"<Queue: {self.name}>"


class Lock:
    """A named lock of the cluster, as ``distributed.Lock``: handles exclude
    each other (within one client too); a context manager."""

    def __init__(self, name: str | None = None, client: Client | None = None) -> None:
        self.name = _name(name, "lock")
        self.client = _client(client, "Lock")
        self._l = _core.Lock(self.client._c, self.name)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Takes it, waiting while another handle holds it (not at all when
        not `blocking`; at most `timeout` seconds); whether it was taken."""
        if timeout is not None and float(timeout) < 0:
            timeout = None
        return bool(self._l.acquire(0.0 if not blocking else _timeout(timeout)))

    def release(self) -> None:
        """Lets go of it; `ValueError` if this handle does not hold it."""
        self._l.release()

    def locked(self) -> bool:
        """Whether any handle holds it."""
        return bool(self._l.locked())

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def __reduce__(self) -> tuple[Any, ...]:
        return (Lock, (self.name,))

    def __repr__(self) -> str:
        return f"<Lock: {self.name}>"


class Event:
    """A named flag of the cluster, as ``distributed.Event``."""

    def __init__(self, name: str | None = None, client: Client | None = None) -> None:
        self.name = _name(name, "event")
        self.client = _client(client, "Event")
        self._e = _core.Event(self.client._c, self.name)

    def set(self) -> None:
        """Sets it, waking every waiter."""
        self._e.set()

    def clear(self) -> None:
        """Clears it."""
        self._e.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until it is set, at most `timeout` seconds; whether it was."""
        return bool(self._e.wait(_timeout(timeout)))

    def is_set(self) -> bool:
        """Whether it is set."""
        return bool(self._e.is_set())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Event, (self.name,))

    def __repr__(self) -> str:
        return f"<Event: {self.name}>"


class Semaphore:
    """A named semaphore of the cluster, as ``distributed.Semaphore``: at
    most `max_leases` leases taken at once; a context manager."""

    def __init__(self, max_leases: int = 1, name: str | None = None, client: Client | None = None) -> None:
        if int(max_leases) < 1:
            raise ValueError(f"Semaphore max_leases must be 1 or more, not {max_leases}")
        self.max_leases = int(max_leases)
        self.name = _name(name, "semaphore")
        self.client = _client(client, "Semaphore")
        self._s = _core.Semaphore(self.client._c, self.name, self.max_leases)

    def acquire(self, timeout: float | None = None) -> bool:
        """Takes a lease, waiting at most `timeout` seconds; whether one was taken."""
        return bool(self._s.acquire(_timeout(timeout)))

    def release(self) -> bool:
        """Returns a lease this handle took; `ValueError` if it holds none."""
        self._s.release()
        return True

    def get_value(self) -> int:
        """How many leases are taken."""
        return int(self._s.leases())

    def __enter__(self) -> Semaphore:
        self.acquire()
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def __reduce__(self) -> tuple[Any, ...]:
        return (Semaphore, (self.max_leases, self.name))

    def __repr__(self) -> str:
        return f"<Semaphore: {self.name}, {self.max_leases} leases>"
