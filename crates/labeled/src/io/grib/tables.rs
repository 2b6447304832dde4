//! The names and code tables of GRIB2, as ecCodes and cfgrib use them:
//! parameters (from `grib_params.tsv`, ecCodes' definitions of the common
//! ERA5 parameters), level types, centres, data and step types, units of
//! time.

use std::sync::OnceLock;

use crate::attrs::{AttrValue, Attrs};

/// One parameter of ecCodes' definitions.
pub(super) struct Param {
    pub(super) discipline: u8,
    pub(super) category: u8,
    pub(super) number: u8,
    /// The level type and value the parameter is defined on, if it is
    /// defined on one (2 m temperature: height above ground, 2).
    pub(super) surface: Option<(u8, f64)>,
    /// The statistical process it is defined with, if any (1: accumulation).
    pub(super) stat: Option<u8>,
    pub(super) param_id: i64,
    pub(super) short_name: String,
    pub(super) cf_var_name: String,
    pub(super) name: String,
    pub(super) units: String,
    pub(super) cf_name: String,
}

pub(super) fn params() -> &'static [Param] {
    static PARAMS: OnceLock<Vec<Param>> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let opt = |s: &str| (s != "-").then(|| s.parse::<f64>().ok()).flatten();
        include_str!("../grib_params.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("discipline") && !l.trim().is_empty())
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let [d, c, n, st, sv, sp, id, short, cfv, name, units, cfn] = f.as_slice() else { return None };
                Some(Param {
                    discipline: d.parse().ok()?,
                    category: c.parse().ok()?,
                    number: n.parse().ok()?,
                    surface: opt(st).zip(opt(sv)).map(|(t, v)| (t as u8, v)),
                    stat: opt(sp).map(|s| s as u8),
                    param_id: id.parse().ok()?,
                    short_name: short.to_string(),
                    cf_var_name: cfv.to_string(),
                    name: name.to_string(),
                    units: units.to_string(),
                    cf_name: cfn.to_string(),
                })
            })
            .collect()
    })
}

/// The parameter ecCodes would name: among the rows of the field's
/// discipline, category and number whose level and statistical process
/// (where they name one) are the field's, the most specific.
pub(super) fn lookup(key: &ParamKey) -> Option<&'static Param> {
    params()
        .iter()
        .filter(|p| (p.discipline, p.category, p.number) == (key.discipline, key.category, key.number))
        .filter(|p| p.surface.is_none_or(|(t, v)| t == key.surface_type && v == key.level))
        .filter(|p| p.stat.is_none_or(|s| Some(s) == key.stat))
        .max_by_key(|p| p.surface.is_some() as u8 + p.stat.is_some() as u8)
}

/// What identifies a field's parameter.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ParamKey {
    pub(super) discipline: u8,
    pub(super) category: u8,
    pub(super) number: u8,
    pub(super) surface_type: u8,
    pub(super) level: f64,
    pub(super) stat: Option<u8>,
}

/// ecCodes' `typeOfLevel` of a first fixed surface (Code Table 4.5), and
/// the factor from the surface's value to the level coordinate's units.
pub(super) fn level_type(code: u8) -> (&'static str, f64) {
    match code {
        1 => ("surface", 1.0),
        2 => ("cloudBase", 1.0),
        3 => ("cloudTop", 1.0),
        4 => ("isothermZero", 1.0),
        6 => ("maxWind", 1.0),
        7 => ("tropopause", 1.0),
        8 => ("nominalTop", 1.0),
        10 => ("entireAtmosphere", 1.0),
        100 => ("isobaricInhPa", 0.01),
        101 => ("meanSea", 1.0),
        102 => ("heightAboveSea", 1.0),
        103 => ("heightAboveGround", 1.0),
        104 => ("sigma", 1.0),
        105 => ("hybrid", 1.0),
        106 => ("depthBelowLandLayer", 1.0),
        107 => ("theta", 1.0),
        108 => ("pressureFromGroundLayer", 0.01),
        109 => ("potentialVorticity", 1.0),
        151 => ("soilLayer", 1.0),
        160 => ("depthBelowSea", 1.0),
        _ => ("unknown", 1.0),
    }
}

/// The attributes cfgrib gives a level coordinate.
pub(super) fn level_attrs(name: &str) -> Attrs {
    let s = |k: &str, v: &str| (k.to_string(), AttrValue::Str(v.to_string()));
    match name {
        "isobaricInhPa" => [
            s("long_name", "pressure"),
            s("units", "hPa"),
            s("positive", "down"),
            s("stored_direction", "decreasing"),
            s("standard_name", "air_pressure"),
        ]
        .into_iter()
        .collect(),
        "heightAboveGround" | "heightAboveSea" => [
            s("long_name", "height above the surface"),
            s("units", "m"),
            s("positive", "up"),
            s("standard_name", "height"),
        ]
        .into_iter()
        .collect(),
        other => [s("long_name", &format!("original GRIB coordinate for key: level({other})")), s("units", "1")]
            .into_iter()
            .collect(),
    }
}

/// The centres ecCodes names (Common Code Table C-11), by number.
pub(super) fn centre(id: u16) -> (String, String) {
    let (abbr, name) = match id {
        7 => ("kwbc", "US National Weather Service - NCEP"),
        34 => ("rjtd", "Japanese Meteorological Agency - Tokyo"),
        54 => ("cwao", "Canadian Meteorological Service - Montreal"),
        74 => ("egrr", "U.K. Met Office - Exeter"),
        78 => ("edzw", "Offenbach (RSMC)"),
        85 => ("lfpw", "French Weather Service - Toulouse"),
        98 => ("ecmf", "European Centre for Medium-Range Weather Forecasts"),
        _ => return (id.to_string(), id.to_string()),
    };
    (abbr.to_string(), name.to_string())
}

/// ecCodes' `dataType` of a type of processed data (Code Table 1.4).
pub(super) fn data_type(code: u8) -> &'static str {
    match code {
        0 => "an",
        1 => "fc",
        2 => "af",
        3 => "cf",
        4 => "pf",
        5 => "cp",
        6 => "sa",
        7 => "ra",
        8 => "ep",
        _ => "unknown",
    }
}

/// ecCodes' `stepType` of a statistical process (Code Table 4.10).
pub(super) fn step_type(stat: Option<u8>) -> &'static str {
    match stat {
        None => "instant",
        Some(0) => "avg",
        Some(1) => "accum",
        Some(2) => "max",
        Some(3) => "min",
        Some(4) => "diff",
        Some(6) => "sd",
        Some(_) => "unknown",
    }
}

/// Seconds in a unit of time (Code Table 4.4).
pub(super) fn unit_seconds(unit: u8) -> Option<i64> {
    Some(match unit {
        0 => 60,
        1 => 3600,
        2 => 86400,
        10 => 3 * 3600,
        11 => 6 * 3600,
        12 => 12 * 3600,
        13 => 1,
        _ => return None,
    })
}
