//! NetCDF and GRIB2 piles and Zarr stores opened by the labeled crate's own readers,
//! handed to Python as the parts of an xarray Dataset: each variable a
//! blockwork array whose block reads are the engine's native read tasks
//! (no Python per block), its coordinates and attributes as Python values.

use blockwork::labeled::{self, AttrValue, Attrs, Calendar, DataArray, Dataset, Index, Paths};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::array::PyArr;
use crate::zarr::labeled_err;

/// One variable: name, dimensions, data, attributes.
type Var = (String, Vec<String>, PyArr, Py<PyDict>);
/// One index coordinate: dimension, kind (`float`, `int`, `str`,
/// `datetime64[us]` or `cftime:CALENDAR`), values, attributes.
type CoordOut = (String, String, Py<PyAny>, Py<PyDict>);
/// One coordinate that labels no dimension of its own (GRIB's
/// `valid_time`, scalar levels and steps): name, dimensions (none for a
/// scalar), kind, values, attributes.
type AuxOut = (String, Vec<String>, String, Py<PyAny>, Py<PyDict>);
/// An opened dataset: variables, index coordinates, other coordinates, attributes.
type Opened = (Vec<Var>, Vec<CoordOut>, Vec<AuxOut>, Py<PyDict>);

/// Opens `paths` (one file, a glob, or a list of files; NetCDF, or a Zarr
/// store when `zarr`) with `chunks` (per dimension); the dataset's
/// variables, coordinates and attributes.
#[pyfunction]
#[pyo3(signature = (paths, chunks, zarr=false))]
pub fn open_labeled(py: Python<'_>, paths: Vec<String>, chunks: Vec<(String, usize)>, zarr: bool) -> PyResult<Opened> {
    let chunks: Vec<(&str, usize)> = chunks.iter().map(|(d, n)| (d.as_str(), *n)).collect();
    if zarr && paths.len() != 1 {
        return Err(PyValueError::new_err(format!("open one Zarr store at a time, not {}", paths.len())));
    }
    let ds = py
        .detach(|| -> labeled::Result<Dataset> {
            match (zarr, paths.as_slice()) {
                (true, _) => labeled::open_zarr(&paths[0], &chunks),
                (false, [one]) if !one.contains(['*', '?']) => labeled::open_dataset(one, &chunks),
                (false, [one]) => labeled::open_mfdataset(Paths::Glob(one.clone()), &chunks),
                (false, many) => labeled::open_mfdataset(Paths::List(many.iter().map(Into::into).collect()), &chunks),
            }
        })
        .map_err(labeled_err)?;
    let mut vars = Vec::new();
    for name in ds.data_vars() {
        let v: DataArray = ds.get(name).map_err(labeled_err)?;
        let dims = v.dims().iter().map(|d| d.to_string()).collect();
        vars.push((name.to_string(), dims, PyArr(v.data().clone()), attrs(py, v.attrs())?));
    }
    let mut coords = Vec::new();
    for (dim, c) in ds.coords() {
        let (kind, values) = index(py, &c.index)?;
        coords.push((dim.clone(), kind, values, attrs(py, &c.attrs)?));
    }
    let mut aux = Vec::new();
    for a in ds.aux_coords() {
        let (kind, values) = index(py, &a.values)?;
        aux.push((a.name.clone(), a.dims.clone(), kind, values, attrs(py, &a.attrs)?));
    }
    Ok((vars, coords, aux, attrs(py, ds.attrs())?))
}

/// One variable of one NetCDF or GRIB2 file as a lazy array, axis `i` in
/// blocks of `sizes[i]` (`None`: one block).
#[pyfunction]
pub fn open_variable(py: Python<'_>, path: String, name: String, sizes: Vec<Option<usize>>) -> PyResult<PyArr> {
    let data = py.detach(|| labeled::open_variable(&path, &name, &sizes)).map_err(labeled_err)?;
    Ok(PyArr(data))
}

fn attrs(py: Python<'_>, a: &Attrs) -> PyResult<Py<PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in a {
        match v {
            AttrValue::Str(s) => d.set_item(k, s)?,
            AttrValue::Num(x) if x.len() == 1 => d.set_item(k, x[0])?,
            AttrValue::Num(x) => d.set_item(k, x.clone())?,
            AttrValue::Int(x) if x.len() == 1 => d.set_item(k, x[0])?,
            AttrValue::Int(x) => d.set_item(k, x.clone())?,
        }
    }
    Ok(d.unbind())
}

/// Microseconds from 1970-01-01 in the proleptic Gregorian calendar
/// (NumPy's `datetime64`).
fn epoch_micros(t: &labeled::DateTime) -> i64 {
    let epoch = labeled::time::day_number(Calendar::ProlepticGregorian, 1970, 1, 1);
    let days = labeled::time::day_number(Calendar::ProlepticGregorian, t.year, t.month, t.day) - epoch;
    let seconds = days * 86_400 + i64::from(t.hour) * 3600 + i64::from(t.minute) * 60 + i64::from(t.second);
    seconds * 1_000_000 + i64::from(t.nanosecond / 1000)
}

fn index(py: Python<'_>, ix: &Index) -> PyResult<(String, Py<PyAny>)> {
    Ok(match ix {
        Index::Float(v) => ("float".into(), v.clone().into_pyobject(py)?.into_any().unbind()),
        Index::Int(v) => ("int".into(), v.clone().into_pyobject(py)?.into_any().unbind()),
        Index::Str(v) => ("str".into(), v.clone().into_pyobject(py)?.into_any().unbind()),
        // The standard calendar agrees with NumPy's from 1582-10-15 on.
        Index::Time { calendar, values }
            if *calendar == Calendar::ProlepticGregorian
                || (*calendar == Calendar::Standard
                    && values.iter().all(|t| (t.year, t.month, t.day) >= (1582, 10, 15))) =>
        {
            let micros: Vec<i64> = values.iter().map(epoch_micros).collect();
            ("datetime64[us]".into(), micros.into_pyobject(py)?.into_any().unbind())
        }
        Index::Time { calendar, values } => {
            let parts = PyList::empty(py);
            for t in values {
                parts.append((t.year, t.month, t.day, t.hour, t.minute, t.second, t.nanosecond / 1000))?;
            }
            (format!("cftime:{}", calendar.name()), parts.into_any().unbind())
        }
    })
}
