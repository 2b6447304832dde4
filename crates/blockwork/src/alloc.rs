//! [`Allocator`]: the memory allocator of blockwork's programs (the
//! `blockwork` command, the Python extension, the bench).
//!
//! Blocks of a few megabytes are allocated and freed all the time; mimalloc
//! keeps freed memory and hands it out again, where glibc's malloc returns
//! every large block to the kernel and the next one is faulted in afresh
//! (twice the time of some kernels). But memory mimalloc keeps stays
//! resident: a computation that frees one set of very large blocks while
//! it fills another (QR factors while the SVD's `U` is written; a result
//! being assembled) then holds both. Allocations of [`HUGE`] bytes and more
//! therefore go to the system allocator, which maps them on their own and
//! returns them to the kernel when freed; they are marked for transparent
//! huge pages (2 MiB), so one is faulted in by tens of faults, not tens of
//! thousands.
//!
//! mimalloc purges freed memory (gives it back to the kernel) once a delay
//! has passed since the first free after the last purge, and then purges
//! everything freed by that time at once, even a block freed a moment
//! before. With the default delay of one second, a steady churn of blocks
//! (a matrix product's output panels, a pile's decoded chunks) has its
//! memory taken away every second and faulted in again, zeroed page by
//! page by the kernel: a tenth of a product's time. [`Allocator`] sets the
//! delay to [`PURGE_DELAY_MS`] on its first allocation, unless the
//! environment sets `MIMALLOC_PURGE_DELAY`; memory freed and not used again
//! still goes back within that time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

use mimalloc::MiMalloc;

/// Allocations of this many bytes and more go to the system allocator
/// (above glibc's largest mmap threshold, 32 MiB, so they are mapped on
/// their own and unmapped when freed).
pub const HUGE: usize = 64 << 20;

/// How long (milliseconds) mimalloc keeps freed memory before it purges
/// it, unless `MIMALLOC_PURGE_DELAY` says otherwise.
pub const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// mimalloc's option number of the purge delay (`mi_option_purge_delay`
/// in `mimalloc.h`; the bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

static TUNED: AtomicBool = AtomicBool::new(false);

/// Sets mimalloc's purge delay unless the environment sets it. Nothing
/// here allocates or waits, so it may run inside the allocator; threads
/// that race on the first allocations all set the same value.
#[allow(unsafe_code)]
fn tune() {
    if TUNED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: a NUL-terminated name; the environment is only read.
    let set = unsafe { !libc::getenv(c"MIMALLOC_PURGE_DELAY".as_ptr()).is_null() };
    if !set {
        // SAFETY: a valid option number and value; mimalloc only stores them.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    TUNED.store(true, Ordering::Relaxed);
}

/// mimalloc, with allocations of [`HUGE`] bytes and more given to the system.
pub struct Allocator;

#[allow(unsafe_code)]
// SAFETY: each call goes to exactly one of two allocators, chosen by the
// layout's size alone, so memory is always freed or reallocated by the
// allocator that made it (a `realloc` across the threshold allocates in
// the new size's allocator, copies and frees in the old one's).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        unsafe {
            if layout.size() >= HUGE {
                huge_pages(System.alloc(layout), layout.size())
            } else {
                tune();
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        unsafe {
            if layout.size() >= HUGE {
                huge_pages(System.alloc_zeroed(layout), layout.size())
            } else {
                tune();
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was made by the allocator this size selects.
        unsafe {
            if layout.size() >= HUGE {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old_huge, new_huge) = (layout.size() >= HUGE, new_size >= HUGE);
        // SAFETY: within one allocator, forwarded; across the threshold, a
        // new block of the new layout (valid: the caller guarantees
        // `new_size` fits `layout.align()`), the common prefix copied, the
        // old block freed by its own allocator.
        unsafe {
            match (old_huge, new_huge) {
                (true, true) => System.realloc(ptr, layout, new_size),
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

/// Asks the kernel to back the whole 2 MiB pages inside the `len` bytes
/// at `p` with transparent huge pages (a hint: where the kernel does not
/// do them, nothing changes). Returns `p`.
#[allow(unsafe_code)]
fn huge_pages(p: *mut u8, len: usize) -> *mut u8 {
    #[cfg(target_os = "linux")]
    if !p.is_null() {
        const PAGE: usize = 2 << 20;
        let start = (p as usize).next_multiple_of(PAGE);
        let end = (p as usize + len) / PAGE * PAGE;
        if end > start {
            // SAFETY: the range lies inside the block just allocated, and
            // MADV_HUGEPAGE changes no contents, only how pages are backed.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_is_set_on_first_allocation() {
        let layout = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: a fresh block freed with its own layout.
        unsafe { Allocator.dealloc(Allocator.alloc(layout), layout) };
        // SAFETY: a valid option number; mimalloc only reads it.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        let wanted = std::env::var("MIMALLOC_PURGE_DELAY").map_or(PURGE_DELAY_MS, |v| v.parse().unwrap());
        assert_eq!(delay, wanted);
    }

    #[test]
    fn blocks_cross_the_threshold_intact() {
        let a = Allocator;
        for (from, to) in [(1 << 10, HUGE + 4096), (HUGE + 4096, 1 << 10), (HUGE, HUGE * 2), (4096, 8192)] {
            let layout = Layout::from_size_align(from, 16).unwrap();
            #[allow(unsafe_code)]
            // SAFETY: a fresh block of `layout`, written and read within its
            // size, reallocated once and freed with its final layout.
            unsafe {
                let p = a.alloc(layout);
                assert!(!p.is_null());
                for i in (0..from).step_by(4096) {
                    *p.add(i) = (i / 4096) as u8;
                }
                let q = a.realloc(p, layout, to);
                assert!(!q.is_null());
                for i in (0..from.min(to)).step_by(4096) {
                    assert_eq!(*q.add(i), (i / 4096) as u8);
                }
                a.dealloc(q, Layout::from_size_align(to, 16).unwrap());
                let z = a.alloc_zeroed(Layout::from_size_align(to, 16).unwrap());
                assert_eq!(*z.add(to - 1), 0);
                a.dealloc(z, Layout::from_size_align(to, 16).unwrap());
            }
        }
    }
}
