//! Masks, missing values, weighted reductions and rolling windows.
//!
//! - `compare` makes boolean masks; `where_` keeps values where a mask
//!   (aligned and broadcast by dimension name) holds and puts NaN
//!   elsewhere, as xarray's `da.where(cond)`; `fillna`, `isnull`.
//! - `weighted(&w).mean(dims)`: Σ w·x / Σ w over the non-NaN elements,
//!   weights broadcast by name (cos(latitude) weights over a 3-d field).
//! - `rolling(dim, window)`: trailing (or centred) windows, as xarray's
//!   `rolling(time=n)` with `min_periods = n` by default. Sums come from
//!   one cumulative sum per block row and a shifted copy (two passes, no
//!   per-window loop, every step a registered kernel), in float64.

use blockwork_array::{self as bwa, Array, Reduction};

use crate::attrs::Attrs;
use crate::data::Data;
use crate::dataarray::{align, along_axis, run, DataArray};
use crate::error::{LabeledError, Result};

/// A comparison with a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// Comparisons and selections of a variable's values, in floats.
trait Masks {
    fn compare(&self, cmp: Cmp, x: f64) -> Result<Array<bool>>;
    /// Values where `cond`, else `other` (float types keep theirs; others become float64).
    fn select(&self, cond: &Array<bool>, other: f64) -> Result<Data>;
}

impl Masks for Data {
    fn compare(&self, cmp: Cmp, x: f64) -> Result<Array<bool>> {
        let a = self.cast::<f64>();
        Ok(match cmp {
            Cmp::Lt => a.less(x)?,
            Cmp::Le => a.less_equal(x)?,
            Cmp::Gt => a.greater(x)?,
            Cmp::Ge => a.greater_equal(x)?,
            Cmp::Eq => a.equal(x)?,
            Cmp::Ne => a.not_equal(x)?,
        })
    }

    fn select(&self, cond: &Array<bool>, other: f64) -> Result<Data> {
        Ok(match self {
            Data::F32(a) => Data::F32(bwa::where_(cond, a, other as f32)?),
            d => Data::F64(bwa::where_(cond, d.cast::<f64>(), other)?),
        })
    }
}

impl DataArray {
    fn with_data(&self, data: Data) -> DataArray {
        DataArray { data, attrs: Attrs::new(), ..self.clone() }
    }

    /// A boolean mask: `da.compare(Cmp::Gt, 273.15)`.
    pub fn compare(&self, cmp: Cmp, x: f64) -> Result<DataArray> {
        Ok(self.with_data(Data::Bool(self.data.compare(cmp, x)?)))
    }

    /// Where values are NaN.
    pub fn isnull(&self) -> DataArray {
        self.with_data(Data::Bool(self.data.isnan().cast::<bool>()))
    }

    /// NaN replaced by `value`.
    pub fn fillna(&self, value: f64) -> Result<DataArray> {
        Ok(DataArray {
            data: self.data.select(&self.data.isnan().cast::<bool>().logical_not(), value)?,
            ..self.clone()
        })
    }

    /// Values where `cond` holds and NaN elsewhere; `cond` is aligned on
    /// shared coordinates and broadcast by dimension name, and its
    /// dimensions must be among this array's.
    pub fn where_(&self, cond: &DataArray) -> Result<DataArray> {
        let Data::Bool(_) = cond.data else {
            return Err(LabeledError::Coords("where_ needs a boolean mask (from compare or isnull)".into()));
        };
        if let Some(d) = cond.dims.iter().find(|d| !self.dims.contains(d)) {
            return Err(LabeledError::Dim(format!(
                "the mask has dimension `{d}`, which {} has not",
                self.dims.join(", ")
            )));
        }
        let (a, c) = align(self, cond)?;
        let Data::Bool(mask) = c.broadcast_like(&a.dims)? else {
            return Err(LabeledError::Coords("where_ needs a boolean mask".into()));
        };
        Ok(DataArray { data: a.data.select(&mask, f64::NAN)?, ..a })
    }

    /// Reductions weighted by `weights` (broadcast by dimension name).
    pub fn weighted<'a>(&'a self, weights: &'a DataArray) -> Weighted<'a> {
        Weighted { da: self, weights }
    }

    /// Windows of `window` consecutive elements along `dim`, labelled by
    /// their last element (or their centre, with `center`).
    pub fn rolling(&self, dim: &str, window: usize, center: bool) -> Result<Rolling<'_>> {
        let axis = self.axis(dim)?;
        if window == 0 {
            return Err(LabeledError::Dim("a rolling window needs at least one element".into()));
        }
        Ok(Rolling { da: self, axis, window, center, min_periods: window })
    }
}

