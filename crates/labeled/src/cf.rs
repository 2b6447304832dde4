//! CF conventions, shared by every reader: how stored values become
//! decoded ones (`scale_factor`, `add_offset`, `_FillValue`,
//! `missing_value`), which element type the decoded variable has
//! (xarray's choice), which attributes remain after decoding, and how
//! `"<unit> since <date>"` values become datetimes of a calendar.

use blockwork_array::DType;
use blockwork_graph::kernel_params;

use crate::attrs::{AttrValue, Attrs};
use crate::index::Index;
use crate::time::{Calendar, DateTime};

/// The element type a variable is stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl Stored {
    fn small(self) -> bool {
        matches!(self, Stored::I8 | Stored::I16 | Stored::U8 | Stored::U16)
    }
}

kernel_params! {
    /// How a variable's stored values become its decoded ones (its read
    /// tasks carry it among their parameters).
    #[derive(Default)]
    pub(crate) struct Decode {
        pub(crate) scale: Option<f64>,
        pub(crate) offset: Option<f64>,
        /// Values that mean "missing".
        pub(crate) missing: Vec<f64>,
    }
}

impl Decode {
    /// From a variable's (undecoded) attributes.
    pub(crate) fn of(attrs: &Attrs) -> Decode {
        let num = |name: &str| attrs.get(name).and_then(AttrValue::as_f64);
        let mut missing = Vec::new();
        for name in ["_FillValue", "missing_value"] {
            match attrs.get(name) {
                Some(AttrValue::Num(v)) => missing.extend(v),
                Some(AttrValue::Int(v)) => missing.extend(v.iter().map(|&x| x as f64)),
                _ => {}
            }
        }
        Decode { scale: num("scale_factor"), offset: num("add_offset"), missing }
    }

    pub(crate) fn is_identity(&self) -> bool {
        self.scale.is_none() && self.offset.is_none() && self.missing.is_empty()
    }

    /// One stored value, decoded.
    pub(crate) fn apply(&self, x: f64) -> f64 {
        if self.missing.iter().any(|&m| m == x || (m.is_nan() && x.is_nan())) {
            return f64::NAN;
        }
        x * self.scale.unwrap_or(1.0) + self.offset.unwrap_or(0.0)
    }
}

/// The decoded element type, as xarray chooses it: packed 8/16-bit
/// integers (and float32) with float32 scales give float32, other packed
/// data float64; masked small integers float32, other masked integers
/// float64; unmasked 8/16-bit signed integers widen to int32, unsigned
/// 16/32/64-bit ones to int64.
pub(crate) fn decoded_dtype(stored: Stored, decode: &Decode, scales_f32: bool) -> DType {
    if decode.scale.is_some() || decode.offset.is_some() {
        return if scales_f32 && (stored.small() || stored == Stored::F32) { DType::F32 } else { DType::F64 };
    }
    match stored {
        Stored::F32 => DType::F32,
        Stored::F64 => DType::F64,
        _ if !decode.missing.is_empty() => {
            if stored.small() {
                DType::F32
            } else {
                DType::F64
            }
        }
        Stored::I8 | Stored::I16 | Stored::I32 => DType::I32,
        Stored::U8 => DType::U8,
        _ => DType::I64,
    }
}

