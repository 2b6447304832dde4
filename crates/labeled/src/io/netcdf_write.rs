//! Writing datasets to NetCDF files through the pure-Rust
//! `netcdf-writer`, in a form xarray reads back as it was: index
//! coordinates as coordinate variables, datetimes counted from the
//! earliest in the largest whole unit (`"days since 1979-01-01 00:00:00"`,
//! as the Zarr writer does) with their calendar, text coordinates as strings
//! (NetCDF-4), float variables with a NaN `_FillValue`, attributes.
//!
//! The writer builds the file in memory before writing it, so a dataset is
//! computed whole first (one graph for all its variables): a result, a
//! climatology, one month of a pile; not an array larger than memory.

use std::path::Path;

use blockwork_array::DType;
use netcdf_reader::NcAttrValue;
use netcdf_writer::{DimensionId, NcFileBuilder, NcWriteFormat, NcWriteOptions};

use crate::attrs::{AttrValue, Attrs};
use crate::dataarray::{Coord, DataArray};
use crate::dataset::Dataset;
use crate::error::{file_err, io_err, LabeledError, Result};
use crate::index::Index;

/// How [`Dataset::to_netcdf_with`] stores variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetcdfOptions {
    /// NetCDF-4 (HDF5) when true, else classic 64-bit offset (no text
    /// coordinates, no compression).
    pub netcdf4: bool,
    /// zlib level (1–9) with shuffle for data variables; `None`:
    /// contiguous, uncompressed.
    pub zlib: Option<u8>,
}

impl NetcdfOptions {
    /// Options that cannot be honoured are refused, not ignored: a zlib
    /// level outside 1–9, or compression of a classic (NetCDF-3) file.
    fn check(&self) -> std::result::Result<(), String> {
        match self.zlib {
            Some(level) if !(1..=9).contains(&level) => {
                Err(format!("zlib level {level}: give 1 (fastest) to 9 (smallest), or None for no compression"))
            }
            Some(_) if !self.netcdf4 => {
                Err("zlib compression needs a NetCDF-4 file (netcdf4: true); classic NetCDF-3 files are not compressed"
                    .into())
            }
            _ => Ok(()),
        }
    }
}

impl Default for NetcdfOptions {
    fn default() -> Self {
        NetcdfOptions { netcdf4: true, zlib: None }
    }
}

fn attr(v: &AttrValue) -> NcAttrValue {
    match v {
        AttrValue::Str(s) => NcAttrValue::Chars(s.clone()),
        AttrValue::Num(x) => NcAttrValue::Doubles(x.clone()),
        AttrValue::Int(x) => NcAttrValue::Int64s(x.clone()),
    }
}

struct Writer<'a> {
    b: NcFileBuilder,
    path: &'a Path,
    dims: Vec<(String, DimensionId)>,
}

