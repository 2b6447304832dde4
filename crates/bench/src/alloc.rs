//! A counting allocator: live and peak heap bytes, for the memory figures.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use blockwork as bw;
use mimalloc::MiMalloc;

/// The allocator every blockwork binary uses (mimalloc, see the `blockwork`
/// CLI), counting live bytes and their peak.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `MiMalloc` with the caller's arguments
// unchanged, so its contract is upheld; the counters are plain
// atomics and never touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { MiMalloc.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Heap bytes in use now.
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Restarts peak tracking from the current level.
pub fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

/// The highest heap use since the last reset.
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
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

/// Peak resident memory (VmHWM) of this process and its worker
/// processes, summed, in MiB.
pub fn peak_rss_mib() -> f64 {
    use bw::local::procfs::{peak_rss, Process};
    let children = CHILDREN.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let procs = std::iter::once(Process::This).chain(children.into_iter().map(Process::Pid));
    procs.map(|p| peak_rss(p).unwrap_or(0) as f64).sum::<f64>() / (1024.0 * 1024.0)
}
