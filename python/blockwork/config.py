"""Configuration: which scheduler `compute` uses, as `dask.config`.

    import blockwork
    with blockwork.config.set(scheduler="sync"):
        x.sum().compute()          # on the calling thread
    blockwork.config.set(scheduler="threads", num_workers=4)   # from now on

Schedulers: "threads" (the default: a pool of one thread per core, or
`num_workers`), "sync" (also "synchronous", "single-threaded": the
calling thread, for debugging), and a `blockwork.distributed.Client` (a
new client sets itself). With a client, `compute` of arrays and delayed
values runs on its cluster; what has no cluster form yet (the sizes of a
boolean-mask selection, Dask graphs through `blockwork.get`) runs on local
threads.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any

_SCHEDULERS = ("threads", "threading", "sync", "synchronous", "single-threaded")
_DEFAULTS: dict[str, Any] = {"scheduler": "threads", "num_workers": 0}
# The process-wide configuration, as dask.config's: `set` changes it, and
# leaving a `with set(...)` block restores what was there before.
_config: dict[str, Any] = dict(_DEFAULTS)
_lock = threading.Lock()


def _current() -> dict[str, Any]:
    return _config


class set:
    """Sets configuration values for the whole process; as a context
    manager, only until the block ends."""

    def __init__(self, scheduler: str | None = None, num_workers: int | None = None, **other: Any) -> None:
        new: dict[str, Any] = {}
        if scheduler is not None:
            if not _is_client(scheduler) and (not isinstance(scheduler, str) or scheduler not in _SCHEDULERS):
                raise ValueError(
                    f"unknown scheduler {scheduler!r}: use one of {', '.join(_SCHEDULERS)} or a blockwork Client"
                )
            new["scheduler"] = scheduler
        if num_workers is not None:
            if not isinstance(num_workers, int) or num_workers < 0:
                raise ValueError(f"num_workers must be a non-negative int, got {num_workers!r}")
            new["num_workers"] = num_workers
        new.update(other)
        with _lock:
            self._previous = {k: _config[k] for k in new if k in _config}
            self._added = [k for k in new if k not in _config]
            _config.update(new)

    def __enter__(self) -> set:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        with _lock:
            _config.update(self._previous)
            for k in self._added:
                _config.pop(k, None)


def get(key: str, default: Any = None) -> Any:
    """A configuration value."""
    return _current().get(key, default)


# The engine callbacks of active diagnostics (blockwork.diagnostics).
callbacks: list[Any] = []


def _is_client(x: Any) -> bool:
    # No client exists until blockwork.distributed is imported: a local
    # compute does not import it (nor cloudpickle) just to ask.
    module = sys.modules.get("blockwork.distributed")
    return module is not None and isinstance(x, module.Client)


def client(scheduler: Any = None) -> Any:
    """The client a call computes with: `scheduler` if it is one, else the
    configured scheduler if it is one (and no local scheduler was named), else None."""
    if scheduler is not None:
        return scheduler if _is_client(scheduler) else None
    configured = _current()["scheduler"]
    return configured if _is_client(configured) else None


def scheduler(scheduler: str | None = None, num_workers: int | None = None) -> tuple[str, int, list[Any]]:
    """The local scheduler a call uses (its own arguments, else the
    configured ones; local threads when the configured one is a client)
    and the active diagnostics."""
    name = scheduler if scheduler is not None else _current()["scheduler"]
    if _is_client(name):
        name = "threads"
    if name not in _SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}: use one of {', '.join(_SCHEDULERS)}")
    workers = num_workers if num_workers is not None else _current()["num_workers"]
    return name, int(workers), list(callbacks)
