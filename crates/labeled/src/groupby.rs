//! Grouping along a dimension: `groupby("time.season")`,
//! `groupby("time.month")`, `groupby("time.year")` or by a coordinate's
//! values, then a reduction per group (by the array crate's grouped
//! reductions) or arithmetic against a per-group array (anomalies).

use std::collections::BTreeSet;

use blockwork_array::{GroupReduction, Reduction};

use crate::data::{ArithOp, DataOps};
use crate::dataarray::{Coord, DataArray};
use crate::error::{LabeledError, Result};
use crate::index::Index;
use crate::time::DateTime;

/// A data array split into groups along one dimension.
#[derive(Clone, Debug)]
pub struct GroupBy {
    da: DataArray,
    dim: String,
    axis: usize,
    /// Group number of each position along `dim`.
    labels: Vec<i64>,
    /// The groups' labels, sorted as xarray sorts them.
    groups: Index,
    /// The name of the dimension the groups make.
    name: String,
}

fn component(t: &DateTime, what: &str) -> Option<i64> {
    Some(match what {
        "year" => t.year as i64,
        "month" => t.month as i64,
        "day" => t.day as i64,
        "hour" => t.hour as i64,
        _ => return None,
    })
}

impl DataArray {
    /// Groups along a dimension: `"time.season"` (DJF, JJA, MAM, SON),
    /// `"time.month"`, `"time.year"`, `"time.day"`, `"time.hour"`, or the
    /// name of a dimension to group by its own labels.
    pub fn groupby(&self, key: &str) -> Result<GroupBy> {
        let (dim, part) = match key.split_once('.') {
            Some((d, p)) => (d, Some(p)),
            None => (key, None),
        };
        let axis = self.axis(dim)?;
        let index = &self.coord(dim)?.index;
        let (groups, labels, name) = match (index, part) {
            (Index::Time { values, .. }, Some("season")) => {
                let keys: Vec<String> = values.iter().map(|t| t.season().to_string()).collect();
                let (g, l) = number(keys);
                (Index::Str(g), l, "season".to_string())
            }
            (Index::Time { values, .. }, Some(p)) => {
                let keys = values.iter().map(|t| component(t, p)).collect::<Option<Vec<i64>>>().ok_or_else(|| {
                    LabeledError::Label(format!(
                        "`{key}`: no datetime component `{p}` (season, year, month, day, hour)"
                    ))
                })?;
                let (g, l) = number(keys);
                (Index::Int(g), l, p.to_string())
            }
            (_, Some(p)) => {
                return Err(LabeledError::Label(format!("`{key}`: `{dim}` is not a time dimension, it has no `{p}`")))
            }
            (Index::Int(v), None) => {
                let (g, l) = number(v.clone());
                (Index::Int(g), l, dim.to_string())
            }
            (Index::Str(v), None) => {
                let (g, l) = number(v.clone());
                (Index::Str(g), l, dim.to_string())
            }
            (Index::Time { calendar, values }, None) => {
                let (g, l) = number(values.clone());
                (Index::Time { calendar: *calendar, values: g }, l, dim.to_string())
            }
            (Index::Float(v), None) => {
                // f64::total_cmp's order, as integers.
                let key = |x: f64| {
                    let b = x.to_bits() as i64;
                    b ^ (((b >> 63) as u64) >> 1) as i64
                };
                let (g, l) = number(v.iter().map(|&x| key(x)).collect());
                let values = g.iter().map(|k| v.iter().copied().find(|&x| key(x) == *k).unwrap_or(f64::NAN)).collect();
                (Index::Float(values), l, dim.to_string())
            }
        };
        Ok(GroupBy { da: self.clone(), dim: dim.to_string(), axis, labels, groups, name })
    }
}

/// The sorted distinct keys, and each key's number among them.
fn number<K: Ord + Clone>(keys: Vec<K>) -> (Vec<K>, Vec<i64>) {
    let sorted: Vec<K> = keys.iter().cloned().collect::<BTreeSet<K>>().into_iter().collect();
    let labels = keys.iter().map(|k| sorted.binary_search(k).map_or(-1, |i| i as i64)).collect();
    (sorted, labels)
}

