//! Scaling by jobs: submit one job per wanted share of workers; when
//! fewer are wanted, retire the workers the scheduler named (their
//! results move to the others) and cancel their jobs, or cancel the
//! newest jobs when it named none (jobs still queued); cancel every one
//! at the end.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::render::job_script;
use crate::spec::{JobQueueError, JobSpec, System};

/// A job queue: submits scripts and cancels jobs.
pub trait Queue {
    /// Submits `script`; returns the job's id.
    fn submit(&mut self, system: System, script: &str) -> Result<String, JobQueueError>;
    /// Cancels the jobs `ids`.
    fn cancel(&mut self, system: System, ids: &[String]) -> Result<(), JobQueueError>;
    /// Which of `ids` the queue still holds (queued or running); a job it
    /// no longer lists has ended.
    fn active(&mut self, system: System, ids: &[String]) -> Result<Vec<String>, JobQueueError>;
}

/// What the queue's status command printed: the ids of `ids` that it lists
/// as not finished. SLURM's `squeue -h -o %i -j …` prints one id per line;
/// PBS's and SGE's `qstat` a table whose first column is the id (PBS may
/// cut `123.server-name` short, so its number decides); LSF's `bjobs
/// -noheader -o "jobid stat" …` the id and state, DONE and EXIT being
/// finished.
fn listed(system: System, out: &str, ids: &[String]) -> Vec<String> {
    let number = |id: &str| id.split('.').next().unwrap_or(id).to_string();
    let mut found = Vec::new();
    for line in out.lines() {
        let mut cols = line.split_whitespace();
        let Some(first) = cols.next() else { continue };
        if system == System::Lsf && matches!(cols.next(), Some("DONE" | "EXIT")) {
            continue;
        }
        let first = if system == System::Pbs { number(first) } else { first.to_string() };
        for id in ids {
            let id_key = if system == System::Pbs { number(id) } else { id.clone() };
            if first == id_key && !found.contains(id) {
                found.push(id.clone());
            }
        }
    }
    found
}

/// The queue's own commands: `sbatch`/`scancel`, `qsub`/`qdel`,
/// `bsub`/`bkill`, found on `PATH` or in a given directory.
#[derive(Clone, Debug, Default)]
pub struct Commands {
    dir: Option<PathBuf>,
}

impl Commands {
    /// The commands found on `PATH`.
    pub fn new() -> Self {
        Commands { dir: None }
    }

    /// The commands of one directory (a queue installed off `PATH`).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Commands { dir: Some(dir.into()) }
    }

    fn command(&self, name: &str) -> Command {
        Command::new(self.dir.as_ref().map_or_else(|| PathBuf::from(name), |d| d.join(name)))
    }
}

