//! GRIB2 files (ERA5 as ECMWF and the Copernicus data stores serve it)
//! through the pure-Rust `grib` crate, presented as cfgrib presents them:
//! a variable per parameter (named by ecCodes' `cfVarName`: `t2m`, `tp`,
//! `t`), dimensions `time`, `step` and the level type (`isobaricInhPa`)
//! where they take more than one value, then `latitude` and `longitude`;
//! the other keys become scalar coordinates (`step`, in hours here where
//! cfgrib has a timedelta; `heightAboveGround`)
//! and `valid_time` runs along `time` or `step`; attributes are ecCodes'
//! keys as cfgrib names them (`GRIB_paramId`, `GRIB_typeOfLevel`, …).
//!
//! Opening a file reads its sections but not its data (section 7 is
//! skipped). Each block of a variable is a task that reads its messages'
//! bytes (one ranged read apiece, so object stores work as files do) and
//! decodes them: simple packing, complex packing with or without spatial
//! differencing, CCSDS (as recent ERA5 files are packed), PNG and
//! run-length. Values are float32 with missing points as NaN, as cfgrib
//! gives them. Parameters are named from `grib_params.tsv`, ecCodes'
//! definitions of the common ERA5 parameters; others are named by their
//! discipline, category and number. GRIB1 is not read (no maintained
//! pure-Rust reader exists); only regular latitude/longitude grids are.

use std::path::Path;
use std::sync::Arc;

use blockwork_array::DType;

use crate::attrs::{AttrValue, Attrs};
use crate::dataarray::Coord;
use crate::dataset::AuxCoord;
use crate::error::{file_err, Result};
use crate::index::Index;
use crate::io::netcdf::{FileId, FileMeta, FileVar, VarSource};
use crate::time::DateTime;

mod read;
mod scan;
mod tables;

use scan::{scan, Field, Grid};
use tables::{centre, data_type, level_attrs, level_type, lookup, step_type, ParamKey};

pub(crate) use read::{var_data, READ_GRIB};

/// Whether the file starts as a GRIB message does.
pub(crate) fn is_grib(path: &Path) -> bool {
    blockwork_store::get_range(&path.to_string_lossy(), 0, 4).is_ok_and(|b| &b[..] == b"GRIB")
}

/// The fields a variable's blocks read, in the order of its leading
/// (non-grid) dimensions; `None` where a combination has no message.
pub(crate) struct GribVar {
    lead: Vec<usize>,
    fields: Vec<Option<(u64, u64, usize)>>,
    ny: usize,
    nx: usize,
    scanning: u8,
}

/// A variable's name, attributes and the key its fields share.
fn var_name_and_attrs(f: &Field) -> (String, Attrs) {
    let (level_name, _) = level_type(f.key.surface_type);
    let p = lookup(&f.key);
    let (short, cf_var, name, units, cf_name, id) = match p {
        Some(p) => (
            p.short_name.clone(),
            p.cf_var_name.clone(),
            p.name.clone(),
            p.units.clone(),
            p.cf_name.clone(),
            p.param_id,
        ),
        None => {
            let n = format!("unknown_{}_{}_{}", f.key.discipline, f.key.category, f.key.number);
            (n.clone(), n, "unknown".into(), "unknown".into(), "unknown".into(), 0)
        }
    };
    let str_ = |s: &str| AttrValue::Str(s.to_string());
    let int = |x: i64| AttrValue::Int(vec![x]);
    let mut attrs: Attrs = Attrs::new();
    let mut put = |k: &str, v: AttrValue| {
        attrs.insert(k.to_string(), v);
    };
    put("GRIB_paramId", int(id));
    put("GRIB_dataType", str_(data_type(f.data_type)));
    put("GRIB_typeOfLevel", str_(level_name));
    put("GRIB_stepUnits", int(f.step_unit as i64));
    put("GRIB_stepType", str_(step_type(f.key.stat)));
    for (k, v) in f.grid.attrs(f.points) {
        put(k, v);
    }
    put("GRIB_cfName", str_(&cf_name));
    put("GRIB_cfVarName", str_(&cf_var));
    put("GRIB_missingValue", AttrValue::Num(vec![3.4028234663852886e38]));
    put("GRIB_name", str_(&name));
    put("GRIB_shortName", str_(&short));
    put("GRIB_units", str_(&units));
    put("long_name", str_(&name));
    put("units", str_(&units));
    put("standard_name", str_(&cf_name));
    (cf_var, attrs)
}

