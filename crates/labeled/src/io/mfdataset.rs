//! `open_mfdataset`: many files as one dataset, combined by their
//! coordinates (xarray's `combine="by_coords"`).
//!
//! Every file's metadata and index coordinates are read (on as many
//! threads as there are cores; the reader is pure Rust and safe to call
//! from many threads at once). The one dimension whose coordinate
//! differs between files is the one they are concatenated along, in the
//! order of its first label; every other coordinate must be the same in
//! every file, else the error names the file whose grid disagrees.

use std::path::PathBuf;

use crate::data::Data;
use crate::dataarray::{Coord, Coords, DataArray};
use crate::dataset::Dataset;
use crate::error::{file_err, io_err, not_found, LabeledError, Result};
use crate::index::Index;
use crate::io::netcdf::{read_meta, var_data, FileMeta};

/// Files given to [`open_mfdataset`]: a glob pattern or a list.
pub enum Paths {
    /// A pattern whose file name may hold `*` and `?` (`"/data/ERA5-*.nc"`).
    Glob(String),
    /// The files themselves.
    List(Vec<PathBuf>),
}

impl From<&str> for Paths {
    fn from(s: &str) -> Self {
        Paths::Glob(s.to_string())
    }
}

impl From<String> for Paths {
    fn from(s: String) -> Self {
        Paths::Glob(s)
    }
}

impl From<Vec<PathBuf>> for Paths {
    fn from(v: Vec<PathBuf>) -> Self {
        Paths::List(v)
    }
}

impl From<&[PathBuf]> for Paths {
    fn from(v: &[PathBuf]) -> Self {
        Paths::List(v.to_vec())
    }
}

/// The files a pattern matches, sorted (`*`, `?` within a directory,
/// `**` across directories); a path or an `s3://` URL.
pub fn glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let found = blockwork_store::list(pattern).map_err(|e| io_err(pattern, e))?;
    Ok(found.into_iter().map(PathBuf::from).collect())
}

/// Reads every file's metadata on all cores, in the files' order.
fn read_all(paths: &[PathBuf]) -> Result<Vec<FileMeta>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(paths.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<FileMeta>>> = (0..paths.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut slots);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let m = read_meta(p);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(m);
            });
        }
    });
    slots.into_iter().map(|m| m.unwrap_or_else(|| Err(LabeledError::Coords("a file was not read".into())))).collect()
}

fn coord<'a>(m: &'a FileMeta, dim: &str) -> Option<&'a Coord> {
    m.coords.iter().find(|(d, _)| d == dim).map(|(_, c)| c)
}

/// Orders two indexes by their first labels.
fn first_cmp(a: &Index, b: &Index) -> std::cmp::Ordering {
    match (a, b) {
        (Index::Time { values: x, .. }, Index::Time { values: y, .. }) => x.first().cmp(&y.first()),
        (Index::Float(x), Index::Float(y)) => x.first().unwrap_or(&0.0).total_cmp(y.first().unwrap_or(&0.0)),
        (Index::Int(x), Index::Int(y)) => x.first().cmp(&y.first()),
        (Index::Str(x), Index::Str(y)) => x.first().cmp(&y.first()),
        _ => std::cmp::Ordering::Equal,
    }
}

fn concat_index(parts: &[&Index]) -> Index {
    match parts[0] {
        Index::Time { calendar, .. } => Index::Time {
            calendar: *calendar,
            values: parts
                .iter()
                .flat_map(|p| if let Index::Time { values, .. } = p { values.clone() } else { vec![] })
                .collect(),
        },
        Index::Float(_) => Index::Float(parts.iter().flat_map(|p| p.as_f64().unwrap_or_default()).collect()),
        Index::Int(_) => {
            Index::Int(parts.iter().flat_map(|p| if let Index::Int(v) = p { v.clone() } else { vec![] }).collect())
        }
        Index::Str(_) => {
            Index::Str(parts.iter().flat_map(|p| if let Index::Str(v) = p { v.clone() } else { vec![] }).collect())
        }
    }
}