/// `start()`, tried again for up to a second while the command's file is
/// busy (`ETXTBSY`): a command just written or copied, whose writing
/// descriptor a process forked meanwhile elsewhere in this program still
/// holds until it execs.
fn started<T>(mut start: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let mut tries = 0;
    loop {
        match start() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 40 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

/// The id in a submit command's answer: SLURM's `Submitted batch job 42`,
/// SGE's `Your job 42 ("x") has been submitted`, LSF's `Job <42> is
/// submitted to queue <q>.` give the first number; PBS answers the id
/// itself (`42.server`), which `qdel` wants whole.
fn job_id(system: System, answer: &str) -> Option<String> {
    if system == System::Pbs {
        return answer.split_whitespace().next().map(str::to_string);
    }
    let start = answer.find(|c: char| c.is_ascii_digit())?;
    let digits: String = answer[start..].chars().take_while(char::is_ascii_digit).collect();
    Some(digits)
}

impl Queue for Commands {
    fn submit(&mut self, system: System, script: &str) -> Result<String, JobQueueError> {
        let name = match system {
            System::Slurm => "sbatch",
            System::Pbs | System::Sge => "qsub",
            System::Lsf => "bsub",
        };
        let fail = |message: String| JobQueueError::Command { command: name.into(), message };
        let mut command = self.command(name);
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = started(|| command.spawn()).map_err(|e| fail(format!("cannot start it: {e}")))?;
        // A command that fails may exit before reading the script: what it
        // said then matters more than the broken pipe.
        let sent = child.stdin.take().map_or(Ok(()), |mut stdin| stdin.write_all(script.as_bytes()));
        let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
        let answer = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(fail(format!("{} {}", out.status, String::from_utf8_lossy(&out.stderr).trim())));
        }
        sent.map_err(|e| fail(format!("cannot send the script: {e}")))?;
        job_id(system, &answer).ok_or_else(|| fail(format!("no job id in its answer {:?}", answer.trim())))
    }

    fn cancel(&mut self, system: System, ids: &[String]) -> Result<(), JobQueueError> {
        if ids.is_empty() {
            return Ok(());
        }
        let name = match system {
            System::Slurm => "scancel",
            System::Pbs | System::Sge => "qdel",
            System::Lsf => "bkill",
        };
        let mut command = self.command(name);
        command.args(ids);
        let out = started(|| command.output())
            .map_err(|e| JobQueueError::Command { command: name.into(), message: format!("cannot start it: {e}") })?;
        if !out.status.success() {
            return Err(JobQueueError::Command {
                command: format!("{name} {}", ids.join(" ")),
                message: format!("{} {}", out.status, String::from_utf8_lossy(&out.stderr).trim()),
            });
        }
        Ok(())
    }

    fn active(&mut self, system: System, ids: &[String]) -> Result<Vec<String>, JobQueueError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (name, args): (&str, Vec<String>) = match system {
            System::Slurm => ("squeue", vec!["-h".into(), "-o".into(), "%i".into(), "-j".into(), ids.join(",")]),
            System::Pbs => ("qstat", ids.to_vec()),
            System::Sge => ("qstat", Vec::new()),
            System::Lsf => (
                "bjobs",
                ["-noheader", "-o", "jobid stat"].into_iter().map(String::from).chain(ids.iter().cloned()).collect(),
            ),
        };
        let mut command = self.command(name);
        command.args(&args);
        let out = started(|| command.output())
            .map_err(|e| JobQueueError::Command { command: name.into(), message: format!("cannot start it: {e}") })?;
        let said = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        // Asked about jobs some of which are gone, the status commands
        // complain and fail; what they listed still counts.
        let gone = ["Invalid job id", "Unknown Job Id", "not found", "is not found"];
        if !out.status.success() && !gone.iter().any(|g| err.contains(g)) {
            return Err(JobQueueError::Command {
                command: format!("{name} {}", args.join(" ")),
                message: format!("{} {}", out.status, err.trim()),
            });
        }
        Ok(listed(system, &said, ids))
    }
}

/// Jobs ending without being cancelled more often than this, within
/// [`DYING_WINDOW`], are not replaced: the cluster's jobs keep dying.
const DYING_MIN: usize = 5;
/// The window over which ended jobs are counted.
pub const DYING_WINDOW: std::time::Duration = std::time::Duration::from_secs(600);

/// Workers of a running scheduler, as jobs of a queue: `scale(n)` keeps
/// enough jobs for `n` workers, `close()` (or dropping it) cancels them.
pub struct JobQueueCluster {
    system: System,
    spec: JobSpec,
    scheduler: String,
    queue: Box<dyn Queue + Send>,
    /// The jobs held, oldest first: the queue's id, and the job's number
    /// (its workers are named `NAME-NUMBER`, or `NAME-NUMBER-i`).
    jobs: Vec<(String, u64)>,
    submitted: u64,
    /// When jobs ended without being cancelled, within the last
    /// [`DYING_WINDOW`].
    ended: std::collections::VecDeque<(std::time::Instant, String)>,
    /// Jobs keep dying: none is submitted in place of one that ended.
    dying: bool,
}