/// Seconds since 1970 of a date and time (proleptic Gregorian, as GRIB's).
fn epoch_seconds(t: &DateTime) -> i64 {
    let days = crate::time::day_number(crate::time::Calendar::ProlepticGregorian, t.year, t.month, t.day)
        - crate::time::day_number(crate::time::Calendar::ProlepticGregorian, 1970, 1, 1);
    days * 86400 + t.hour as i64 * 3600 + t.minute as i64 * 60 + t.second as i64
}

fn from_epoch_seconds(s: i64) -> DateTime {
    match crate::cf::decode_times(&[s as f64], "seconds since 1970-01-01 00:00:00", Some("proleptic_gregorian")) {
        Ok(Index::Time { values, .. }) if !values.is_empty() => values[0],
        _ => DateTime::date(1970, 1, 1),
    }
}

fn time_index(values: Vec<DateTime>) -> Index {
    Index::Time { calendar: crate::time::Calendar::Standard, values }
}

fn str_attrs(pairs: &[(&str, &str)]) -> Attrs {
    pairs.iter().map(|(k, v)| (k.to_string(), AttrValue::Str(v.to_string()))).collect()
}

/// Distinct values, sorted (descending when `down`).
fn distinct<T: PartialOrd + Clone>(mut v: Vec<T>, down: bool) -> Vec<T> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.dedup_by(|a, b| a == b);
    if down {
        v.reverse();
    }
    v
}

/// Where `x` stands among `sorted` (ascending, or descending when `down`),
/// by binary search: a file of thousands of messages is placed in
/// O(n log n), not O(n²).
fn rank<T: PartialOrd>(sorted: &[T], x: &T, down: bool) -> usize {
    let found = sorted.binary_search_by(|v| {
        let o = v.partial_cmp(x).unwrap_or(std::cmp::Ordering::Equal);
        if down {
            o.reverse()
        } else {
            o
        }
    });
    found.unwrap_or_else(|i| i.min(sorted.len().saturating_sub(1)))
}

/// What a field's variable name and attributes are made from: fields
/// that agree on it belong to the same variable.
#[derive(Clone, Debug, PartialEq)]
struct Described {
    key: ParamKey,
    data_type: u8,
    step_unit: u8,
    points: u32,
    grid: Grid,
}

impl Described {
    fn of(f: &Field) -> Self {
        Described {
            key: f.key.clone(),
            data_type: f.data_type,
            step_unit: f.step_unit,
            points: f.points,
            grid: f.grid.clone(),
        }
    }
}

