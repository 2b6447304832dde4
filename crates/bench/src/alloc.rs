//! A counting allocator: live and peak heap bytes, for the memory figures.
//!
//! Each thread adds up its own allocations and frees and brings them to
//! the shared counters once they pass [`FLUSH`] bytes either way: one
//! shared counter updated on every allocation made each allocation a
//! contended atomic update, which slowed allocation-heavy work on two
//! threads about threefold (and so the figures measured under it). The
//! peak is therefore known to within `FLUSH` bytes per thread.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

use blockwork as bw;
use bw::Allocator as Inner;

/// The allocator every blockwork binary uses ([`blockwork::Allocator`]),
/// counting live bytes and their peak.
pub struct Counting;

/// Live bytes as last brought in by the threads (a thread may free what
/// another allocated before either brought its count in: signed).
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// A thread's net bytes not yet in `LIVE` are brought in past this.
const FLUSH: isize = 64 * 1024;

thread_local! {
    /// This thread's net allocated bytes not yet in `LIVE`. No destructor
    /// (registering one could allocate, inside the allocator): what a
    /// thread holds when it exits, less than `FLUSH`, is not counted.
    static PENDING: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` bytes to the shared counters.
fn bring_in(delta: isize) {
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    if delta > 0 {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

/// Counts `delta` bytes allocated (negative: freed) by this thread.
fn count(delta: isize) {
    let due = PENDING.try_with(|p| {
        let v = p.get() + delta;
        if v.abs() >= FLUSH {
            p.set(0);
            v
        } else {
            p.set(v);
            0
        }
    });
    match due {
        Ok(0) => {}
        Ok(v) => bring_in(v),
        Err(_) => bring_in(delta),
    }
}

// SAFETY: every method forwards to blockwork's allocator with the caller's arguments
// unchanged, so its contract is upheld; the counters are plain
// atomics and a const-initialized thread-local cell, and never touch the
// memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    // Forwarded rather than left to the default (`alloc` then writing
    // zeros): fresh pages come already zero without being touched, so a
    // large zeroed buffer costs memory only as it is written, as it does
    // outside the benchmark.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { Inner.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Heap bytes in use now (this thread's own count brought in first).
pub fn live() -> usize {
    let _ = PENDING.try_with(|p| bring_in(p.replace(0)));
    LIVE.load(Ordering::Relaxed).max(0) as usize
}

/// Restarts peak tracking from the current level.
pub fn reset_peak() {
    PEAK.store(live() as isize, Ordering::Relaxed);
}

/// The highest heap use since the last reset.
pub fn peak() -> usize {
    let _ = live();
    PEAK.load(Ordering::Relaxed).max(0) as usize
}

/// Worker processes whose peak memory counts with this one's.
static CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Counts the process `pid` (a worker) in [`peak_rss_mib`].
pub fn add_child(pid: u32) {
    CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
}

/// Stops counting `pid`.
pub fn remove_child(pid: u32) {
    CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).retain(|&p| p != pid);
}

/// Peak resident memory (VmHWM) of each worker process, in MiB.
pub fn worker_peaks_mib() -> Vec<f64> {
    use bw::local::procfs::{peak_rss, Process};
    let children = CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).clone();
    children.into_iter().map(|pid| peak_rss(Process::Pid(pid)).unwrap_or(0) as f64 / (1024.0 * 1024.0)).collect()
}

/// Peak resident memory (VmHWM) of this process and its worker
/// processes, summed, in MiB.
pub fn peak_rss_mib() -> f64 {
    use bw::local::procfs::{peak_rss, Process};
    let children = CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let procs = std::iter::once(Process::This).chain(children.into_iter().map(Process::Pid));
    procs.map(|p| peak_rss(p).unwrap_or(0) as f64).sum::<f64>() / (1024.0 * 1024.0)
}
