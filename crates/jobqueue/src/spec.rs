//! What a job asks for.

use std::fmt;

/// Why a job cannot be described or managed.
#[derive(Debug, thiserror::Error)]
pub enum JobQueueError {
    /// A parameter is malformed or out of range (the user's input).
    #[error("{0}")]
    Invalid(String),
    /// A queue command could not run or failed (the environment).
    #[error("{command} failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// What it said, or why it could not start.
        message: String,
    },
    /// Jobs keep ending soon after they were submitted: they are not
    /// resubmitted any more (their output files say why).
    #[error(
        "{ended} jobs ended without being cancelled within {window:?} (the last: {last}); \
         no more are submitted in their place: see their output files"
    )]
    Dying {
        /// How many ended within the window.
        ended: usize,
        /// The window.
        window: std::time::Duration,
        /// The ids of the last ones.
        last: String,
    },
}

impl blockwork_error::Fault for JobQueueError {
    fn kind(&self) -> blockwork_error::ErrorKind {
        use blockwork_error::ErrorKind::*;
        match self {
            JobQueueError::Invalid(_) => User,
            // The queue's commands, and jobs the machines kill.
            JobQueueError::Command { .. } | JobQueueError::Dying { .. } => Environment,
        }
    }
}

/// The job queue systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// SLURM (`sbatch`, `scancel`).
    Slurm,
    /// PBS / Torque (`qsub`, `qdel`).
    Pbs,
    /// Sun / Univa / Open Grid Engine (`qsub`, `qdel`).
    Sge,
    /// IBM Spectrum LSF (`bsub`, `bkill`).
    Lsf,
}

impl System {
    /// From its name: slurm, pbs, sge or lsf.
    pub fn parse(s: &str) -> Result<System, JobQueueError> {
        match s.to_ascii_lowercase().as_str() {
            "slurm" => Ok(System::Slurm),
            "pbs" => Ok(System::Pbs),
            "sge" => Ok(System::Sge),
            "lsf" => Ok(System::Lsf),
            other => Err(JobQueueError::Invalid(format!("unknown job queue {other:?}: slurm, pbs, sge or lsf"))),
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::Slurm => "slurm",
            System::Pbs => "pbs",
            System::Sge => "sge",
            System::Lsf => "lsf",
        })
    }
}

/// Bytes in a memory size: a number and an optional unit, decimal (`kB`,
/// `MB`, `GB`, `TB`) or binary (`KiB`, `MiB`, `GiB`, `TiB`), as Dask reads
/// them (`"100GB"` is 10¹¹ bytes).
pub fn parse_memory(s: &str) -> Result<u64, JobQueueError> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad =
        || JobQueueError::Invalid(format!("memory {s:?} is not a size: a number and a unit, e.g. 100GB, 4GiB, 512MB"));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024f64.powi(2),
        "gib" | "gi" => 1024f64.powi(3),
        "tib" | "ti" => 1024f64.powi(4),
        _ => return Err(bad()),
    };
    let bytes = n * scale;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// What one job asks for, in dask-jobqueue's terms.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// Cores of the job (threads over all its workers).
    pub cores: u32,
    /// Memory of the job, in bytes.
    pub memory: u64,
    /// Workers the job runs (each with `cores / processes` threads).
    pub processes: u32,
    /// The queue (partition).
    pub queue: Option<String>,
    /// The account (SLURM, PBS) or project (SGE, LSF) charged.
    pub account: Option<String>,
    /// The wall-clock limit, as the queue writes it (`02:00:00`).
    pub walltime: Option<String>,
    /// More directives, written as given after the others.
    pub job_extra_directives: Vec<String>,
    /// Shell lines run before the workers start (`module load …`).
    pub job_script_prologue: Vec<String>,
    /// Where workers spill (their `--local-directory`).
    pub local_directory: Option<String>,
    /// The job name.
    pub name: String,
    /// SGE's `-l` resource list (e.g. `h_vmem=10G`).
    pub resource_spec: Option<String>,
    /// The command that starts one worker (`blockwork worker`, or
    /// `python -m blockwork worker` for workers that run Python tasks).
    pub worker_command: String,
    /// More flags for every worker.
    pub worker_extra_args: Vec<String>,
    /// The network interface workers listen on and are reached at (their
    /// `--interface`, e.g. `ib0`).
    pub interface: Option<String>,
}

impl JobSpec {
    /// A job of `cores` cores and `memory` (e.g. `"100GB"`), one worker.
    pub fn new(cores: u32, memory: &str) -> Result<JobSpec, JobQueueError> {
        if cores == 0 {
            return Err(JobQueueError::Invalid("cores must be at least 1".into()));
        }
        Ok(JobSpec {
            cores,
            memory: parse_memory(memory)?,
            processes: 1,
            queue: None,
            account: None,
            walltime: None,
            job_extra_directives: Vec::new(),
            job_script_prologue: Vec::new(),
            local_directory: None,
            name: "blockwork-worker".into(),
            resource_spec: None,
            worker_command: "blockwork worker".into(),
            worker_extra_args: Vec::new(),
            interface: None,
        })
    }

    /// Workers per job; `cores` must divide among them.
    pub fn processes(mut self, n: u32) -> Self {
        self.processes = n;
        self
    }

    /// The queue.
    pub fn queue(mut self, q: impl Into<String>) -> Self {
        self.queue = Some(q.into());
        self
    }

    /// The account or project.
    pub fn account(mut self, a: impl Into<String>) -> Self {
        self.account = Some(a.into());
        self
    }

    /// The wall-clock limit.
    pub fn walltime(mut self, w: impl Into<String>) -> Self {
        self.walltime = Some(w.into());
        self
    }

    /// The job name.
    pub fn name(mut self, n: impl Into<String>) -> Self {
        self.name = n.into();
        self
    }

    /// Checks what the constructor cannot: processes dividing cores.
    pub fn validate(&self) -> Result<(), JobQueueError> {
        if self.processes == 0 || !self.cores.is_multiple_of(self.processes) {
            return Err(JobQueueError::Invalid(format!(
                "processes = {} must divide cores = {} (each worker gets cores / processes threads)",
                self.processes, self.cores
            )));
        }
        if self.name.is_empty() || self.name.contains(char::is_whitespace) {
            return Err(JobQueueError::Invalid(format!("job name {:?} must be one word", self.name)));
        }
        Ok(())
    }

    /// Threads of each worker.
    pub fn worker_threads(&self) -> u32 {
        self.cores / self.processes.max(1)
    }

    /// Memory of each worker, in bytes.
    pub fn worker_memory(&self) -> u64 {
        self.memory / u64::from(self.processes.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_memory;

    #[test]
    fn memory_sizes_in_decimal_binary_and_kubernetes_units() {
        assert_eq!(parse_memory("100GB").unwrap(), 100_000_000_000);
        assert_eq!(parse_memory("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_memory("4Gi").unwrap(), 4 << 30);
        assert_eq!(parse_memory("1.5 TiB").unwrap(), 3 << 39);
        for bad in ["lots", "4 GiBs", "", "0"] {
            let e = parse_memory(bad).unwrap_err().to_string();
            assert!(e.contains("is not a size"), "{bad:?}: {e}");
        }
    }
}