/// Opens a GRIB2 file's metadata: its variables (each with the messages
/// its blocks read), index and scalar coordinates, and attributes.
pub(crate) fn read_meta(id: FileId) -> Result<FileMeta> {
    let path = id.path.clone();
    let scanned = std::panic::catch_unwind(|| scan(&id))
        .unwrap_or_else(|_| Err("the GRIB2 reader failed on malformed sections".to_string()));
    let fields = scanned.map_err(|e| file_err(&path, e))?;
    // Variables: fields of one parameter, level type and step type. Their
    // names and attributes are worked out once per distinct description,
    // not once per message.
    let mut groups: Vec<(String, Attrs, Vec<Field>)> = Vec::new();
    let mut described: Vec<(Described, usize)> = Vec::new();
    for f in fields {
        let d = Described::of(&f);
        if let Some(&(_, g)) = described.iter().find(|(k, _)| *k == d) {
            groups[g].2.push(f);
            continue;
        }
        let (name, attrs) = var_name_and_attrs(&f);
        let g = match groups.iter().position(|(n, a, _)| *n == name && *a == attrs) {
            Some(g) => g,
            None => {
                if let Some((_, other, _)) = groups.iter().find(|(n, _, _)| *n == name) {
                    let lt = |a: &Attrs| a.get("GRIB_typeOfLevel").map(|v| v.to_string()).unwrap_or_default();
                    return Err(file_err(
                        &path,
                        format!(
                            "variable `{name}` comes on two kinds of level or grid ({} and {}); \
                             cfgrib asks for filter_by_keys here: split the file by level type",
                            lt(other),
                            lt(&attrs)
                        ),
                    ));
                }
                groups.push((name, attrs, Vec::new()));
                groups.len() - 1
            }
        };
        described.push((d, g));
        groups[g].2.push(f);
    }
    let first = &groups[0].2[0];
    let (abbr, desc) = centre(first.centre);
    let mut attrs = Attrs::new();
    attrs.insert("GRIB_edition".into(), AttrValue::Int(vec![2]));
    attrs.insert("GRIB_centre".into(), AttrValue::Str(abbr));
    attrs.insert("GRIB_centreDescription".into(), AttrValue::Str(desc.clone()));
    attrs.insert("GRIB_subCentre".into(), AttrValue::Int(vec![first.subcentre as i64]));
    attrs.insert("Conventions".into(), AttrValue::Str("CF-1.7".into()));
    attrs.insert("institution".into(), AttrValue::Str(desc));

    let mut coords: Vec<(String, Coord)> = Vec::new();
    let mut aux: Vec<AuxCoord> = Vec::new();
    let mut vars = Vec::new();
    let mut add_coord = |name: &str, c: Coord| -> Result<()> {
        match coords.iter().find(|(n, _)| n == name) {
            Some((_, o)) if o.index != c.index => Err(file_err(
                &path,
                format!("variables disagree on coordinate `{name}`: cfgrib asks for filter_by_keys here"),
            )),
            Some(_) => Ok(()),
            None => {
                coords.push((name.to_string(), c));
                Ok(())
            }
        }
    };
    let mut add_aux = |a: AuxCoord| {
        if !aux.iter().any(|o| o.name == a.name) {
            aux.push(a);
        }
    };
    for (name, vattrs, fs) in &groups {
        // One grid: the grid is part of the attributes that made the group.
        let grid = fs[0].grid.clone();
        let (level_name, level_factor) = level_type(fs[0].key.surface_type);
        let times = distinct(fs.iter().map(|f| f.time).collect(), false);
        let steps = distinct(fs.iter().map(|f| f.step).collect(), false);
        let levels = distinct(fs.iter().map(|f| f.key.level * level_factor).collect(), level_name == "isobaricInhPa");
        let numbers = distinct(fs.iter().filter_map(|f| f.number).collect(), false);
        let time_attrs =
            str_attrs(&[("long_name", "initial time of forecast"), ("standard_name", "forecast_reference_time")]);
        let step_attrs =
            str_attrs(&[("long_name", "time since forecast_reference_time"), ("standard_name", "forecast_period")]);
        let number_attrs = str_attrs(&[
            ("long_name", "ensemble member numerical id"),
            ("units", "1"),
            ("standard_name", "realization"),
        ]);
        let hours = |s: &[i64]| Index::Float(s.iter().map(|&x| x as f64 / 3600.0).collect());
        let mut dims: Vec<String> = Vec::new();
        let mut lead: Vec<usize> = Vec::new();
        if numbers.len() > 1 {
            dims.push("number".into());
            lead.push(numbers.len());
            add_coord("number", Coord { index: Index::Int(numbers.clone()), attrs: number_attrs })?;
        } else if let Some(&n) = numbers.first() {
            add_aux(AuxCoord { name: "number".into(), dims: vec![], values: Index::Int(vec![n]), attrs: number_attrs });
        }
        for (dim, len) in [("time", times.len()), ("step", steps.len()), (level_name, levels.len())] {
            if len > 1 {
                dims.push(dim.to_string());
                lead.push(len);
            }
        }
        if times.len() > 1 {
            add_coord("time", Coord { index: time_index(times.clone()), attrs: time_attrs })?;
        } else {
            add_aux(AuxCoord {
                name: "time".into(),
                dims: vec![],
                values: time_index(times.clone()),
                attrs: time_attrs,
            });
        }
        if steps.len() > 1 {
            add_coord("step", Coord { index: hours(&steps), attrs: step_attrs })?;
        } else {
            add_aux(AuxCoord { name: "step".into(), dims: vec![], values: hours(&steps), attrs: step_attrs });
        }
        if levels.len() > 1 {
            add_coord(level_name, Coord { index: Index::Float(levels.clone()), attrs: level_attrs(level_name) })?;
        } else {
            add_aux(AuxCoord {
                name: level_name.to_string(),
                dims: vec![],
                values: Index::Float(levels.clone()),
                attrs: level_attrs(level_name),
            });
        }
        // valid_time: the reference time plus the step, along whichever of
        // the two is a dimension (both: not given, it would be 2-d).
        let valid_attrs = str_attrs(&[("standard_name", "time"), ("long_name", "time")]);
        let valid = |t: &DateTime, s: i64| from_epoch_seconds(epoch_seconds(t) + s);
        match (times.len() > 1, steps.len() > 1) {
            (true, true) => {}
            (true, false) => add_aux(AuxCoord {
                name: "valid_time".into(),
                dims: vec!["time".into()],
                values: time_index(times.iter().map(|t| valid(t, steps[0])).collect()),
                attrs: valid_attrs,
            }),
            (false, true) => add_aux(AuxCoord {
                name: "valid_time".into(),
                dims: vec!["step".into()],
                values: time_index(steps.iter().map(|&s| valid(&times[0], s)).collect()),
                attrs: valid_attrs,
            }),
            (false, false) => add_aux(AuxCoord {
                name: "valid_time".into(),
                dims: vec![],
                values: time_index(vec![valid(&times[0], steps[0])]),
                attrs: valid_attrs,
            }),
        }
        let lat_attrs = str_attrs(&[
            ("units", "degrees_north"),
            ("standard_name", "latitude"),
            ("long_name", "latitude"),
            ("stored_direction", if grid.scanning & 0x40 != 0 { "increasing" } else { "decreasing" }),
        ]);
        let lon_attrs =
            str_attrs(&[("units", "degrees_east"), ("standard_name", "longitude"), ("long_name", "longitude")]);
        add_coord("latitude", Coord { index: Index::Float(grid.latitudes()), attrs: lat_attrs })?;
        add_coord("longitude", Coord { index: Index::Float(grid.longitudes()), attrs: lon_attrs })?;
        dims.push("latitude".into());
        dims.push("longitude".into());
        // Each combination of the leading coordinates' values: its message.
        let total: usize = lead.iter().product();
        let mut table: Vec<Option<(u64, u64, usize)>> = vec![None; total];
        let down = level_name == "isobaricInhPa";
        let position = |f: &Field| -> usize {
            let mut coords_of: Vec<usize> = Vec::new();
            if numbers.len() > 1 {
                coords_of.push(rank(&numbers, &f.number.unwrap_or_default(), false));
            }
            if times.len() > 1 {
                coords_of.push(rank(&times, &f.time, false));
            }
            if steps.len() > 1 {
                coords_of.push(rank(&steps, &f.step, false));
            }
            if levels.len() > 1 {
                coords_of.push(rank(&levels, &(f.key.level * level_factor), down));
            }
            coords_of.iter().zip(&lead).fold(0, |at, (c, n)| at * n + c)
        };
        for f in fs {
            let slot = &mut table[position(f)];
            if slot.is_none() {
                *slot = Some((f.offset, f.len, f.sub));
            }
        }
        let mut shape = lead.clone();
        shape.extend([grid.nj, grid.ni]);
        vars.push(FileVar {
            name: name.clone(),
            dims,
            shape,
            dtype: DType::F32,
            source: VarSource::Grib(Arc::new(GribVar {
                lead,
                fields: table,
                ny: grid.nj,
                nx: grid.ni,
                scanning: grid.scanning,
            })),
            attrs: vattrs.clone(),
        });
    }
    Ok(FileMeta { id, vars, coords, attrs, aux })
}
