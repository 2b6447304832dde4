"""Configuration: which scheduler `compute` uses, as `dask.config`.

    import blockwork
    with blockwork.config.set(scheduler="sync"):
        x.sum().compute()          # on the calling thread
    blockwork.config.set(scheduler="threads", num_workers=4)   # from now on

Schedulers: "threads" (the default: a pool of one thread per core, or
`num_workers`) and "sync" (also "synchronous", "single-threaded": the
calling thread, for debugging).
"""

from __future__ import annotations

import contextvars
from types import TracebackType
from typing import Any

_SCHEDULERS = ("threads", "threading", "sync", "synchronous", "single-threaded")
_DEFAULTS: dict[str, Any] = {"scheduler": "threads", "num_workers": 0}
_state: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("blockwork_config", default=None)


def _current() -> dict[str, Any]:
    return _state.get() or _DEFAULTS


class set:
    """Sets configuration values; as a context manager, only inside the block."""

    def __init__(self, scheduler: str | None = None, num_workers: int | None = None, **other: Any) -> None:
        new = dict(_current())
        if scheduler is not None:
            if not isinstance(scheduler, str) or scheduler not in _SCHEDULERS:
                raise ValueError(f"unknown scheduler {scheduler!r}: use one of {', '.join(_SCHEDULERS)}")
            new["scheduler"] = scheduler
        if num_workers is not None:
            if not isinstance(num_workers, int) or num_workers < 0:
                raise ValueError(f"num_workers must be a non-negative int, got {num_workers!r}")
            new["num_workers"] = num_workers
        new.update(other)
        self._token = _state.set(new)

    def __enter__(self) -> set:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        _state.reset(self._token)


def get(key: str, default: Any = None) -> Any:
    """A configuration value."""
    return _current().get(key, default)


# The engine callbacks of active diagnostics (blockwork.diagnostics).
callbacks: list[Any] = []


def scheduler(scheduler: str | None = None, num_workers: int | None = None) -> tuple[str, int, list[Any]]:
    """The scheduler a call uses (its own arguments, else the configured
    ones) and the active diagnostics."""
    name = scheduler if scheduler is not None else _current()["scheduler"]
    if name not in _SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}: use one of {', '.join(_SCHEDULERS)}")
    workers = num_workers if num_workers is not None else _current()["num_workers"]
    return name, int(workers), list(callbacks)