impl GroupBy {
    pub(crate) fn from_parts(
        da: &DataArray,
        dim: &str,
        labels: Vec<i64>,
        groups: Index,
        name: &str,
    ) -> Result<GroupBy> {
        let axis = da.axis(dim)?;
        Ok(GroupBy { da: da.clone(), dim: dim.into(), axis, labels, groups, name: name.into() })
    }

    /// The groups' labels.
    pub fn groups(&self) -> &Index {
        &self.groups
    }

    /// Reduces each group over the grouped dimension, which becomes the
    /// groups' dimension (`season`, `month`, …) with their labels.
    pub fn reduce(&self, kind: GroupReduction, dim: &str) -> Result<DataArray> {
        if dim != self.dim {
            return Err(LabeledError::Dim(format!("grouped along `{}`: reduce over it, not `{dim}`", self.dim)));
        }
        let data = self.da.data.grouped(self.axis, &self.labels, self.groups.len(), kind)?;
        let mut dims = self.da.dims.clone();
        dims[self.axis] = self.name.clone();
        let mut coords = self.da.coords.clone();
        coords.remove(&self.dim);
        coords.insert(self.name.clone(), Coord::new(self.groups.clone()));
        Ok(DataArray { name: self.da.name.clone(), dims, data, coords, attrs: Default::default() })
    }

    /// The mean of each group, skipping NaN.
    pub fn mean(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Of(Reduction::NanMean), dim)
    }

    /// The sum of each group, skipping NaN.
    pub fn sum(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Of(Reduction::NanSum), dim)
    }

    /// The minimum of each group, skipping NaN.
    pub fn min(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Of(Reduction::NanMin), dim)
    }

    /// The maximum of each group, skipping NaN.
    pub fn max(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Of(Reduction::NanMax), dim)
    }

    /// The standard deviation of each group (ddof 0), skipping NaN.
    pub fn std(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Of(Reduction::NanStd), dim)
    }

    /// The variance of each group (ddof 0), skipping NaN.
    pub fn var(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Of(Reduction::NanVar), dim)
    }

    /// The number of non-NaN values of each group.
    pub fn count(&self, dim: &str) -> Result<DataArray> {
        self.reduce(GroupReduction::Count, dim)
    }

    /// Arithmetic between each element and its group's entry of `per_group`
    /// (an array along the groups' dimension, e.g. a climatology): xarray's
    /// `tas.groupby("time.month") - clim`. The result is along the
    /// original dimension.
    pub fn arith(&self, op: ArithOp, per_group: &DataArray) -> Result<DataArray> {
        let gax = per_group.axis(&self.name)?;
        let gidx = &per_group.coord(&self.name)?.index;
        let pos: Vec<usize> = self
            .groups
            .positions_in(gidx)
            .iter()
            .enumerate()
            .map(|(g, p)| {
                p.ok_or_else(|| {
                    let l = self.groups.label(g);
                    LabeledError::Coords(format!("group {l} of `{}` is not in the per-group array", self.name))
                })
            })
            .collect::<Result<_>>()?;
        let take: Vec<isize> = self.labels.iter().map(|&g| if g < 0 { 0 } else { pos[g as usize] as isize }).collect();
        let mut spread = per_group.clone();
        spread.data = per_group.data.take(&take, gax as isize)?;
        spread.dims[gax] = self.dim.clone();
        spread.coords.remove(&self.name);
        spread.coords.insert(self.dim.clone(), self.da.coord(&self.dim)?.clone());
        self.da.arith(op, &spread)
    }

    /// Each element minus its group's entry of `per_group` (anomalies).
    pub fn sub(&self, per_group: &DataArray) -> Result<DataArray> {
        self.arith(ArithOp::Sub, per_group)
    }
}
