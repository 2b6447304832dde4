//! blockwork workers as jobs of HPC job queues, as dask-jobqueue does for
//! Dask: SLURM, PBS, SGE and LSF; and as pods of Kubernetes
//! ([`manifests`] of a [`KubeSpec`]).
//!
//! A [`JobSpec`] says what one job asks for (dask-jobqueue's parameters:
//! `cores`, `memory`, `processes`, `queue`, `account`, `walltime`, extra
//! directives, a prologue, a local directory, a name); [`job_script`]
//! renders the submission script a queue takes — the same directives
//! dask-jobqueue writes, then the workers: `processes` workers of
//! `cores / processes` threads and `memory / processes` bytes each,
//! connecting to the scheduler. [`JobQueueCluster`] scales a cluster by
//! submitting and cancelling such jobs (`sbatch`/`scancel`,
//! `qsub`/`qdel`, `bsub`/`bkill`) through a [`Queue`]; the real one runs
//! the queue's commands ([`Commands`]), tests give their own.
//!
//! ```
//! use blockwork_jobqueue::{job_script, JobSpec, System};
//! let spec = JobSpec::new(24, "100GB")?.processes(4).queue("regular").walltime("02:00:00");
//! let script = job_script(System::Slurm, &spec, "tcp://10.0.0.1:8786", "job-0");
//! assert!(script.contains("#SBATCH --cpus-per-task=24"));
//! assert!(script.contains("#SBATCH --mem=94G"));
//! # Ok::<(), blockwork_jobqueue::JobQueueError>(())
//! ```

mod adapt;
mod cluster;
mod kubernetes;
mod render;
mod spec;

pub use adapt::{run_adaptive, AdaptOptions, Adaptive, Decision};
pub use cluster::{Commands, JobQueueCluster, Queue, Retirer, DYING_WINDOW};
pub use kubernetes::{manifests, KubeSpec};
pub use render::job_script;
pub use spec::{parse_memory, JobQueueError, JobSpec, System};