/// Opens many NetCDF files as one dataset, combined along the dimension
/// whose coordinate differs between them (time, for a pile of monthly
/// files). `chunks` sets block lengths within each file
/// (`&[("time", 31)]`); by default each variable of each file is one
/// block. Nothing but metadata and coordinates is read now.
pub fn open_mfdataset(paths: impl Into<Paths>, chunks: &[(&str, usize)]) -> Result<Dataset> {
    let (paths, what) = match paths.into() {
        Paths::Glob(g) => (glob(&g)?, g),
        Paths::List(v) => {
            let what = format!("{} files", v.len());
            (v, what)
        }
    };
    if paths.is_empty() {
        return Err(not_found(&what, "no files match"));
    }
    let mut metas = read_all(&paths)?;
    if metas.len() == 1 {
        return crate::io::netcdf::dataset_of(&metas[0], chunks);
    }
    crate::io::netcdf::check_chunks_of(&metas[0], chunks)?;
    // The concatenated dimension: the one whose coordinate differs.
    let first = &metas[0];
    let mut concat: Vec<String> = Vec::new();
    for (d, c) in &first.coords {
        if metas.iter().any(|m| coord(m, d).is_some_and(|o| o.index != c.index)) {
            concat.push(d.clone());
        }
    }
    let dim = match concat.as_slice() {
        [d] => d.clone(),
        [] => {
            return Err(LabeledError::Coords(format!(
                "{what}: every file has the same coordinates, so there is no dimension to combine them along"
            )))
        }
        many => {
            // The dimension that differs in the second file decides; the others are grids that disagree.
            let d = many.iter().find(|d| coord(&metas[1], d).map(|c| &c.index) != coord(first, d).map(|c| &c.index));
            d.cloned().unwrap_or_else(|| many[0].clone())
        }
    };
    metas.sort_by(|a, b| match (coord(a, &dim), coord(b, &dim)) {
        (Some(x), Some(y)) => first_cmp(&x.index, &y.index),
        _ => std::cmp::Ordering::Equal,
    });
    let first = &metas[0];
    for m in &metas[1..] {
        for (d, c) in &first.coords {
            if *d == dim {
                continue;
            }
            match coord(m, d) {
                Some(o) if o.index == c.index => {}
                Some(_) => {
                    return Err(file_err(
                        &m.id.path,
                        format!(
                            "coordinate `{d}` differs from that of {}: the files' grids disagree",
                            first.id.path.display()
                        ),
                    ))
                }
                None => return Err(file_err(&m.id.path, format!("has no coordinate `{d}`"))),
            }
        }
        if coord(m, &dim).is_none() {
            return Err(file_err(&m.id.path, format!("has no coordinate `{dim}` to combine along")));
        }
    }
    let parts: Vec<&Index> = metas.iter().filter_map(|m| coord(m, &dim).map(|c| &c.index)).collect();
    let joined = concat_index(&parts);
    let mut coords: Coords = first.coords.iter().cloned().collect();
    if let Some(c) = coords.get_mut(&dim) {
        c.index = joined;
    }
    let mut vars = Vec::new();
    for v in &first.vars {
        let dims: Vec<&str> = v.dims.iter().map(String::as_str).collect();
        let data = match v.dims.iter().position(|d| *d == dim) {
            None => var_data(first, v, chunks)?,
            Some(ax) => {
                let mut parts: Vec<Data> = Vec::with_capacity(metas.len());
                for m in &metas {
                    let mv = m.vars.iter().find(|x| x.name == v.name).ok_or_else(|| LabeledError::MissingVariable {
                        name: v.name.clone(),
                        within: m.id.path.display().to_string(),
                    })?;
                    if mv.dims != v.dims || mv.dtype != v.dtype {
                        return Err(file_err(
                            &m.id.path,
                            format!(
                                "variable `{}` has dimensions {:?} ({}) where the first file has {:?} ({})",
                                v.name, mv.dims, mv.dtype, v.dims, v.dtype
                            ),
                        ));
                    }
                    parts.push(var_data(m, mv, chunks)?);
                }
                Data::concatenate(&parts, ax as isize)?
            }
        };
        let vc = coords.iter().filter(|(d, _)| v.dims.contains(d)).map(|(d, c)| (d.clone(), c.clone())).collect();
        vars.push(DataArray::new(Some(&v.name), &dims, data, vc, v.attrs.clone())?);
    }
    // Coordinates along the combined dimension (GRIB's `valid_time`) are
    // joined as it is; scalar ones are the first file's.
    let mut aux = first.aux.clone();
    for a in aux.iter_mut().filter(|a| a.dims.contains(&dim)) {
        let parts: Vec<&Index> =
            metas.iter().filter_map(|m| m.aux.iter().find(|o| o.name == a.name).map(|o| &o.values)).collect();
        if parts.len() == metas.len() {
            a.values = concat_index(&parts);
        }
    }
    let source = format!("{} files {} … {}", metas.len(), paths[0].display(), paths[paths.len() - 1].display());
    Ok(Dataset::new(vars, coords, first.attrs.clone(), source).with_aux(aux))
}
