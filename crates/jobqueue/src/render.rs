//! Submission scripts: the queue's directives (as dask-jobqueue writes
//! them), the prologue, then the workers.

use crate::spec::{JobSpec, System};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// SLURM's `--mem`: binary units named `K`, `M`, `G`, rounded up.
fn slurm_memory(n: u64) -> String {
    match n {
        n if n >= GIB => format!("{}G", n.div_ceil(GIB)),
        n if n >= MIB => format!("{}M", n.div_ceil(MIB)),
        n => format!("{}K", n.div_ceil(KIB).max(1)),
    }
}

/// PBS's `mem=`: binary units named `kB`, `MB`, `GB` from ten of them up,
/// rounded up.
fn pbs_memory(n: u64) -> String {
    match n {
        n if n >= 10 * GIB => format!("{}GB", n.div_ceil(GIB)),
        n if n >= 10 * MIB => format!("{}MB", n.div_ceil(MIB)),
        n if n >= 10 * KIB => format!("{}kB", n.div_ceil(KIB)),
        n => format!("{n}B"),
    }
}

/// The directive lines of a job (without the `#!` line).
fn directives(system: System, spec: &JobSpec) -> Vec<String> {
    let mut h = Vec::new();
    let (tag, extra_prefix) = match system {
        System::Slurm => ("#SBATCH", "#SBATCH"),
        System::Pbs => ("#PBS", "#PBS"),
        System::Sge => ("#$", "#$"),
        System::Lsf => ("#BSUB", "#BSUB"),
    };
    let name_flag = match system {
        System::Slurm | System::Lsf => "-J",
        System::Pbs | System::Sge => "-N",
    };
    h.push(format!("{tag} {name_flag} {}", spec.name));
    if let Some(q) = &spec.queue {
        h.push(format!("{tag} {} {q}", if system == System::Slurm { "-p" } else { "-q" }));
    }
    if let Some(a) = &spec.account {
        h.push(match system {
            System::Slurm | System::Pbs => format!("{tag} -A {a}"),
            System::Sge => format!("{tag} -P {a}"),
            System::Lsf => format!("{tag} -P \"{a}\""),
        });
    }
    match system {
        System::Slurm => {
            h.push(format!("{tag} -n 1"));
            h.push(format!("{tag} --cpus-per-task={}", spec.cores));
            h.push(format!("{tag} --mem={}", slurm_memory(spec.memory)));
            if let Some(w) = &spec.walltime {
                h.push(format!("{tag} -t {w}"));
            }
        }
        System::Pbs => {
            h.push(format!("{tag} -l select=1:ncpus={}:mem={}", spec.cores, pbs_memory(spec.memory)));
            if let Some(w) = &spec.walltime {
                h.push(format!("{tag} -l walltime={w}"));
            }
        }
        System::Sge => {
            if let Some(r) = &spec.resource_spec {
                h.push(format!("{tag} -l {r}"));
            }
            if let Some(w) = &spec.walltime {
                h.push(format!("{tag} -l h_rt={w}"));
            }
            h.push(format!("{tag} -cwd"));
            h.push(format!("{tag} -j y"));
        }
        System::Lsf => {
            h.push(format!("{tag} -n {}", spec.cores));
            if spec.cores > 1 {
                // All of a job's cores on one host.
                h.push(format!("{tag} -R \"span[hosts=1]\""));
            }
            // LSF's default unit (LSF_UNIT_FOR_LIMITS) is kilobytes.
            h.push(format!("{tag} -M {}", spec.memory.div_ceil(1000)));
            if let Some(w) = &spec.walltime {
                h.push(format!("{tag} -W {w}"));
            }
        }
    }
    h.extend(spec.job_extra_directives.iter().map(|d| format!("{extra_prefix} {d}")));
    h
}

/// Single quotes for the shell, unless the word needs none.
fn quoted(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The submission script of one job of `spec` on `system`, whose workers
/// connect to `scheduler` and are named `NAME-JOB` (`NAME-JOB-i` when the
/// job runs several).
pub fn job_script(system: System, spec: &JobSpec, scheduler: &str, job: &str) -> String {
    let mut out = String::from("#!/usr/bin/env bash\n\n");
    for line in directives(system, spec) {
        out.push_str(&line);
        out.push('\n');
    }
    // The prologue as one block, an empty line when there is none (as
    // dask-jobqueue's template).
    out.push_str(&spec.job_script_prologue.join("\n"));
    out.push('\n');
    let mut flags =
        format!("{} --nthreads {} --memory-limit {}", quoted(scheduler), spec.worker_threads(), spec.worker_memory());
    if let Some(d) = &spec.local_directory {
        flags.push_str(&format!(" --local-directory {}", quoted(d)));
    }
    if let Some(i) = &spec.interface {
        flags.push_str(&format!(" --interface {}", quoted(i)));
    }
    for a in &spec.worker_extra_args {
        flags.push(' ');
        flags.push_str(&quoted(a));
    }
    let name = format!("{}-{job}", spec.name);
    if spec.processes <= 1 {
        out.push_str(&format!("{} {flags} --name {}\n", spec.worker_command, quoted(&name)));
    } else {
        out.push_str(&format!("for i in $(seq 0 {}); do\n", spec.processes - 1));
        out.push_str(&format!("  {} {flags} --name {}-\"$i\" &\ndone\nwait\n", spec.worker_command, quoted(&name)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_each_queue() {
        assert_eq!(slurm_memory(1), "1K");
        assert_eq!(slurm_memory(1234), "2K");
        assert_eq!(slurm_memory(12_345_678), "12M");
        assert_eq!(slurm_memory(15_000_000_000), "14G");
        assert_eq!(pbs_memory(1234), "1234B");
        assert_eq!(pbs_memory(12_345_678), "12MB");
        assert_eq!(pbs_memory(1_234_567_890), "1178MB");
        assert_eq!(pbs_memory(15_000_000_000), "14GB");
    }

    #[test]
    fn several_workers_per_job_share_it() {
        let spec = JobSpec::new(8, "16GB").unwrap().processes(4).name("bw");
        let s = job_script(System::Slurm, &spec, "tcp://h:1", "3");
        assert!(s.contains("for i in $(seq 0 3); do"), "{s}");
        assert!(
            s.contains("blockwork worker tcp://h:1 --nthreads 2 --memory-limit 4000000000 --name bw-3-\"$i\" &"),
            "{s}"
        );
        assert!(s.ends_with("done\nwait\n"), "{s}");
        let mut spec = JobSpec::new(1, "1GB").unwrap();
        spec.interface = Some("ib0".into());
        assert!(job_script(System::Pbs, &spec, "tcp://h:1", "0").contains("--memory-limit 1000000000 --interface ib0"));
    }
}
