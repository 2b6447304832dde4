//! The one reader of Linux's `/proc` in blockwork: resident memory and
//! CPU time of this process or another (its worker processes), and CPU
//! time of one of this process's threads (a worker's task threads).
//!
//! Memory comes from `/proc/PID/status`, which reports kilobytes, so no
//! page size is assumed; CPU time from `/proc/PID/stat`, in the kernel's
//! `USER_HZ` ticks, which the kernel ABI fixes at 100 on the platforms
//! blockwork targets. Elsewhere (no `/proc`) every reading is `None`.

/// Which process: this one, or another by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    /// This process.
    This,
    /// Another process, by id.
    Pid(u32),
    /// A thread of this process, by its kernel thread id
    /// ([`this_thread`]).
    Thread(u32),
}

impl Process {
    fn file(self, name: &str) -> String {
        match self {
            Process::This => format!("/proc/self/{name}"),
            Process::Pid(p) => format!("/proc/{p}/{name}"),
            Process::Thread(t) => format!("/proc/self/task/{t}/{name}"),
        }
    }
}

/// The kernel's id of the calling thread (`/proc/thread-self` names it).
pub fn this_thread() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// A `kB` field of `/proc/PID/status`, in bytes.
fn status_bytes(p: Process, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(p.file("status")).ok()?;
    status_field(&status, field)
}

fn status_field(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resident memory now (`VmRSS`), bytes.
pub fn rss(p: Process) -> Option<u64> {
    status_bytes(p, "VmRSS")
}

/// The highest resident memory so far (`VmHWM`), bytes.
pub fn peak_rss(p: Process) -> Option<u64> {
    status_bytes(p, "VmHWM")
}

/// CPU seconds used so far, user and system.
pub fn cpu_seconds(p: Process) -> Option<f64> {
    let stat = std::fs::read_to_string(p.file("stat")).ok()?;
    stat_cpu_seconds(&stat)
}

fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    // Fields after the parenthesised command name (which may hold spaces);
    // utime and stime are the 12th and 13th of them.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_by_name() {
        let status = "Name:\ta b\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nVmRSSX:\t 9 kB\n";
        assert_eq!(status_field(status, "VmRSS"), Some(1024 * 1024));
        assert_eq!(status_field(status, "VmHWM"), Some(2048 * 1024));
        assert_eq!(status_field(status, "VmSwap"), None);
        let stat = "42 (a) b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        assert_eq!(stat_cpu_seconds(stat), Some(3.0));
    }

    #[test]
    fn this_process_is_readable_on_linux() {
        if cfg!(target_os = "linux") {
            let (now, peak) = (rss(Process::This).unwrap(), peak_rss(Process::This).unwrap());
            assert!(now > 0 && peak >= now, "{now} {peak}");
            assert!(cpu_seconds(Process::This).is_some());
            assert_eq!(rss(Process::Pid(u32::MAX)), None, "no such process");
            // A thread's CPU time counts only its own work.
            let busy = std::thread::spawn(|| {
                let t = this_thread().unwrap();
                let start = std::time::Instant::now();
                let mut x = 0u64;
                while start.elapsed() < std::time::Duration::from_millis(300) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
                (t, cpu_seconds(Process::Thread(t)).unwrap())
            })
            .join()
            .unwrap();
            assert!(busy.1 >= 0.1, "the busy thread used {} s", busy.1);
            assert_ne!(Some(busy.0), this_thread());
            let me = cpu_seconds(Process::Thread(this_thread().unwrap())).unwrap();
            assert!(me <= cpu_seconds(Process::This).unwrap());
        }
    }
}
