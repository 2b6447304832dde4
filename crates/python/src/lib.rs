//! `blockwork._core`: the extension module behind the Python package
//! `blockwork` (sources and `pyproject.toml` under `python/`).
//!
//! The Python package is thin: it parses NumPy-style arguments and
//! implements NumPy's protocols, and calls this module for everything
//! that builds graphs, computes or touches elements. Computations run with
//! the GIL released ([`run`]); results reach NumPy without a copy
//! ([`buffer`]).

mod array;
mod bag;
mod buffer;
mod client;
mod coord;
mod creation;
mod delayed;
mod diagnostics;
mod errors;
mod frame;
mod jobqueue;
mod labeled;
mod mapblocks;
mod partitions;
mod pytask;
mod rect;
mod remote;
mod run;
mod zarr;

use pyo3::prelude::*;

/// Rust allocations of the extension (blocks, graphs) go to blockwork's
/// allocator, as in the `blockwork` binaries: mimalloc, which reuses freed
/// multi-megabyte blocks where glibc's malloc returns them to the kernel
/// and faults fresh pages in, with blocks of 64 MiB and more given to the
/// system so their memory goes back when they are freed.
#[global_allocator]
static ALLOC: blockwork::Allocator = blockwork::Allocator;

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The engine's log lines (a cluster's scheduler and workers) to stderr, as RUST_LOG filters them.
    blockwork::init_logging();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("WORKER_USAGE", blockwork::WORKER_USAGE)?;
    m.add("WORKER_HELP", blockwork::WORKER_HELP)?;
    m.add_class::<array::PyArr>()?;
    m.add_class::<buffer::NdBuffer>()?;
    m.add_class::<delayed::DelayedBase>()?;
    m.add_class::<jobqueue::PyJobQueue>()?;
    m.add_class::<frame::PyFrame>()?;
    m.add_class::<frame::PyExpr>()?;
    m.add_class::<frame::PyArrowColumn>()?;
    m.add_function(wrap_pyfunction!(frame::compute_frames, m)?)?;
    m.add_class::<diagnostics::PyProgress>()?;
    m.add_class::<diagnostics::PyProfiler>()?;
    m.add_class::<diagnostics::PyResources>()?;
    m.add_function(wrap_pyfunction!(creation::full, m)?)?;
    m.add_function(wrap_pyfunction!(creation::arange, m)?)?;
    m.add_function(wrap_pyfunction!(creation::linspace, m)?)?;
    m.add_function(wrap_pyfunction!(creation::eye, m)?)?;
    m.add_function(wrap_pyfunction!(creation::random, m)?)?;
    m.add_function(wrap_pyfunction!(creation::from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(creation::from_npy, m)?)?;
    m.add_function(wrap_pyfunction!(creation::where_, m)?)?;
    m.add_function(wrap_pyfunction!(creation::concatenate, m)?)?;
    m.add_function(wrap_pyfunction!(creation::einsum, m)?)?;
    m.add_function(wrap_pyfunction!(creation::compute_many, m)?)?;
    m.add_function(wrap_pyfunction!(pytask::compute_delayed, m)?)?;
    m.add_function(wrap_pyfunction!(pytask::compute_dask_graph, m)?)?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<client::PyFuture>()?;
    m.add_class::<client::PyAsCompleted>()?;
    m.add_class::<client::PyScheduler>()?;
    m.add_class::<client::PyPerformanceReport>()?;
    m.add_class::<coord::PyVariable>()?;
    m.add_class::<coord::PyQueue>()?;
    m.add_class::<coord::PyLock>()?;
    m.add_class::<coord::PyEvent>()?;
    m.add_class::<coord::PySemaphore>()?;
    m.add_function(wrap_pyfunction!(client::worker_main, m)?)?;
    m.add_function(wrap_pyfunction!(client::worker_client, m)?)?;
    m.add_function(wrap_pyfunction!(bag::text_pieces, m)?)?;
    m.add_function(wrap_pyfunction!(bag::read_text_piece, m)?)?;
    m.add_function(wrap_pyfunction!(bag::write_text_file, m)?)?;
    m.add_function(wrap_pyfunction!(jobqueue::interface_address, m)?)?;
    m.add_function(wrap_pyfunction!(zarr::from_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(labeled::open_labeled, m)?)?;
    m.add_function(wrap_pyfunction!(labeled::open_variable, m)?)?;
    m.add_function(wrap_pyfunction!(mapblocks::blockwise_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(zarr::to_zarr, m)?)?;
    Ok(())
}
