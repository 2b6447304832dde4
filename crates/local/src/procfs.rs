//! The one reader of Linux's `/proc` in blockwork: resident memory and
//! CPU time of this process or another (its worker processes).
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
}

impl Process {
    fn file(self, name: &str) -> String {
        match self {
            Process::This => format!("/proc/self/{name}"),
            Process::Pid(p) => format!("/proc/{p}/{name}"),
        }
    }
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
        }
    }
}
