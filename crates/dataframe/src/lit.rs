//! Literal values and column types, as a user writes them.

use blockwork_graph::{Param, Value};
use polars::prelude::{AnyValue, DataType, NamedFrom, Series, TimeUnit};

use crate::param::param_by_name;

/// A literal: an operand of arithmetic and comparisons, a fill value,
/// a member of an `isin` list, a reduction's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// A missing value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
}

impl Lit {
    /// A one-row series holding it (Polars broadcasts it against a column).
    pub(crate) fn series(&self, name: &str) -> Series {
        let name = name.into();
        match self {
            Lit::Null => Series::full_null(name, 1, &DataType::Null),
            Lit::Bool(b) => Series::new(name, [*b]),
            Lit::Int(i) => Series::new(name, [*i]),
            Lit::Float(f) => Series::new(name, [*f]),
            Lit::Str(s) => Series::new(name, [s.as_str()]),
        }
    }

    /// From a Polars value (integers widen to i64, floats to f64; dates
    /// and datetimes give their physical integer).
    pub fn from_any(v: &AnyValue<'_>) -> Lit {
        match v {
            AnyValue::Null => Lit::Null,
            AnyValue::Boolean(b) => Lit::Bool(*b),
            AnyValue::String(s) => Lit::Str(s.to_string()),
            AnyValue::StringOwned(s) => Lit::Str(s.to_string()),
            AnyValue::Float32(f) => Lit::Float(f64::from(*f)),
            AnyValue::Float64(f) => Lit::Float(*f),
            v => match v.extract::<i64>() {
                Some(i) => Lit::Int(i),
                None => v.extract::<f64>().map_or(Lit::Null, Lit::Float),
            },
        }
    }

    /// As a float, when numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Lit::Int(i) => Some(*i as f64),
            Lit::Float(f) => Some(*f),
            Lit::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
}

impl From<i64> for Lit {
    fn from(x: i64) -> Self {
        Lit::Int(x)
    }
}
impl From<i32> for Lit {
    fn from(x: i32) -> Self {
        Lit::Int(x.into())
    }
}
impl From<f64> for Lit {
    fn from(x: f64) -> Self {
        Lit::Float(x)
    }
}
impl From<bool> for Lit {
    fn from(x: bool) -> Self {
        Lit::Bool(x)
    }
}
impl From<&str> for Lit {
    fn from(x: &str) -> Self {
        Lit::Str(x.to_string())
    }
}

/// A missing value is the unit value; the others are plain values.
impl Param for Lit {
    fn to_param(&self) -> Value {
        match self {
            Lit::Null => Value::Unit,
            Lit::Bool(b) => Value::Bool(*b),
            Lit::Int(i) => Value::Int(*i),
            Lit::Float(f) => Value::Float(*f),
            Lit::Str(s) => Value::Str(s.as_str().into()),
        }
    }
    fn from_param(v: &Value) -> Option<Self> {
        Some(match v {
            Value::Unit => Lit::Null,
            Value::Bool(b) => Lit::Bool(*b),
            Value::Int(i) => Lit::Int(*i),
            Value::Float(f) => Lit::Float(*f),
            Value::Str(s) => Lit::Str(s.to_string()),
            _ => return None,
        })
    }
}

/// A column type, named as pandas names it (`astype("float64")`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    /// `bool`
    Bool,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// `str`, `string`, `object`
    Str,
    /// `date`
    Date,
    /// `datetime64[us]` (also `datetime64[ns]`, `datetime64`): microseconds
    Datetime,
}

const DTYPES: [(DType, &[&str]); 8] = [
    (DType::Bool, &["bool", "boolean"]),
    (DType::Int32, &["int32", "Int32"]),
    (DType::Int64, &["int64", "Int64", "int"]),
    (DType::Float32, &["float32"]),
    (DType::Float64, &["float64", "float"]),
    (DType::Str, &["str", "string", "object"]),
    (DType::Date, &["date"]),
    (DType::Datetime, &["datetime64[us]", "datetime64[ns]", "datetime64[ms]", "datetime64", "datetime"]),
];

impl DType {
    /// The type a pandas name stands for.
    pub fn parse(name: &str) -> Option<DType> {
        DTYPES.iter().find(|(_, names)| names.contains(&name)).map(|(d, _)| *d)
    }

    /// Its canonical name.
    pub fn name(self) -> &'static str {
        DTYPES.iter().find(|(d, _)| *d == self).map_or("?", |(_, names)| names[0])
    }

    /// The Polars type of its columns.
    pub fn polars(self) -> DataType {
        match self {
            DType::Bool => DataType::Boolean,
            DType::Int32 => DataType::Int32,
            DType::Int64 => DataType::Int64,
            DType::Float32 => DataType::Float32,
            DType::Float64 => DataType::Float64,
            DType::Str => DataType::String,
            DType::Date => DataType::Date,
            DType::Datetime => DataType::Datetime(TimeUnit::Microseconds, None),
        }
    }
}

param_by_name!(DType, DType::name, DType::parse);
