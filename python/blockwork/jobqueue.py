"""Workers as jobs of HPC queues, as dask-jobqueue:

    from blockwork.jobqueue import SLURMCluster
    from blockwork.distributed import Client
    cluster = SLURMCluster(cores=24, memory="100GB", processes=4, queue="regular", walltime="02:00:00")
    print(cluster.job_script())
    cluster.scale(jobs=10)           # or cluster.scale(40): workers
    cluster.adapt(minimum=0, maximum=40)  # or as many as the work calls for
    client = Client(cluster)

The cluster runs a scheduler in this process (on the login node); each job
starts `processes` workers (`python -m blockwork worker`, so they also run
Python tasks) of `cores / processes` threads and `memory / processes`
bytes, which join it. The directives are the ones dask-jobqueue writes for
the same parameters. `close()` (or leaving a `with` block, or the
interpreter exiting) cancels every job it submitted. With `interface="ib0"`
the workers listen on and are reached at that network interface, and dial
the scheduler at this machine's address on it.
"""

from __future__ import annotations

import shlex
import socket
import sys
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from blockwork import _core

__all__ = ["JobQueueCluster", "LSFCluster", "PBSCluster", "SGECluster", "SLURMCluster"]


def _close(jobs: Any, scheduler: Any) -> None:
    try:
        jobs.close()
    finally:
        scheduler.close()


class JobQueueCluster:
    """Workers as jobs of a queue; see the module's documentation."""

    system = ""

    def __init__(
        self,
        cores: int,
        memory: str,
        processes: int | None = None,
        queue: str | None = None,
        account: str | None = None,
        project: str | None = None,
        walltime: str | None = None,
        job_extra_directives: Sequence[str] = (),
        job_script_prologue: Sequence[str] = (),
        local_directory: str | None = None,
        worker_extra_args: Sequence[str] = (),
        name: str = "blockwork-worker",
        resource_spec: str | None = None,
        host: str = "0.0.0.0",
        scheduler_port: int = 0,
        python: str | None = None,
        command_dir: str | None = None,
        interface: str | None = None,
    ) -> None:
        if not self.system:
            raise TypeError("use SLURMCluster, PBSCluster, SGECluster or LSFCluster")
        if not isinstance(cores, int) or cores < 1:
            raise ValueError(f"cores must be a positive int, got {cores!r}")
        self._scheduler: Any = _core.Scheduler(f"{host}:{scheduler_port}")
        port = self._scheduler.address.rsplit(":", 1)[1]
        # Jobs run on other nodes: they dial this one by name, or by its
        # address on `interface`.
        if interface is not None:
            where = _core.interface_address(interface)
        elif host in ("0.0.0.0", "::"):
            where = socket.gethostname()
        else:
            where = host
        self.scheduler_address: str = f"tcp://{where}:{port}"
        worker = f"{shlex.quote(python or sys.executable)} -m blockwork worker"
        self._processes = processes or 1
        try:
            self._jobs: Any = _core.JobQueue(
                self.system,
                self.scheduler_address,
                cores,
                str(memory),
                processes or 1,
                name,
                worker,
                queue=queue,
                account=account or project,
                walltime=walltime,
                job_extra_directives=list(job_extra_directives),
                job_script_prologue=list(job_script_prologue),
                local_directory=local_directory,
                worker_extra_args=list(worker_extra_args),
                resource_spec=resource_spec,
                command_dir=command_dir,
                interface=interface,
            )
        except BaseException:
            self._scheduler.close()
            raise
        self._finalizer = weakref.finalize(self, _close, self._jobs, self._scheduler)

    def job_script(self) -> str:
        """The submission script of the next job."""
        return str(self._jobs.job_script())

    @property
    def jobs(self) -> list[str]:
        """The ids of the jobs it holds, oldest first."""
        return list(self._jobs.jobs())

    def scale(self, n: int | None = None, jobs: int | None = None) -> None:
        """Keeps jobs for `n` workers (whole jobs, rounded up), or `jobs`
        jobs: submits the missing ones, cancels the newest extra ones."""
        if (n is None) == (jobs is None):
            raise ValueError("scale takes a number of workers n or a number of jobs, not both or neither")
        self._jobs.stop_adapt()
        if jobs is not None:
            self._jobs.scale_jobs(int(jobs))
        else:
            self._jobs.scale(int(n))  # type: ignore[arg-type]

    def adapt(
        self,
        minimum: int = 0,
        maximum: int | None = None,
        interval: str | float = "1s",
        wait_count: int = 3,
        target_duration: str | float = "5s",
        minimum_jobs: int | None = None,
        maximum_jobs: int | None = None,
    ) -> None:
        """Keeps as many workers as the scheduler's work calls for, between
        `minimum` and `maximum` (or `minimum_jobs`/`maximum_jobs` jobs):
        every `interval` the scheduler proposes a count from the work
        processing and queued (as many workers as would finish it within
        `target_duration`) and from memory pressure; the cluster scales up
        at once, and down only after the same workers were proposed for
        closing `wait_count` times in a row. Down cancels the newest jobs.
        `scale` or `close` stop it."""
        per_job = self._processes
        lo = minimum_jobs * per_job if minimum_jobs is not None else minimum
        hi = maximum_jobs * per_job if maximum_jobs is not None else maximum
        self._jobs.adapt(
            self.scheduler_address,
            int(lo),
            2**62 if hi is None else int(hi),
            interval,
            int(wait_count),
            target_duration,
        )

    def close(self) -> None:
        """Cancels every job, then stops the scheduler."""
        self._finalizer()

    def __enter__(self) -> JobQueueCluster:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.scheduler_address!r}, jobs={len(self.jobs)})"


class SLURMCluster(JobQueueCluster):
    """Workers as SLURM jobs (`sbatch`, `scancel`)."""

    system = "slurm"


class PBSCluster(JobQueueCluster):
    """Workers as PBS jobs (`qsub`, `qdel`)."""

    system = "pbs"


class SGECluster(JobQueueCluster):
    """Workers as Grid Engine jobs (`qsub`, `qdel`)."""

    system = "sge"


class LSFCluster(JobQueueCluster):
    """Workers as LSF jobs (`bsub`, `bkill`)."""

    system = "lsf"