/// Attributes as xarray shows them after decoding: those of the encoding
/// (fill, packing; units and calendar of times) are gone.
pub(crate) fn decoded_attrs(attrs: &Attrs, time: bool) -> Attrs {
    const ENCODING: [&str; 4] = ["_FillValue", "missing_value", "scale_factor", "add_offset"];
    attrs
        .iter()
        .filter(|(k, _)| !ENCODING.contains(&k.as_str()) && !(time && (*k == "units" || *k == "calendar")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The calendar of a `calendar` attribute (standard when absent).
pub(crate) fn calendar(name: Option<&str>) -> Calendar {
    use netcdf_reader::cf::CfCalendar as C;
    match C::parse(name.unwrap_or("standard")) {
        C::Standard => Calendar::Standard,
        C::ProlepticGregorian => Calendar::ProlepticGregorian,
        C::NoLeap => Calendar::NoLeap,
        C::AllLeap => Calendar::AllLeap,
        C::Day360 => Calendar::Day360,
        C::Julian => Calendar::Julian,
    }
}

/// Whether `units` are CF time units (`"<unit> since <date>"`).
pub(crate) fn is_time_units(units: &str) -> bool {
    units.contains(" since ")
}

/// Decodes numeric times with `units` like `"hours since 1900-01-01"` in
/// the calendar named by `calendar`.
pub(crate) fn decode_times(raw: &[f64], units: &str, calendar_name: Option<&str>) -> Result<Index, String> {
    use netcdf_reader::cf;
    let cal = cf::CfCalendar::parse(calendar_name.unwrap_or("standard"));
    let tr = cf::parse_time_units(units, cal).map_err(|e| e.to_string())?;
    let values = raw
        .iter()
        .map(|&x| {
            let t = cf::decode_time_exact(x, &tr).map_err(|e| e.to_string())?;
            Ok(DateTime {
                year: t.year,
                month: t.month,
                day: t.day,
                hour: t.hour,
                minute: t.minute,
                second: t.second,
                nanosecond: t.nanosecond,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Index::Time { calendar: calendar(calendar_name), values })
}

/// A 1-d coordinate's stored numbers as an index, and whether it holds
/// times: CF time units decode to datetimes; otherwise values are decoded
/// (packing, fill) and stay integers when they were stored as integers
/// and nothing changed them.
pub(crate) fn index_of(raw: &[f64], attrs: &Attrs, stored_float: bool) -> Result<(Index, bool), String> {
    if let Some(units) = attrs.get("units").and_then(AttrValue::as_str).filter(|u| is_time_units(u)) {
        let cal = attrs.get("calendar").and_then(AttrValue::as_str);
        return Ok((decode_times(raw, units, cal)?, true));
    }
    let decode = Decode::of(attrs);
    let vals: Vec<f64> = raw.iter().map(|&x| decode.apply(x)).collect();
    let int = decode.is_identity() && !stored_float;
    Ok((if int { Index::Int(vals.iter().map(|&x| x as i64).collect()) } else { Index::Float(vals) }, false))
}

/// Datetimes as CF numbers, the inverse of [`decode_times`]: counted from
/// the earliest (to the second) in the largest of days, hours, minutes
/// and seconds that counts every one whole, else in fractional seconds.
/// Returns the numbers, the units (`"days since 2001-01-01 00:00:00"`) and
/// whether every number is whole.
pub(crate) fn encode_times(values: &[DateTime], cal: Calendar) -> (Vec<f64>, String, bool) {
    const NS: i128 = 1_000_000_000;
    let epoch = values.iter().min().map_or(DateTime::date(1970, 1, 1), |t| DateTime { nanosecond: 0, ..*t });
    let ns = |t: &DateTime| {
        let secs = (i128::from(t.hour) * 60 + i128::from(t.minute)) * 60 + i128::from(t.second);
        i128::from(crate::time::day_number(cal, t.year, t.month, t.day)) * 86_400 * NS
            + secs * NS
            + i128::from(t.nanosecond)
    };
    let offsets: Vec<i128> = values.iter().map(|t| ns(t) - ns(&epoch)).collect();
    let units = [("days", 86_400 * NS), ("hours", 3_600 * NS), ("minutes", 60 * NS), ("seconds", NS)];
    let whole = units.iter().find(|(_, per)| offsets.iter().all(|o| o % per == 0));
    let (name, per) = whole.copied().unwrap_or(("seconds", NS));
    let numbers =
        offsets.iter().map(|&o| if whole.is_some() { (o / per) as f64 } else { o as f64 / per as f64 }).collect();
    let e = epoch;
    let units =
        format!("{name} since {:04}-{:02}-{:02} {:02}:{:02}:{:02}", e.year, e.month, e.day, e.hour, e.minute, e.second);
    (numbers, units, whole.is_some())
}

#[cfg(test)]
mod tests {
    use blockwork_graph::KernelParams;

    use super::*;

    #[test]
    fn decoding_and_types_follow_xarray() {
        let mut a = Attrs::new();
        a.insert("scale_factor".into(), AttrValue::Num(vec![0.5]));
        a.insert("add_offset".into(), AttrValue::Num(vec![10.0]));
        a.insert("_FillValue".into(), AttrValue::Int(vec![-1]));
        a.insert("units".into(), "K".into());
        let d = Decode::of(&a);
        assert_eq!(d.apply(4.0), 12.0);
        assert!(d.apply(-1.0).is_nan());
        assert_eq!(Decode::from_value(&d.to_value()).unwrap(), d);
        assert_eq!(decoded_dtype(Stored::I16, &d, true), DType::F32);
        assert_eq!(decoded_dtype(Stored::I16, &d, false), DType::F64);
        assert_eq!(decoded_dtype(Stored::I8, &Decode::default(), false), DType::I32);
        assert_eq!(decoded_attrs(&a, false).keys().collect::<Vec<_>>(), ["units"]);
        assert_eq!(crate::io::block_lengths(&[10], &[Some(4)]).unwrap(), [vec![4, 4, 2]]);
        assert_eq!(crate::io::block_lengths(&[0], &[Some(4)]).unwrap(), [vec![0]]);
        let t = decode_times(&[0.0, 36.0], "hours since 1900-01-01 00:00:00.0", Some("gregorian")).unwrap();
        assert_eq!(t.label(1), "1900-01-02T12:00:00");
        assert!(decode_times(&[0.0], "fortnights since 1900-01-01", None).is_err());
    }

    #[test]
    fn times_encode_to_what_decodes_back() {
        let dt = |y, mo, d, h| DateTime { hour: h, ..DateTime::date(y, mo, d) };
        let cases = [
            (Calendar::Standard, vec![dt(1582, 10, 4, 0), dt(1582, 10, 15, 0), dt(2000, 2, 29, 0)]),
            (Calendar::ProlepticGregorian, vec![dt(1979, 1, 1, 6), dt(1979, 1, 1, 12), dt(2000, 3, 1, 0)]),
            (Calendar::Julian, vec![dt(1, 1, 1, 0), dt(1500, 2, 29, 0)]),
            (Calendar::NoLeap, vec![dt(1850, 2, 28, 0), dt(1850, 3, 1, 0), dt(1851, 1, 1, 0)]),
            (Calendar::AllLeap, vec![dt(2001, 2, 29, 0), dt(2001, 3, 1, 0)]),
            (Calendar::Day360, vec![dt(1979, 2, 30, 0), dt(1979, 3, 1, 0), dt(1980, 12, 30, 18)]),
        ];
        for (cal, values) in cases {
            let (nums, units, whole) = encode_times(&values, cal);
            assert!(whole, "{cal:?}");
            let back = decode_times(&nums, &units, Some(cal.name())).unwrap();
            assert_eq!(back, Index::Time { calendar: cal, values: values.clone() }, "{cal:?} {units} {nums:?}");
        }
        let (nums, units, _) = encode_times(&[dt(2001, 1, 1, 0), dt(2001, 1, 3, 0)], Calendar::Standard);
        assert_eq!((nums, units.as_str()), (vec![0.0, 2.0], "days since 2001-01-01 00:00:00"));
        let (nums, units, _) = encode_times(&[dt(2001, 1, 1, 0), dt(2001, 1, 1, 6)], Calendar::Standard);
        assert_eq!((nums, units.as_str()), (vec![0.0, 6.0], "hours since 2001-01-01 00:00:00"));
        let half = DateTime { nanosecond: 500_000_000, ..dt(2001, 1, 1, 0) };
        assert!(!encode_times(&[dt(2001, 1, 1, 0), half], Calendar::Standard).2);
    }
}