impl Writer<'_> {
    fn err(&self, what: &str, e: impl std::fmt::Display) -> LabeledError {
        file_err(self.path, format!("writing {what}: {e}"))
    }

    fn dim(&mut self, name: &str, len: usize) -> Result<DimensionId> {
        if let Some((_, id)) = self.dims.iter().find(|(d, _)| d == name) {
            return Ok(*id);
        }
        let id = self.b.add_dimension(name, len as u64).map_err(|e| self.err(name, e))?;
        self.dims.push((name.to_string(), id));
        Ok(id)
    }

    fn attrs(&mut self, var: netcdf_writer::VariableId, attrs: &Attrs, name: &str) -> Result<()> {
        for (k, v) in attrs {
            self.b.add_variable_attribute(var, k.as_str(), attr(v)).map_err(|e| self.err(name, e))?;
        }
        Ok(())
    }

    /// Integers as int32 where they fit (as ERA5 stores its hours), else
    /// int64 (NetCDF-4) or float64 (classic formats have no int64).
    fn ints(&mut self, name: &str, d: DimensionId, v: &[i64], netcdf4: bool) -> Result<netcdf_writer::VariableId> {
        let e = |w: &Self, x: netcdf_writer::Error| w.err(name, x);
        if v.iter().all(|&x| i32::try_from(x).is_ok()) {
            let id = self.b.add_variable::<i32>(name, &[d]).map_err(|x| e(self, x))?;
            let v: Vec<i32> = v.iter().map(|&x| x as i32).collect();
            self.b.write_variable(id, &v).map_err(|x| e(self, x))?;
            Ok(id)
        } else if netcdf4 {
            let id = self.b.add_variable::<i64>(name, &[d]).map_err(|x| e(self, x))?;
            self.b.write_variable(id, v).map_err(|x| e(self, x))?;
            Ok(id)
        } else {
            let id = self.b.add_variable::<f64>(name, &[d]).map_err(|x| e(self, x))?;
            let v: Vec<f64> = v.iter().map(|&x| x as f64).collect();
            self.b.write_variable(id, &v).map_err(|x| e(self, x))?;
            Ok(id)
        }
    }

    fn coord(&mut self, name: &str, c: &Coord, netcdf4: bool) -> Result<()> {
        let d = self.dim(name, c.index.len())?;
        let mut attrs = c.attrs.clone();
        let e = |w: &Self, e: netcdf_writer::Error| w.err(name, e);
        match &c.index {
            Index::Float(v) => {
                let id = self.b.add_variable::<f64>(name, &[d]).map_err(|x| e(self, x))?;
                self.b.write_variable(id, v).map_err(|x| e(self, x))?;
                self.attrs(id, &attrs, name)?;
            }
            Index::Int(v) => {
                let id = self.ints(name, d, v, netcdf4)?;
                self.attrs(id, &attrs, name)?;
            }
            Index::Time { calendar, values } => {
                let (numbers, units, whole) = crate::cf::encode_times(values, *calendar);
                attrs.insert("units".into(), AttrValue::Str(units));
                attrs.insert("calendar".into(), AttrValue::Str(calendar.name().into()));
                let id = if whole {
                    let v: Vec<i64> = numbers.iter().map(|&x| x as i64).collect();
                    self.ints(name, d, &v, netcdf4)?
                } else {
                    let id = self.b.add_variable::<f64>(name, &[d]).map_err(|x| e(self, x))?;
                    self.b.write_variable(id, &numbers).map_err(|x| e(self, x))?;
                    id
                };
                self.attrs(id, &attrs, name)?;
            }
            Index::Str(v) => {
                if !netcdf4 {
                    return Err(self.err(name, "text coordinates need NetCDF-4"));
                }
                let id = self.b.add_string_variable(name, &[d]).map_err(|x| e(self, x))?;
                self.b.write_string_variable(id, v).map_err(|x| e(self, x))?;
                self.attrs(id, &attrs, name)?;
            }
        }
        Ok(())
    }

    fn var(&mut self, da: &DataArray, values: ndarray::ArrayD<f64>, opts: NetcdfOptions) -> Result<()> {
        let name = da.name().unwrap_or("__xarray_dataarray_variable__").to_string();
        let dims: Vec<DimensionId> =
            da.dims().iter().zip(da.shape()).map(|(d, &n)| self.dim(d, n)).collect::<Result<_>>()?;
        let flat: Vec<f64> = values.as_standard_layout().iter().copied().collect();
        let e = |w: &Self, x: netcdf_writer::Error| w.err(&name, x);
        macro_rules! put {
            ($t:ty, $fill:expr) => {{
                let id = self.b.add_variable::<$t>(name.as_str(), &dims).map_err(|x| e(self, x))?;
                if let Some(f) = $fill {
                    self.b.set_variable_fill_value::<$t>(id, f).map_err(|x| e(self, x))?;
                }
                if let (Some(level), true, false) = (opts.zlib, opts.netcdf4, dims.is_empty()) {
                    let chunk: Vec<u64> = da.data().chunks().iter().map(|c| c[0].max(1) as u64).collect();
                    self.b.set_variable_chunking(id, chunk).map_err(|x| e(self, x))?;
                    self.b.set_variable_deflate(id, Some(level), true).map_err(|x| e(self, x))?;
                }
                let v: Vec<$t> = flat.iter().map(|&x| x as $t).collect();
                self.b.write_variable(id, &v).map_err(|x| e(self, x))?;
                id
            }};
        }
        let id = match da.data().dtype() {
            DType::F64 => put!(f64, Some(f64::NAN)),
            DType::F32 => put!(f32, Some(f32::NAN)),
            DType::I64 => put!(i64, None::<i64>),
            DType::I32 => put!(i32, None::<i32>),
            DType::U8 | DType::Bool => put!(u8, None::<u8>),
            DType::C128 | DType::C64 => return Err(self.err(&name, "NetCDF has no complex type")),
        };
        self.attrs(id, da.attrs(), &name)
    }
}