/// Retires workers by name before their jobs are cancelled (a client's
/// `retire_workers`); an error is reported and the jobs are cancelled
/// anyway (their results are then recomputed).
pub type Retirer<'a> = &'a mut dyn FnMut(&[String]) -> Result<(), String>;

impl JobQueueCluster {
    /// A cluster of no jobs yet whose workers join `scheduler`
    /// (`tcp://HOST:PORT`).
    pub fn new(
        system: System,
        spec: JobSpec,
        scheduler: impl Into<String>,
        queue: impl Queue + Send + 'static,
    ) -> Result<Self, JobQueueError> {
        spec.validate()?;
        Ok(JobQueueCluster {
            system,
            spec,
            scheduler: scheduler.into(),
            queue: Box::new(queue),
            jobs: Vec::new(),
            submitted: 0,
            ended: std::collections::VecDeque::new(),
            dying: false,
        })
    }

    /// The script the next job is submitted with.
    pub fn job_script(&self) -> String {
        job_script(self.system, &self.spec, &self.scheduler, &self.submitted.to_string())
    }

    /// Ids of the jobs it holds, oldest first.
    pub fn jobs(&self) -> Vec<String> {
        self.jobs.iter().map(|(id, _)| id.clone()).collect()
    }

    /// The workers its jobs start (each job starts `processes`).
    pub fn planned_workers(&self) -> usize {
        self.jobs.len() * self.spec.processes.max(1) as usize
    }

    /// The job a worker of this cluster belongs to (workers are named
    /// `NAME-NUMBER` or `NAME-NUMBER-i`).
    fn job_of(&self, worker: &str) -> Option<usize> {
        let rest = worker.strip_prefix(&self.spec.name)?.strip_prefix('-')?;
        let number: u64 = rest.split('-').next()?.parse().ok()?;
        self.jobs.iter().position(|(_, n)| *n == number)
    }

    /// Scales as an adaptive [`Decision`](crate::Decision) says. Down
    /// retires the workers the scheduler named through `retire` (their
    /// results move to other workers; nothing is recomputed), then
    /// cancels their jobs; named workers of no job of this cluster, or
    /// none named (jobs whose workers have not joined), cancel the newest
    /// jobs. A job of several workers goes when one of them is named: its
    /// others are retired with it.
    pub fn apply(&mut self, decision: &crate::Decision, retire: Retirer<'_>) -> Result<(), JobQueueError> {
        match decision {
            crate::Decision::Up(n) => self.scale(*n),
            crate::Decision::Same => Ok(()),
            crate::Decision::Down(n, names) => {
                let mut doomed: Vec<usize> = names.iter().filter_map(|w| self.job_of(w)).collect();
                doomed.sort_unstable();
                doomed.dedup();
                if doomed.is_empty() {
                    return self.scale(*n);
                }
                if let Err(e) = retire(names) {
                    tracing::warn!("retiring {names:?} before cancelling their jobs: {e}");
                }
                let ids: Vec<String> = doomed.iter().map(|&i| self.jobs[i].0.clone()).collect();
                self.queue.cancel(self.system, &ids)?;
                for &i in doomed.iter().rev() {
                    self.jobs.remove(i);
                }
                Ok(())
            }
        }
    }

    /// Keeps enough jobs for `workers` workers (rounded up to whole jobs).
    pub fn scale(&mut self, workers: usize) -> Result<(), JobQueueError> {
        let per_job = self.spec.processes.max(1) as usize;
        self.scale_jobs(workers.div_ceil(per_job))
    }

    /// Keeps `jobs` jobs: submits the missing ones, cancels the newest
    /// extra ones.
    pub fn scale_jobs(&mut self, jobs: usize) -> Result<(), JobQueueError> {
        while self.jobs.len() < jobs {
            let script = self.job_script();
            let id = self.queue.submit(self.system, &script)?;
            self.jobs.push((id, self.submitted));
            self.submitted += 1;
        }
        if self.jobs.len() > jobs {
            let extra: Vec<String> = self.jobs[jobs..].iter().map(|(id, _)| id.clone()).collect();
            self.queue.cancel(self.system, &extra)?;
            self.jobs.truncate(jobs);
        }
        Ok(())
    }

