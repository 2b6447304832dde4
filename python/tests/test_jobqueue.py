"""blockwork.jobqueue: scripts as dask-jobqueue writes them, and jobs whose
Python workers join the cluster's scheduler, through stand-in queue
commands that run each script as a local process group."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

import blockwork
from blockwork.distributed import Client
from blockwork.jobqueue import LSFCluster, PBSCluster, SGECluster, SLURMCluster

# The stand-in queue commands the Rust tests use too.
FAKE_SLURM = Path(__file__).parents[2] / "crates" / "jobqueue" / "tests" / "fake-slurm"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_scripts_carry_dask_jobqueues_directives() -> None:
    kw = dict(cores=24, memory="100GB", processes=4, queue="regular", walltime="02:00:00", name="bw")
    with SLURMCluster(account="proj", job_extra_directives=["--exclusive"], **kw) as c:  # type: ignore[arg-type]
        s = c.job_script()
        expected = [
            "#SBATCH -J bw", "#SBATCH -A proj", "#SBATCH --cpus-per-task=24", "#SBATCH --mem=94G",
            "#SBATCH --exclusive", "-m blockwork worker", "--nthreads 6 --memory-limit 25000000000",
        ]  # fmt: skip
        for line in expected:
            assert line in s, s
        assert c.jobs == []
    assert "#PBS -l select=1:ncpus=24:mem=94GB" in PBSCluster(**kw).job_script()  # type: ignore[arg-type]
    assert "#$ -l h_rt=02:00:00" in SGECluster(project="geo", **kw).job_script()  # type: ignore[arg-type]
    assert "#BSUB -M 100000000" in LSFCluster(**kw).job_script()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="processes = 5 must divide cores = 24"):
        SLURMCluster(cores=24, memory="1GB", processes=5)
    with pytest.raises(ValueError, match="not a size"):
        SLURMCluster(cores=1, memory="lots")


def test_jobs_of_python_workers_compute_and_are_cancelled(tmp_path: Path) -> None:
    for name in ("sbatch", "scancel", "squeue"):
        shutil.copy(FAKE_SLURM / name, tmp_path / name)
    cluster = SLURMCluster(cores=2, memory="2GB", processes=2, host="127.0.0.1", command_dir=str(tmp_path))
    try:
        cluster.scale(jobs=1)
        assert cluster.jobs == ["0"]
        with Client(cluster) as client:

            @blockwork.delayed
            def square(v: int) -> int:
                return v * v

            total = blockwork.delayed(sum)([square(i) for i in range(10)])
            assert client.compute(total).result(timeout=60) == 285
        pid = int((tmp_path / "job-0.pid").read_text())
        cluster.close()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
        assert (tmp_path / "cancelled").read_text() == "0\n"
    finally:
        cluster.close()


def test_adapt_grows_under_queued_work_and_shrinks_when_idle(tmp_path: Path) -> None:
    for name in ("sbatch", "scancel", "squeue"):
        shutil.copy(FAKE_SLURM / name, tmp_path / name)
    cluster = SLURMCluster(cores=1, memory="1GB", host="127.0.0.1", command_dir=str(tmp_path))
    try:
        cluster.adapt(minimum=0, maximum=2, interval="100ms", wait_count=2)
        time.sleep(0.5)
        assert cluster.jobs == [], "no work, no jobs"
        with Client(cluster) as client:

            @blockwork.delayed
            def slow(v: int) -> int:
                time.sleep(0.05)
                return v

            total = blockwork.delayed(sum)([slow(i) for i in range(20)])
            assert client.compute(total).result(timeout=120) == 190
        assert (tmp_path / "job-0.sh").exists(), "the queued work started a job"
        deadline = time.monotonic() + 30
        while cluster.jobs and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cluster.jobs == [], "idle: every job cancelled"
        submitted = len(list(tmp_path.glob("job-*.sh")))
        assert len((tmp_path / "cancelled").read_text().split()) == submitted
        with pytest.raises(ValueError, match="minimum 3 is above maximum 1"):
            cluster.adapt(minimum=3, maximum=1)
        with pytest.raises(ValueError, match="not a duration"):
            cluster.adapt(interval="soon")
    finally:
        cluster.close()


def test_interface_names_the_address_workers_use() -> None:
    with SLURMCluster(cores=1, memory="1GB", interface="lo") as c:
        assert c.scheduler_address.startswith("tcp://127.0.0.1:")
        assert "--interface lo" in c.job_script()
    with pytest.raises(ValueError, match='no network interface "nope0"'):
        SLURMCluster(cores=1, memory="1GB", interface="nope0")