fn write(
    vars: &[DataArray],
    coords: &crate::dataarray::Coords,
    attrs: &Attrs,
    path: &Path,
    opts: NetcdfOptions,
) -> Result<()> {
    opts.check().map_err(|why| file_err(path, why))?;
    if let Some(v) = vars.iter().find(|v| v.data().dtype().is_complex()) {
        let what =
            format!("variable `{}` is {}: NetCDF has no complex type", v.name().unwrap_or("?"), v.data().dtype());
        return Err(file_err(path, what));
    }
    // One graph computes every variable, so shared inputs are read once.
    let arrays: Vec<_> = vars.iter().map(|v| v.data().cast::<f64>()).collect();
    let refs: Vec<&blockwork_array::Array<f64>> = arrays.iter().collect();
    let values = blockwork_array::compute_many(&refs, &blockwork_local::Config::default())?;
    let mut w = Writer { b: NcFileBuilder::new(), path, dims: Vec::new() };
    for (name, c) in coords {
        w.coord(name, c, opts.netcdf4)?;
    }
    for (v, vals) in vars.iter().zip(values) {
        w.var(v, vals, opts)?;
    }
    for (k, v) in attrs {
        w.b.add_attribute(k.as_str(), attr(v)).map_err(|e| w.err("global attributes", e))?;
    }
    let format = if opts.netcdf4 { NcWriteFormat::Nc4 } else { NcWriteFormat::Offset64 };
    let location = path.to_string_lossy();
    if blockwork_store::is_url(&location) {
        // An object is written whole: the file is made in memory, then put.
        let mut bytes = Vec::new();
        w.b.write(&mut bytes, NcWriteOptions { format }).map_err(|e| file_err(path, e))?;
        return blockwork_store::write_all(&location, bytes).map_err(|e| io_err(path, e));
    }
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    w.b.write(std::io::BufWriter::new(file), NcWriteOptions { format }).map_err(|e| file_err(path, e))?;
    Ok(())
}

impl Dataset {
    /// Computes every variable and writes a NetCDF-4 file.
    pub fn to_netcdf(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_netcdf_with(path, NetcdfOptions::default())
    }

    /// Computes every variable and writes a NetCDF file as `opts` says.
    pub fn to_netcdf_with(&self, path: impl AsRef<Path>, opts: NetcdfOptions) -> Result<()> {
        let vars: Vec<DataArray> = self.data_vars().iter().map(|n| self.get(n)).collect::<Result<_>>()?;
        write(&vars, self.coords(), self.attrs(), path.as_ref(), opts)
    }
}

impl DataArray {
    /// Computes the array and writes it as the one variable of a
    /// NetCDF-4 file (xarray's `DataArray.to_netcdf`).
    pub fn to_netcdf(&self, path: impl AsRef<Path>) -> Result<()> {
        self.to_netcdf_with(path, NetcdfOptions::default())
    }

    /// As [`DataArray::to_netcdf`], stored as `opts` says.
    pub fn to_netcdf_with(&self, path: impl AsRef<Path>, opts: NetcdfOptions) -> Result<()> {
        write(std::slice::from_ref(self), self.coords(), &Attrs::new(), path.as_ref(), opts)
    }
}
