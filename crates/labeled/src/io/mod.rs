//! Reading files into datasets.

pub mod mfdataset;
pub mod netcdf;