/// A data array with weights, to reduce.
pub struct Weighted<'a> {
    da: &'a DataArray,
    weights: &'a DataArray,
}

impl Weighted<'_> {
    /// Σ w·x over `dims`, NaN skipped.
    pub fn sum(&self, dims: &[&str]) -> Result<DataArray> {
        self.da.fillna(0.0)?.mul(self.weights)?.reduce(Reduction::NanSum, dims)
    }

    /// Σ w·x / Σ w over `dims`, counting only the weights of non-NaN values.
    pub fn mean(&self, dims: &[&str]) -> Result<DataArray> {
        let num = self.sum(dims)?;
        let present = self.da.with_data(Data::F64(self.da.data.isnan().cast::<bool>().logical_not().astype::<f64>()));
        let den = present.mul(self.weights)?.reduce(Reduction::NanSum, dims)?;
        Ok(num.div(&den)?.rename_like(self.da))
    }
}

impl DataArray {
    fn rename_like(mut self, other: &DataArray) -> DataArray {
        self.name = other.name.clone();
        self
    }
}

/// Rolling windows along one dimension.
pub struct Rolling<'a> {
    da: &'a DataArray,
    axis: usize,
    window: usize,
    center: bool,
    min_periods: usize,
}

impl Rolling<'_> {
    /// Windows need this many non-NaN values (default: the window's
    /// length), else they are NaN.
    pub fn min_periods(mut self, n: usize) -> Self {
        self.min_periods = n.max(1);
        self
    }

    /// `a` shifted `k` places along the axis, `fill` coming in: forward
    /// (`front`: the fill first) or back (the fill last).
    fn shifted(&self, a: &Array<f64>, k: usize, fill: f64, front: bool) -> Result<Array<f64>> {
        let n = a.shape()[self.axis];
        let k = k.min(n);
        let mut pshape = a.shape().to_vec();
        pshape[self.axis] = k;
        let mut pchunks = a.chunks().axes().to_vec();
        pchunks[self.axis] = vec![k];
        let pad = bwa::full::<f64>(&pshape, fill, pchunks)?;
        let nd = self.da.dims.len();
        let parts = if front {
            [pad, a.slice(along_axis(nd, self.axis, run(0..n - k)))?]
        } else {
            [a.slice(along_axis(nd, self.axis, run(k..n)))?, pad]
        };
        Ok(bwa::concatenate(&[&parts[0], &parts[1]], self.axis as isize)?)
    }

    /// Window sums and counts of non-NaN values.
    fn sums(&self) -> Result<(Array<f64>, Array<f64>)> {
        let x = self.da.fillna(0.0)?.data.cast::<f64>();
        let present = self.da.data.isnan().cast::<bool>().logical_not().astype::<f64>();
        let ax = self.axis as isize;
        let (cs, cn) = (x.cumsum(ax)?, present.cumsum(ax)?);
        Ok((cs.sub(&self.shifted(&cs, self.window, 0.0, true)?)?, cn.sub(&self.shifted(&cn, self.window, 0.0, true)?)?))
    }

    /// Labels each window by its centre instead of its end.
    fn place(&self, a: Array<f64>) -> Result<Array<f64>> {
        if self.center {
            self.shifted(&a, self.window / 2, f64::NAN, false)
        } else {
            Ok(a)
        }
    }

    fn finish(&self, value: Array<f64>, count: &Array<f64>) -> Result<DataArray> {
        let ok = count.greater_equal(self.min_periods as f64)?;
        let out = self.place(bwa::where_(&ok, &value, f64::NAN)?)?;
        let data = if matches!(self.da.data, Data::F32(_)) { Data::F32(out.astype::<f32>()) } else { Data::F64(out) };
        Ok(DataArray { data, attrs: Attrs::new(), ..self.da.clone() })
    }

    /// The sum of each window.
    pub fn sum(&self) -> Result<DataArray> {
        let (s, n) = self.sums()?;
        self.finish(s, &n)
    }

    /// The mean of each window's non-NaN values.
    pub fn mean(&self) -> Result<DataArray> {
        let (s, n) = self.sums()?;
        let mean = s.div(&n)?;
        self.finish(mean, &n)
    }

    /// The number of non-NaN values of each window.
    pub fn count(&self) -> Result<DataArray> {
        let (_, n) = self.sums()?;
        let r = Rolling { min_periods: 0, ..*self };
        let mut out = r.finish(n.clone(), &n)?;
        out.data = Data::F64(out.data.cast::<f64>());
        Ok(out)
    }
}