    /// Asks the queue which jobs still hold; submits a job in place of
    /// each that ended while wanted (its walltime, a preemption, a node
    /// failure, someone's `scancel`), and returns the ids of those that
    /// ended. Their workers' results are recomputed by the scheduler as for
    /// any lost worker. When more than `max(5, 2 × jobs)` jobs ended within
    /// [`DYING_WINDOW`], the jobs keep dying (a bad prologue, a worker that
    /// cannot reach the scheduler): none is submitted in their place any
    /// more, and this says so once as [`JobQueueError::Dying`].
    pub fn check_jobs(&mut self) -> Result<Vec<String>, JobQueueError> {
        let active = self.queue.active(self.system, &self.jobs())?;
        let mut ended = Vec::new();
        self.jobs.retain(|(id, _)| {
            let holds = active.contains(id);
            if !holds {
                ended.push(id.clone());
            }
            holds
        });
        if ended.is_empty() {
            return Ok(ended);
        }
        let now = std::time::Instant::now();
        self.ended.extend(ended.iter().map(|id| (now, id.clone())));
        while self.ended.front().is_some_and(|(t, _)| now.duration_since(*t) > DYING_WINDOW) {
            self.ended.pop_front();
        }
        let wanted = self.jobs.len() + ended.len();
        if self.dying {
            return Ok(ended);
        }
        if self.ended.len() > DYING_MIN.max(2 * wanted) {
            self.dying = true;
            let last: Vec<&str> = self.ended.iter().rev().take(5).map(|(_, id)| id.as_str()).collect();
            return Err(JobQueueError::Dying { ended: self.ended.len(), window: DYING_WINDOW, last: last.join(" ") });
        }
        self.scale_jobs(wanted)?;
        Ok(ended)
    }

    /// Whether jobs kept dying and are no longer replaced.
    pub fn is_dying(&self) -> bool {
        self.dying
    }

    /// Cancels every job it started.
    pub fn close(&mut self) -> Result<(), JobQueueError> {
        self.scale_jobs(0)
    }
}

