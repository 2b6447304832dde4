//! `blockwork.jobqueue`: workers as jobs of SLURM, PBS, SGE or LSF, on the
//! jobqueue crate (its scripts, its submitting and cancelling).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use blockwork::distributed::Client;
use blockwork_jobqueue::{
    run_adaptive, AdaptOptions, Adaptive, Commands, JobQueueCluster, JobQueueError, JobSpec, System,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

fn to_py(e: JobQueueError) -> PyErr {
    match e {
        JobQueueError::Invalid(m) => PyValueError::new_err(m),
        e @ (JobQueueError::Command { .. } | JobQueueError::Dying { .. }) => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A duration given as seconds or as text ("500ms", "1s", "2m").
fn duration(x: &Bound<'_, PyAny>, what: &str) -> PyResult<Duration> {
    let parsed = match x.extract::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds).ok(),
        Err(_) => x.extract::<String>().ok().and_then(|t| blockwork::distributed::http::parse_duration(&t)),
    };
    parsed.ok_or_else(|| PyValueError::new_err(format!("adapt: {what} {x} is not a duration (e.g. 500ms, 1s, 2m)")))
}

/// The address of network interface `name` (its IPv4 one, else its first),
/// as text; an unknown name is a ValueError listing the interfaces.
#[pyfunction]
pub fn interface_address(name: &str) -> PyResult<String> {
    blockwork::interface_address(name).map(|ip| ip.to_string()).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The jobs of one cluster (see `blockwork.jobqueue.JobQueueCluster`),
/// and the thread scaling them adaptively, if one runs.
#[pyclass(frozen, module = "blockwork._core", name = "JobQueue")]
pub struct PyJobQueue {
    cluster: Arc<Mutex<JobQueueCluster>>,
    adapting: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
    /// The thread replacing jobs that end while wanted (from the first
    /// `scale` on).
    keeper: Mutex<Option<(Arc<AtomicBool>, JoinHandle<()>)>>,
}

/// How often the keeper asks the queue whether the jobs still run.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Replaces jobs that end while wanted until `stop`; says each error once.
fn keep(cluster: &Mutex<JobQueueCluster>, stop: &AtomicBool) {
    let mut last_error = String::new();
    let mut next = std::time::Instant::now() + CHECK_EVERY;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        if std::time::Instant::now() < next {
            continue;
        }
        next += CHECK_EVERY;
        let checked = cluster.lock().unwrap_or_else(|p| p.into_inner()).check_jobs();
        if let Err(e) = checked {
            let e = e.to_string();
            if e != last_error {
                tracing::warn!("jobqueue: {e}");
                last_error = e;
            }
        }
    }
}

impl PyJobQueue {
    fn cluster(&self) -> std::sync::MutexGuard<'_, JobQueueCluster> {
        self.cluster.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the keeper thread unless it runs.
    fn start_keeper(&self) -> PyResult<()> {
        let mut keeper = self.keeper.lock().unwrap_or_else(|p| p.into_inner());
        if keeper.is_some() {
            return Ok(());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (cluster, flag) = (Arc::clone(&self.cluster), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("blockwork-jobs".into())
            .spawn(move || keep(&cluster, &flag))
            .map_err(|e| PyRuntimeError::new_err(format!("starting the thread that watches the jobs: {e}")))?;
        *keeper = Some((stop, thread));
        Ok(())
    }

    /// Stops the keeper thread, if one runs, and waits for it.
    fn stop_keeper(&self) {
        let running = self.keeper.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((stop, thread)) = running {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }

    /// Stops the adaptive thread, if one runs, and waits for it.
    fn stop_adapting(&self) {
        let running = self.adapting.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((stop, thread)) = running {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
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
        local_directory = None, worker_extra_args = Vec::new(), resource_spec = None, command_dir = None, interface = None))]
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
        interface: Option<String>,
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
        spec.interface = interface;
        spec.resource_spec = resource_spec;
        spec.worker_command = worker_command;
        let commands = command_dir.map_or_else(Commands::new, Commands::in_dir);
        let cluster = JobQueueCluster::new(system, spec, scheduler, commands).map_err(to_py)?;
        Ok(PyJobQueue { cluster: Arc::new(Mutex::new(cluster)), adapting: Mutex::new(None), keeper: Mutex::new(None) })
    }

    /// The script the next job is submitted with.
    fn job_script(&self) -> String {
        self.cluster().job_script()
    }

    /// Ids of the jobs held, oldest first.
    fn jobs(&self) -> Vec<String> {
        self.cluster().jobs()
    }

    /// Keeps enough jobs for `workers` workers (jobs that end while
    /// wanted are replaced, from then on).
    fn scale(&self, py: Python<'_>, workers: usize) -> PyResult<()> {
        py.detach(|| self.cluster().scale(workers)).map_err(to_py)?;
        self.start_keeper()
    }

    /// Keeps `jobs` jobs.
    fn scale_jobs(&self, py: Python<'_>, jobs: usize) -> PyResult<()> {
        py.detach(|| self.cluster().scale_jobs(jobs)).map_err(to_py)?;
        self.start_keeper()
    }

    /// Scales adaptively toward the adaptive target of the scheduler at
    /// `scheduler`, on a thread of its own, until `stop_adapt` or `close`
    /// (replacing any earlier `adapt`).
    #[pyo3(signature = (scheduler, minimum, maximum, interval, wait_count, target_duration))]
    #[allow(clippy::too_many_arguments)]
    fn adapt(
        &self,
        py: Python<'_>,
        scheduler: &str,
        minimum: usize,
        maximum: usize,
        interval: Bound<'_, PyAny>,
        wait_count: u32,
        target_duration: Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let options = AdaptOptions {
            minimum,
            maximum,
            interval: duration(&interval, "interval")?,
            wait_count,
            target_duration: duration(&target_duration, "target_duration")?,
        };
        let adaptive = Adaptive::new(options).map_err(to_py)?;
        self.stop_adapting();
        let address = scheduler.trim_start_matches("tcp://").to_string();
        let client = py
            .detach(|| Client::connect(&address))
            .map_err(|e| PyRuntimeError::new_err(format!("adapt: connecting to the scheduler at {scheduler}: {e}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (cluster, flag) = (Arc::clone(&self.cluster), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("blockwork-adapt".into())
            .spawn(move || {
                let target = |d| client.adaptive_target(d).map_err(|e| e.to_string());
                let retire = |names: &[String]| {
                    let which = blockwork::distributed::Retire::Workers(names.to_vec());
                    client.retire_workers(which, Duration::from_secs(300)).map(|_| ()).map_err(|e| e.to_string())
                };
                if let Err(e) = run_adaptive(&cluster, adaptive, target, retire, &flag, |_, _| {}) {
                    tracing::error!("adaptive scaling stopped: {e}");
                }
            })
            .map_err(|e| PyRuntimeError::new_err(format!("adapt: starting its thread: {e}")))?;
        *self.adapting.lock().unwrap_or_else(|p| p.into_inner()) = Some((stop, thread));
        Ok(())
    }

    /// Stops adaptive scaling (the jobs stay as they are).
    fn stop_adapt(&self, py: Python<'_>) {
        py.detach(|| self.stop_adapting());
    }

    /// Cancels every job (and stops adaptive scaling).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            self.stop_adapting();
            self.stop_keeper();
            self.cluster().close()
        })
        .map_err(to_py)
    }
}
