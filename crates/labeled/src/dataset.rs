//! [`Dataset`]: data variables that share dimensions and coordinates.

use std::collections::BTreeMap;
use std::fmt;

use crate::attrs::Attrs;
use crate::dataarray::{Coords, DataArray};
use crate::error::{LabeledError, Result};
use crate::index::Index;

/// A coordinate that labels no dimension of its own: a scalar (the level
/// of a single-level field, the forecast step) or values along a
/// dimension that another coordinate indexes (`valid_time` along `time`),
/// as GRIB files give them. Readers set them; operations on the dataset
/// do not carry them.
#[derive(Clone, Debug, PartialEq)]
pub struct AuxCoord {
    /// Its name.
    pub name: String,
    /// The dimensions it runs along; empty for a scalar.
    pub dims: Vec<String>,
    /// Its values (one for a scalar).
    pub values: Index,
    /// Attributes (units, long_name, …).
    pub attrs: Attrs,
}

/// Named data arrays over shared coordinates: xarray's `Dataset`.
#[derive(Clone, Debug)]
pub struct Dataset {
    vars: BTreeMap<String, DataArray>,
    coords: Coords,
    aux: Vec<AuxCoord>,
    attrs: Attrs,
    /// Where it came from, for errors ("a.nc", "12 files a.nc … l.nc").
    source: String,
}

impl Dataset {
    pub(crate) fn new(vars: Vec<DataArray>, coords: Coords, attrs: Attrs, source: String) -> Dataset {
        let vars = vars.into_iter().map(|v| (v.name().unwrap_or_default().to_string(), v)).collect();
        Dataset { vars, coords, aux: Vec::new(), attrs, source }
    }

    /// The same, with coordinates that label no dimension of their own.
    pub(crate) fn with_aux(mut self, aux: Vec<AuxCoord>) -> Dataset {
        self.aux = aux;
        self
    }

    /// Coordinates that label no dimension of their own (`valid_time`,
    /// scalar levels and steps of GRIB fields), as the reader found them.
    pub fn aux_coords(&self) -> &[AuxCoord] {
        &self.aux
    }

    /// A dataset of named data arrays; their coordinates are merged and
    /// must agree where they share a dimension.
    pub fn from_vars(vars: Vec<DataArray>, attrs: Attrs) -> Result<Dataset> {
        let mut coords = Coords::new();
        for v in &vars {
            if v.name().is_none() {
                return Err(LabeledError::Coords("a dataset's variables need names".into()));
            }
            for (d, c) in v.coords() {
                match coords.get(d) {
                    Some(o) if o.index != c.index => {
                        return Err(LabeledError::Coords(format!(
                            "variables disagree on the coordinate of `{d}` (`{}`)",
                            v.name().unwrap_or_default()
                        )))
                    }
                    Some(_) => {}
                    None => {
                        coords.insert(d.clone(), c.clone());
                    }
                }
            }
        }
        Ok(Dataset::new(vars, coords, attrs, "a dataset in memory".into()))
    }

    /// A data variable: `ds.get("t2m")`.
    pub fn get(&self, name: &str) -> Result<DataArray> {
        self.vars
            .get(name)
            .cloned()
            .ok_or_else(|| LabeledError::MissingVariable { name: name.to_string(), within: self.source.clone() })
    }

    /// The dataset with every data variable computed and held (xarray's
    /// `persist`; see [`DataArray::persist`]). Each variable is persisted
    /// in turn, so work they share is done once per variable.
    pub fn persist(&self) -> Result<Dataset> {
        let mut vars = BTreeMap::new();
        for (name, v) in &self.vars {
            vars.insert(name.clone(), v.persist()?);
        }
        Ok(Dataset { vars, ..self.clone() })
    }

    /// Names of the data variables.
    pub fn data_vars(&self) -> Vec<&str> {
        self.vars.keys().map(String::as_str).collect()
    }

    /// Index coordinates by dimension.
    pub fn coords(&self) -> &Coords {
        &self.coords
    }

    /// Global attributes.
    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    /// Dimension lengths.
    pub fn sizes(&self) -> BTreeMap<&str, usize> {
        let mut out = BTreeMap::new();
        for v in self.vars.values() {
            for (d, &n) in v.dims().into_iter().zip(v.shape()) {
                out.insert(d, n);
            }
        }
        for (d, c) in &self.coords {
            out.entry(d.as_str()).or_insert(c.index.len());
        }
        out
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<String> = self.sizes().iter().map(|(d, n)| format!("{d}: {n}")).collect();
        writeln!(f, "<blockwork.Dataset> ({}) from {}", sizes.join(", "), self.source)?;
        writeln!(f, "Coordinates:")?;
        for (d, c) in &self.coords {
            writeln!(f, "  * {d:<10} ({d}) {} labels", c.index.len())?;
        }
        writeln!(f, "Data variables:")?;
        for (n, v) in &self.vars {
            writeln!(f, "    {n:<10} ({}) {}", v.dims().join(", "), v.data().dtype())?;
        }
        if !self.attrs.is_empty() {
            writeln!(f, "Attributes:")?;
            for (k, v) in &self.attrs {
                writeln!(f, "    {k}: {v}")?;
            }
        }
        Ok(())
    }
}