impl Drop for JobQueueCluster {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!("jobs {:?} may still be queued: {e}", self.jobs());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A queue that records what it is asked.
    #[derive(Default, Clone)]
    struct Fake(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl Queue for Fake {
        fn submit(&mut self, _: System, script: &str) -> Result<String, JobQueueError> {
            let mut log = self.0.lock().unwrap();
            let id = format!("{}", 100 + log.iter().filter(|l| l.starts_with("submit")).count());
            let name = script.lines().last().unwrap().split("--name ").nth(1).unwrap().to_string();
            log.push(format!("submit {id} {name}"));
            Ok(id)
        }
        fn cancel(&mut self, _: System, ids: &[String]) -> Result<(), JobQueueError> {
            self.0.lock().unwrap().push(format!("cancel {}", ids.join(" ")));
            Ok(())
        }
        fn active(&mut self, _: System, ids: &[String]) -> Result<Vec<String>, JobQueueError> {
            let log = self.0.lock().unwrap();
            let dead = |id: &String| log.iter().any(|l| l == &format!("dies {id}"));
            Ok(ids.iter().filter(|id| !dead(id)).cloned().collect())
        }
    }

    #[test]
    fn jobs_that_end_are_replaced_until_they_keep_dying() {
        let fake = Fake::default();
        let spec = JobSpec::new(1, "1GB").unwrap().name("bw");
        let mut c = JobQueueCluster::new(System::Slurm, spec, "tcp://h:1", fake.clone()).unwrap();
        c.scale(2).unwrap();
        assert_eq!(c.check_jobs().unwrap(), Vec::<String>::new());
        fake.0.lock().unwrap().push("dies 100".into());
        assert_eq!(c.check_jobs().unwrap(), ["100"]);
        assert_eq!(c.jobs(), ["101", "102"], "a job in its place");
        // Every new job dies too: after more than max(5, 2 × 2) endings
        // the cluster stops replacing them and says so once.
        let mut err = None;
        for _ in 0..10 {
            let ids = c.jobs().to_vec();
            fake.0.lock().unwrap().extend(ids.iter().map(|id| format!("dies {id}")));
            match c.check_jobs() {
                Ok(_) => {}
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        let e = err.expect("reported").to_string();
        assert!(e.contains("jobs ended without being cancelled") && e.contains("output files"), "{e}");
        assert!(c.is_dying() && c.jobs().is_empty());
        assert!(c.check_jobs().is_ok(), "said once");
    }

    #[test]
    fn status_commands_are_read_per_queue() {
        let ids = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(listed(System::Slurm, "12\n14\n", &ids(&["12", "13", "14"])), ids(&["12", "14"]));
        let pbs = "Job id            Name  User  Time Use S Queue\n----\n12.pbs-serv      w     me    0        R q\n";
        assert_eq!(listed(System::Pbs, pbs, &ids(&["12.pbs-server", "13.pbs-server"])), ids(&["12.pbs-server"]));
        let sge = "job-ID  prior   name user state\n-----\n   77 0.5 w me r\n";
        assert_eq!(listed(System::Sge, sge, &ids(&["77", "78"])), ids(&["77"]));
        let lsf = "9 RUN\n10 DONE\n11 PEND\n";
        assert_eq!(listed(System::Lsf, lsf, &ids(&["9", "10", "11"])), ids(&["9", "11"]));
    }

    #[test]
    fn scaling_down_retires_the_named_workers_then_cancels_their_jobs() {
        let fake = Fake::default();
        let spec = JobSpec::new(1, "1GB").unwrap().name("bw");
        let mut c = JobQueueCluster::new(System::Slurm, spec, "tcp://h:1", fake.clone()).unwrap();
        c.scale(3).unwrap();
        assert_eq!(c.jobs(), ["100", "101", "102"]);
        let mut retired = Vec::new();
        let mut retire = |names: &[String]| {
            retired.extend(names.iter().cloned());
            Ok(())
        };
        c.apply(&crate::Decision::Down(2, vec!["bw-1".into()]), &mut retire).unwrap();
        assert_eq!(retired, ["bw-1"]);
        assert_eq!(c.jobs(), ["100", "102"]);
        // Names of no job of ours, or none: the newest go.
        c.apply(&crate::Decision::Down(1, vec!["other-7".into()]), &mut |_| Ok(())).unwrap();
        assert_eq!(c.jobs(), ["100"]);
        c.scale(2).unwrap();
        assert_eq!(c.jobs(), ["100", "103"], "new jobs get new numbers");
        let log = fake.0.lock().unwrap().clone();
        assert_eq!(log[1..3], ["submit 101 bw-1".to_string(), "submit 102 bw-2".to_string()]);
        assert_eq!(log[3..5], ["cancel 101".to_string(), "cancel 102".to_string()]);
        assert_eq!(log[5], "submit 103 bw-3");
    }

    #[test]
    fn job_ids_from_each_queue() {
        assert_eq!(job_id(System::Slurm, "Submitted batch job 4242\n").as_deref(), Some("4242"));
        assert_eq!(job_id(System::Pbs, "123.pbs-server\n").as_deref(), Some("123.pbs-server"));
        assert_eq!(job_id(System::Sge, "Your job 77 (\"w\") has been submitted").as_deref(), Some("77"));
        assert_eq!(job_id(System::Lsf, "Job <9> is submitted to queue <normal>.").as_deref(), Some("9"));
        assert_eq!(job_id(System::Slurm, "error"), None);
    }
}
