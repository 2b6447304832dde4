//! `blockwork.jobqueue`: workers as jobs of SLURM, PBS, SGE or LSF, on the
//! jobqueue crate (its scripts, its submitting and cancelling).

use std::sync::Mutex;

use blockwork_jobqueue::{Commands, JobQueueCluster, JobQueueError, JobSpec, System};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

fn to_py(e: JobQueueError) -> PyErr {
    match e {
        JobQueueError::Invalid(m) => PyValueError::new_err(m),
        e @ JobQueueError::Command { .. } => PyRuntimeError::new_err(e.to_string()),
    }
}

/// The jobs of one cluster (see `blockwork.jobqueue.JobQueueCluster`).
#[pyclass(frozen, module = "blockwork._core", name = "JobQueue")]
pub struct PyJobQueue(Mutex<JobQueueCluster>);

impl PyJobQueue {
    fn cluster(&self) -> std::sync::MutexGuard<'_, JobQueueCluster> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PyJobQueue {
    /// Jobs of `system` (slurm, pbs, sge, lsf) whose workers join
    /// `scheduler`; the queue's commands are found on PATH, or in
    /// `command_dir`.
    #[new]
    #[pyo3(signature = (system, scheduler, cores, memory, processes, name, worker_command, queue = None,
        account = None, walltime = None, job_extra_directives = Vec::new(), job_script_prologue = Vec::new(),
        local_directory = None, worker_extra_args = Vec::new(), resource_spec = None, command_dir = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        system: &str,
        scheduler: String,
        cores: u32,
        memory: &str,
        processes: u32,
        name: String,
        worker_command: String,
        queue: Option<String>,
        account: Option<String>,
        walltime: Option<String>,
        job_extra_directives: Vec<String>,
        job_script_prologue: Vec<String>,
        local_directory: Option<String>,
        worker_extra_args: Vec<String>,
        resource_spec: Option<String>,
        command_dir: Option<String>,
    ) -> PyResult<PyJobQueue> {
        let system = System::parse(system).map_err(to_py)?;
        let mut spec = JobSpec::new(cores, memory).map_err(to_py)?.processes(processes).name(name);
        spec.queue = queue;
        spec.account = account;
        spec.walltime = walltime;
        spec.job_extra_directives = job_extra_directives;
        spec.job_script_prologue = job_script_prologue;
        spec.local_directory = local_directory;
        spec.worker_extra_args = worker_extra_args;
        spec.resource_spec = resource_spec;
        spec.worker_command = worker_command;
        let commands = command_dir.map_or_else(Commands::new, Commands::in_dir);
        let cluster = JobQueueCluster::new(system, spec, scheduler, commands).map_err(to_py)?;
        Ok(PyJobQueue(Mutex::new(cluster)))
    }

    /// The script the next job is submitted with.
    fn job_script(&self) -> String {
        self.cluster().job_script()
    }

    /// Ids of the jobs held, oldest first.
    fn jobs(&self) -> Vec<String> {
        self.cluster().jobs().to_vec()
    }

    /// Keeps enough jobs for `workers` workers.
    fn scale(&self, py: Python<'_>, workers: usize) -> PyResult<()> {
        py.detach(|| self.cluster().scale(workers)).map_err(to_py)
    }

    /// Keeps `jobs` jobs.
    fn scale_jobs(&self, py: Python<'_>, jobs: usize) -> PyResult<()> {
        py.detach(|| self.cluster().scale_jobs(jobs)).map_err(to_py)
    }

    /// Cancels every job.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.cluster().close()).map_err(to_py)
    }
}
