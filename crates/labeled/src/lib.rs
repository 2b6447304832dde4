//! Labeled N-d arrays in the style of xarray, over blockwork's chunked
//! arrays: named dimensions, index coordinates (datetimes of any CF
//! calendar among them), attributes, lazy reading of piles of NetCDF
//! files, and reading and writing of Zarr v2 and v3 stores.
//!
//! ```no_run
//! use blockwork_labeled as xr;
//!
//! let tas = xr::open_mfdataset("/data/era5_t2m_*.nc", &[("time", 31)])?.get("t2m")?;
//! let clim = tas.sel("time", "1981"..="2010")?.groupby("time.season")?.mean("time")?;
//! let anom = tas.sel("time", "2018")?.groupby("time.season")?.mean("time")?.sub(&clim)?;
//! let values = anom.values()?;                      // (season, latitude, longitude)
//! # Ok::<(), xr::LabeledError>(())
//! ```
//!
//! Shape of the crate:
//!
//! - [`DataArray`]: a [`Data`] (a chunked array of any element type),
//!   dimension names, [`Coord`]s (1-d [`Index`]es) and [`Attrs`].
//!   Selection by position ([`DataArray::isel`]) and by label
//!   ([`DataArray::sel`]: labels, nearest, slices that include both ends,
//!   partial dates like `"2018-06"`), reductions by dimension name that
//!   skip NaN, arithmetic aligned on coordinates and broadcast by name.
//! - [`GroupBy`]: `groupby("time.season")` and friends, reduced by the
//!   array crate's grouped reductions (one sparse partial per block, no
//!   shuffling), and arithmetic against per-group arrays.
//! - [`Dataset`]: the variables of a file or a pile of files.
//! - [`io`]: [`open_dataset`] and [`open_mfdataset`] for NetCDF-4 and
//!   classic files through the pure-Rust `netcdf-reader` (nothing from
//!   the system; a local file's chunks inflated by libdeflate, compiled
//!   in); every block is a task that reads only its hyperslab.
//!   [`open_zarr`] reads Zarr v2 and v3 stores written by xarray (through
//!   `zarrs`: Blosc, gzip, zstd or no compression; consolidated metadata
//!   or not), and [`Dataset::to_zarr`] / [`DataArray::to_zarr`] write
//!   stores xarray reads back ([`ZarrVersion`]), one task per chunk.
//!
//! Every process that runs these graphs must know the reader's task
//! function: [`register`] (the facade's `register_builtins` calls it).

mod attrs;
mod cf;
mod data;
mod dataarray;
mod dataset;
mod error;
mod groupby;
mod index;
pub mod io;
mod ops;
mod plot;
mod resample;
pub mod time;

pub use attrs::{AttrValue, Attrs};
pub use data::{ArithOp, Data};
pub use dataarray::{Coord, Coords, DataArray, Selector};
pub use dataset::{AuxCoord, Dataset};
pub use error::{LabeledError, Result};
pub use groupby::GroupBy;
pub use index::{Index, Label};
pub use io::mfdataset::{glob, open_mfdataset, Paths};
pub use io::netcdf::{open_dataset, open_variable};
pub use io::netcdf_write::NetcdfOptions;
pub use io::zarr::{open_zarr, open_zarr_array};
pub use io::zarr_write::{write_zarr_array, ZarrVersion};
pub use ops::{Cmp, Rolling, Weighted};
pub use time::{Calendar, DateTime};

/// Registers the task functions of labeled arrays (the NetCDF, Zarr and
/// GRIB readers, the Zarr writer) and everything the array crate needs, so
/// graphs built here run in this process or any worker that calls it.
pub fn register() {
    blockwork_array::register();
    blockwork_graph::register(&io::netcdf::READ_NETCDF);
    blockwork_array::rows::register_rows(&io::netcdf::NETCDF_ROWS);
    blockwork_graph::register(&io::zarr::READ_ZARR);
    blockwork_graph::register(&io::zarr_write::WRITE_ZARR);
    blockwork_graph::register(&io::READ_GRIB);
}
