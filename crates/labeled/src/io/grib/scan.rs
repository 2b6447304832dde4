//! A GRIB2 file's fields, from its sections: which parameter, level,
//! reference time and step each holds, on which grid, and where its
//! message is. Data sections are skipped.

use std::io::{BufReader, Read, Seek};

use crate::attrs::AttrValue;
use crate::io::netcdf::FileId;
use crate::time::DateTime;

use super::tables::{unit_seconds, ParamKey};

/// A regular latitude/longitude grid (Template 3.0), in degrees.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Grid {
    pub(super) ni: usize,
    pub(super) nj: usize,
    pub(super) lat1: f64,
    pub(super) lon1: f64,
    pub(super) lat2: f64,
    pub(super) lon2: f64,
    pub(super) di: f64,
    pub(super) dj: f64,
    pub(super) scanning: u8,
    pub(super) uv_relative: bool,
}

impl Grid {
    pub(super) fn latitudes(&self) -> Vec<f64> {
        let step = if self.scanning & 0x40 != 0 { self.dj } else { -self.dj };
        (0..self.nj).map(|j| self.lat1 + step * j as f64).collect()
    }

    pub(super) fn longitudes(&self) -> Vec<f64> {
        let step = if self.scanning & 0x80 != 0 { -self.di } else { self.di };
        (0..self.ni)
            .map(|i| {
                let lon = self.lon1 + step * i as f64;
                if lon >= 360.0 {
                    lon - 360.0
                } else {
                    lon
                }
            })
            .collect()
    }

    pub(super) fn attrs(&self, points: u32) -> Vec<(&'static str, AttrValue)> {
        let num = |x: f64| AttrValue::Num(vec![x]);
        let int = |x: i64| AttrValue::Int(vec![x]);
        vec![
            ("GRIB_numberOfPoints", int(points as i64)),
            ("GRIB_gridType", AttrValue::Str("regular_ll".into())),
            ("GRIB_uvRelativeToGrid", int(self.uv_relative as i64)),
            ("GRIB_NV", int(0)),
            ("GRIB_Nx", int(self.ni as i64)),
            ("GRIB_Ny", int(self.nj as i64)),
            ("GRIB_gridDefinitionDescription", AttrValue::Str("Latitude/longitude".into())),
            ("GRIB_iDirectionIncrementInDegrees", num(self.di)),
            ("GRIB_iScansNegatively", int((self.scanning & 0x80 != 0) as i64)),
            ("GRIB_jDirectionIncrementInDegrees", num(self.dj)),
            ("GRIB_jPointsAreConsecutive", int((self.scanning & 0x20 != 0) as i64)),
            ("GRIB_jScansPositively", int((self.scanning & 0x40 != 0) as i64)),
            ("GRIB_latitudeOfFirstGridPointInDegrees", num(self.lat1)),
            ("GRIB_latitudeOfLastGridPointInDegrees", num(self.lat2)),
            ("GRIB_longitudeOfFirstGridPointInDegrees", num(self.lon1)),
            ("GRIB_longitudeOfLastGridPointInDegrees", num(self.lon2)),
        ]
    }
}

/// One field of a file: where its message is and what it holds.
#[derive(Clone, Debug)]
pub(super) struct Field {
    pub(super) offset: u64,
    pub(super) len: u64,
    /// Which field of its message (a message may repeat sections 2–7).
    pub(super) sub: usize,
    pub(super) key: ParamKey,
    pub(super) time: DateTime,
    /// The forecast step (for statistics, the end of their interval), in seconds.
    pub(super) step: i64,
    pub(super) step_unit: u8,
    pub(super) number: Option<i64>,
    pub(super) data_type: u8,
    pub(super) centre: u16,
    pub(super) subcentre: u16,
    pub(super) points: u32,
    pub(super) grid: Grid,
}

pub(super) fn be_u32(p: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(p.get(at..at + 4)?.try_into().ok()?))
}

/// A GRIB signed integer: sign and magnitude, not two's complement.
pub(super) fn sign_magnitude(raw: u32) -> i64 {
    let v = (raw & 0x7fff_ffff) as i64;
    if raw & 0x8000_0000 != 0 {
        -v
    } else {
        v
    }
}

