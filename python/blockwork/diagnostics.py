"""Diagnostics of local runs, as `dask.diagnostics`: a progress bar, a task
profiler and a resource profiler, on the engine's own callbacks (they
observe the run from its threads and cost nothing when not active).

    from blockwork.diagnostics import ProgressBar, Profiler, ResourceProfiler

    with ProgressBar(), Profiler() as prof, ResourceProfiler(dt=0.25) as rprof:
        x.sum().compute()
    prof.results[:3]      # TaskData(key, task, start_time, end_time, worker_id)
    rprof.results[:3]     # ResourceData(time, mem, cpu)
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, NamedTuple

from blockwork import _core, config

__all__ = ["Profiler", "ProgressBar", "ResourceData", "ResourceProfiler", "TaskData"]


class TaskData(NamedTuple):
    """One task's run: times in seconds since the epoch."""

    key: str
    task: str
    start_time: float
    end_time: float
    worker_id: int


class ResourceData(NamedTuple):
    """One sample: time since the epoch, resident memory in MB, CPU percent."""

    time: float
    mem: float
    cpu: float


class _Diagnostic:
    _core: Any

    def __enter__(self) -> Any:
        self._start()
        config.callbacks.append(self._core)
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.unregister()

    def _start(self) -> None:
        """Called when it becomes active."""

    def register(self) -> None:
        """Observes every compute from now on, until `unregister()`."""
        self._start()
        config.callbacks.append(self._core)

    def unregister(self) -> None:
        """Stops observing computes."""
        if self._core in config.callbacks:
            config.callbacks.remove(self._core)


class ProgressBar(_Diagnostic):
    """A progress bar on standard error for computes longer than `minimum` seconds."""

    def __init__(self, minimum: float = 0.0, width: int = 40, dt: float = 0.1, out: Any = None) -> None:
        self._core = _core.ProgressBar(minimum)

    @property
    def completed(self) -> int:
        """Tasks finished in the current or last compute."""
        return self._core.completed


class Profiler(_Diagnostic):
    """Records every task of every compute while active."""

    def __init__(self) -> None:
        self._core = _core.Profiler()

    def _start(self) -> None:
        self._core = _core.Profiler()

    @property
    def results(self) -> list[TaskData]:
        """The tasks run, by start time."""
        rows = sorted(self._core.records(), key=lambda r: r[2])
        return [TaskData(key, key.rsplit("-", 1)[0], start, end, worker) for key, worker, start, end, _ in rows]

    def visualize(self, filename: str = "profile.html", **kwargs: Any) -> None:
        """Writes the last compute's task timeline as one self-contained HTML file."""
        self._core.write_html(filename)


class ResourceProfiler(_Diagnostic):
    """Samples this process's memory and CPU every `dt` seconds while computes run."""

    def __init__(self, dt: float = 1.0) -> None:
        self._dt = dt
        self._core = _core.ResourceProfiler(dt)

    def _start(self) -> None:
        self._core = _core.ResourceProfiler(self._dt)

    @property
    def results(self) -> list[ResourceData]:
        """The samples, in time order."""
        return [ResourceData(*s) for s in self._core.samples()]
