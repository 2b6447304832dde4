//! Attributes: the metadata of variables and datasets.

use std::collections::BTreeMap;
use std::fmt;

/// One attribute value, as NetCDF and Zarr store them.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// Text.
    Str(String),
    /// Numbers (one or more), as f64.
    Num(Vec<f64>),
    /// Integers (one or more).
    Int(Vec<i64>),
}

impl AttrValue {
    /// The text, for a text attribute.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The first number, for a numeric attribute.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Num(v) => v.first().copied(),
            AttrValue::Int(v) => v.first().map(|&x| x as f64),
            AttrValue::Str(_) => None,
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, v: Vec<String>| {
            if v.len() == 1 {
                write!(f, "{}", v[0])
            } else {
                write!(f, "[{}]", v.join(", "))
            }
        };
        match self {
            AttrValue::Str(s) => write!(f, "{s}"),
            AttrValue::Num(v) => list(f, v.iter().map(|x| x.to_string()).collect()),
            AttrValue::Int(v) => list(f, v.iter().map(|x| x.to_string()).collect()),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.to_string())
    }
}

impl From<f64> for AttrValue {
    fn from(x: f64) -> Self {
        AttrValue::Num(vec![x])
    }
}

/// Attributes by name.
pub type Attrs = BTreeMap<String, AttrValue>;