/// Reads a field's product definition (templates 4.0, 4.1, 4.8, 4.11)
/// from its raw octets (section octet `n` is `p[n - 6]`).
pub(super) fn product(p: &[u8], template: u16) -> std::result::Result<(ParamKey, i64, u8, Option<i64>), String> {
    let get = |i: usize| p.get(i).copied().ok_or_else(|| "the product definition is cut short".to_string());
    let (category, number, unit) = (get(4)?, get(5)?, get(12)?);
    let forecast = be_u32(p, 13).ok_or("the product definition is cut short")? as i64;
    let surface_type = get(17)?;
    let scale = get(18)?;
    let raw = be_u32(p, 19).ok_or("the product definition is cut short")?;
    // All bits set: missing (a surface without a value), level 0 as in ecCodes.
    let missing = surface_type == 255 || scale == 0xff || raw == u32::MAX;
    let scale = if scale & 0x80 != 0 { -((scale & 0x7f) as i32) } else { scale as i32 };
    let level = if missing { 0.0 } else { sign_magnitude(raw) as f64 / 10f64.powi(scale) };
    let (stat, range_at, number_of_member) = match template {
        0 => (None, None, None),
        1 => (None, None, Some(get(30)? as i64)),
        8 => (Some(get(41)?), Some(43), None),
        11 => (Some(get(44)?), Some(46), Some(get(30)? as i64)),
        t => return Err(format!("product definition template 4.{t} is not read (4.0, 4.1, 4.8 and 4.11 are)")),
    };
    let unit_s = unit_seconds(unit).ok_or_else(|| format!("unit of time {unit} (Code Table 4.4) is not read"))?;
    let mut step = forecast * unit_s;
    if let Some(at) = range_at {
        let range_unit = unit_seconds(get(at)?).ok_or("an unknown unit of the statistics' time range")?;
        step += be_u32(p, at + 1).ok_or("the product definition is cut short")? as i64 * range_unit;
    }
    let key = ParamKey { discipline: 0, category, number, surface_type, level, stat };
    Ok((key, step, unit, number_of_member))
}

/// Something that reads and seeks: a file, or an object read by ranges.
pub(super) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Every field of a file, from its sections (not its data).
pub(super) fn scan(id: &FileId) -> std::result::Result<Vec<Field>, String> {
    let location = id.path.to_string_lossy().into_owned();
    let reader: Box<dyn ReadSeek> = if blockwork_store::is_url(&location) {
        Box::new(blockwork_store::RangesReader::new(blockwork_store::Ranges::new(location, id.size)))
    } else {
        Box::new(BufReader::new(std::fs::File::open(&id.path).map_err(|e| e.to_string())?))
    };
    let grib2 = grib::from_reader(reader).map_err(|e| format!("not a readable GRIB2 file: {e}"))?;
    let mut fields = Vec::new();
    let mut last: Option<(u64, usize)> = None;
    for (_, sm) in grib2.iter() {
        let offset = sm.0.body.offset as u64;
        let sub = match last {
            Some((o, s)) if o == offset => s + 1,
            _ => 0,
        };
        last = Some((offset, sub));
        let ident = sm.identification();
        let t = ident.ref_time_unchecked();
        let time = DateTime {
            year: t.year as i32,
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
            nanosecond: 0,
        };
        let template = sm.prod_def().prod_tmpl_num();
        let payload: Vec<u8> = sm.prod_def().iter().copied().collect();
        let (mut key, step, step_unit, number) = product(&payload, template)?;
        key.discipline = sm.indicator().discipline;
        let grid = match grib::GridDefinitionTemplateValues::try_from(sm.grid_def()) {
            Ok(grib::GridDefinitionTemplateValues::Template0(t)) => {
                let g = &t.lat_lon;
                let deg = |x: f64| x * 1e-6;
                Grid {
                    ni: g.grid.ni as usize,
                    nj: g.grid.nj as usize,
                    lat1: deg(g.grid.first_point_lat as f64),
                    lon1: deg(g.grid.first_point_lon as f64),
                    lat2: deg(g.grid.last_point_lat as f64),
                    lon2: deg(g.grid.last_point_lon as f64),
                    di: deg(g.i_direction_inc as f64),
                    dj: deg(g.j_direction_inc as f64),
                    scanning: g.scanning_mode.0,
                    uv_relative: g.grid.resolution_and_component_flags.0 & 0x08 != 0,
                }
            }
            Ok(_) => {
                return Err(format!(
                    "grid definition template 3.{} is not read (only regular latitude/longitude grids, 3.0, are)",
                    sm.grid_def().grid_tmpl_num()
                ))
            }
            Err(e) => return Err(format!("grid definition: {e}")),
        };
        if grid.scanning & 0x10 != 0 {
            return Err(format!("scanning mode {:#04x} (rows in alternating directions) is not read", grid.scanning));
        }
        fields.push(Field {
            offset,
            len: sm.indicator().total_length,
            sub,
            key,
            time,
            step,
            step_unit,
            number,
            data_type: ident.data_type(),
            centre: ident.centre_id(),
            subcentre: ident.subcentre_id(),
            points: sm.grid_def().num_points(),
            grid,
        });
    }
    if fields.is_empty() {
        return Err("no GRIB2 messages".into());
    }
    Ok(fields)
}
