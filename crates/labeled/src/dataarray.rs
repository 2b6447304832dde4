//! [`DataArray`]: a chunked array with named dimensions, index
//! coordinates and attributes.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

use blockwork_array::Reduction;
use ndarray::{ArrayD, SliceInfoElem};

use crate::attrs::Attrs;
use crate::data::{ArithOp, Data, DataOps};
use crate::error::{LabeledError, Result};
use crate::index::{Index, Label, Positions};

/// An index coordinate: the labels of one dimension and their attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Coord {
    /// The labels.
    pub index: Index,
    /// Attributes (units, long_name, …).
    pub attrs: Attrs,
}

impl Coord {
    /// A coordinate without attributes.
    pub fn new(index: Index) -> Coord {
        Coord { index, attrs: Attrs::new() }
    }
}

/// Index coordinates by dimension name.
pub type Coords = BTreeMap<String, Coord>;

/// A labeled, chunked N-d array: xarray's `DataArray`.
#[derive(Clone, Debug)]
pub struct DataArray {
    pub(crate) name: Option<String>,
    pub(crate) dims: Vec<String>,
    pub(crate) data: Data,
    pub(crate) coords: Coords,
    pub(crate) attrs: Attrs,
}

/// What [`DataArray::sel`] selects along one dimension.
#[derive(Clone, Debug, PartialEq)]
pub enum Selector {
    /// One label; a partial date (`"2018"`) on a time index selects all
    /// it covers and keeps the dimension, any other label drops it.
    Label(Label),
    /// Labels between two bounds, both included (as pandas and xarray
    /// slice labels), whichever Rust range syntax builds it.
    Slice(Option<Label>, Option<Label>),
    /// The label nearest to a number.
    Nearest(f64),
}

impl<L: Into<Label>> From<L> for Selector {
    fn from(l: L) -> Self {
        Selector::Label(l.into())
    }
}

impl<L: Into<Label>> From<Range<L>> for Selector {
    fn from(r: Range<L>) -> Self {
        Selector::Slice(Some(r.start.into()), Some(r.end.into()))
    }
}

impl<L: Into<Label>> From<RangeInclusive<L>> for Selector {
    fn from(r: RangeInclusive<L>) -> Self {
        let (a, b) = r.into_inner();
        Selector::Slice(Some(a.into()), Some(b.into()))
    }
}

impl<L: Into<Label>> From<RangeFrom<L>> for Selector {
    fn from(r: RangeFrom<L>) -> Self {
        Selector::Slice(Some(r.start.into()), None)
    }
}

impl<L: Into<Label>> From<RangeTo<L>> for Selector {
    fn from(r: RangeTo<L>) -> Self {
        Selector::Slice(None, Some(r.end.into()))
    }
}

impl<L: Into<Label>> From<RangeToInclusive<L>> for Selector {
    fn from(r: RangeToInclusive<L>) -> Self {
        Selector::Slice(None, Some(r.end.into()))
    }
}

impl From<RangeFull> for Selector {
    fn from(_: RangeFull) -> Self {
        Selector::Slice(None, None)
    }
}

impl DataArray {
    /// A data array from its parts; every coordinate must name a
    /// dimension and have its length.
    pub fn new(name: Option<&str>, dims: &[&str], data: Data, coords: Coords, attrs: Attrs) -> Result<DataArray> {
        if dims.len() != data.shape().len() {
            return Err(LabeledError::Dim(format!(
                "{} dimension names {dims:?} for data of shape {:?}",
                dims.len(),
                data.shape()
            )));
        }
        let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        for (i, d) in dims.iter().enumerate() {
            if dims[..i].contains(d) {
                return Err(LabeledError::Dim(format!("dimension `{d}` named twice in {dims:?}")));
            }
        }
        let da = DataArray { name: name.map(str::to_string), dims, data, coords, attrs };
        for (d, c) in &da.coords {
            let ax = da.axis(d)?;
            if c.index.len() != da.shape()[ax] {
                return Err(LabeledError::Coords(format!(
                    "coordinate `{d}` has {} labels for a dimension of length {}",
                    c.index.len(),
                    da.shape()[ax]
                )));
            }
        }
        Ok(da)
    }

    /// The name (the variable's, for one read from a file).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The same array under another name.
    pub fn rename(mut self, name: &str) -> DataArray {
        self.name = Some(name.to_string());
        self
    }

    /// Dimension names, in axis order.
    pub fn dims(&self) -> Vec<&str> {
        self.dims.iter().map(String::as_str).collect()
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// The chunked data.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// The same array with its data computed and held (xarray's
    /// `persist`): on this machine's threads its blocks are kept in
    /// memory; with a cluster's client as the scheduler they stay on the
    /// workers, and what is built on it starts from them.
    pub fn persist(&self) -> Result<DataArray> {
        Ok(DataArray { data: self.data.persist()?, ..self.clone() })
    }

    /// Index coordinates by dimension.
    pub fn coords(&self) -> &Coords {
        &self.coords
    }

    /// The index coordinate of a dimension.
    pub fn coord(&self, dim: &str) -> Result<&Coord> {
        self.coords.get(dim).ok_or_else(|| LabeledError::Dim(format!("dimension `{dim}` has no coordinate")))
    }

    /// Attributes.
    pub fn attrs(&self) -> &Attrs {
        &self.attrs
    }

    /// Attributes, to change.
    pub fn attrs_mut(&mut self) -> &mut Attrs {
        &mut self.attrs
    }

    /// The axis of a dimension.
    pub fn axis(&self, dim: &str) -> Result<usize> {
        self.dims.iter().position(|d| d == dim).ok_or_else(|| {
            LabeledError::Dim(format!("no dimension `{dim}` in {} (dimensions {:?})", self.what(), self.dims))
        })
    }

    fn what(&self) -> String {
        match &self.name {
            Some(n) => format!("`{n}`"),
            None => "the array".into(),
        }
    }

    /// Selects by position along one dimension: a run of positions keeps
    /// the dimension.
    pub fn isel(&self, dim: &str, range: Range<usize>) -> Result<DataArray> {
        let ax = self.axis(dim)?;
        let n = self.shape()[ax];
        if range.start > range.end || range.end > n {
            return Err(LabeledError::Dim(format!("positions {range:?} out of dimension `{dim}` of length {n}")));
        }
        self.select(ax, Positions::Run(range))
    }

    /// Selects by label along one dimension, as xarray's `sel`:
    /// `tas.sel("time", "1981"..="2010")`, `tas.sel("time", "2018")`,
    /// `tas.sel("latitude", 45.0)`, `tas.sel("latitude", Selector::Nearest(44.2))`.
    pub fn sel(&self, dim: &str, selector: impl Into<Selector>) -> Result<DataArray> {
        let ax = self.axis(dim)?;
        let index = &self.coord(dim)?.index;
        let pos = match selector.into() {
            Selector::Label(l) => index.locate(&l, dim)?,
            Selector::Slice(lo, hi) => Positions::Run(index.range(lo.as_ref(), hi.as_ref(), dim)?),
            Selector::Nearest(x) => Positions::One(index.nearest(x, dim)?),
        };
        self.select(ax, pos)
    }

    fn select(&self, ax: usize, pos: Positions) -> Result<DataArray> {
        let dim = self.dims[ax].clone();
        let mut out = self.clone();
        match pos {
            Positions::One(i) => {
                out.data = self.data.slice(&along_axis(self.dims.len(), ax, SliceInfoElem::Index(i as isize)))?;
                out.dims.remove(ax);
                out.coords.remove(&dim);
            }
            Positions::Run(r) => {
                out.data = self.data.slice(&along_axis(self.dims.len(), ax, run(r.clone())))?;
                if let Some(c) = out.coords.get_mut(&dim) {
                    c.index = c.index.slice(r);
                }
            }
            Positions::Many(p) => {
                let signed: Vec<isize> = p.iter().map(|&i| i as isize).collect();
                out.data = self.data.take(&signed, ax as isize)?;
                if let Some(c) = out.coords.get_mut(&dim) {
                    c.index = c.index.take(&p);
                }
            }
        }
        Ok(out)
    }

    /// Reduces over some dimensions (all of them when `dims` is empty).
    /// The NaN-skipping kinds are what xarray's float reductions do by
    /// default (`skipna=True`).
    pub fn reduce(&self, kind: Reduction, dims: &[&str]) -> Result<DataArray> {
        let axes: Vec<usize> = if dims.is_empty() {
            (0..self.dims.len()).collect()
        } else {
            dims.iter().map(|d| self.axis(d)).collect::<Result<_>>()?
        };
        let iaxes: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
        let data = self.data.reduce_floats(kind, &iaxes)?;
        let dims: Vec<String> =
            self.dims.iter().enumerate().filter(|(k, _)| !axes.contains(k)).map(|(_, d)| d.clone()).collect();
        let coords =
            self.coords.iter().filter(|(d, _)| dims.contains(d)).map(|(d, c)| (d.clone(), c.clone())).collect();
        Ok(DataArray { name: self.name.clone(), dims, data, coords, attrs: Attrs::new() })
    }

    /// The mean over a dimension, skipping NaN.
    pub fn mean(&self, dim: &str) -> Result<DataArray> {
        self.reduce(Reduction::NanMean, &[dim])
    }

    /// The sum over a dimension, skipping NaN.
    pub fn sum(&self, dim: &str) -> Result<DataArray> {
        self.reduce(Reduction::NanSum, &[dim])
    }

    /// The minimum over a dimension, skipping NaN.
    pub fn min(&self, dim: &str) -> Result<DataArray> {
        self.reduce(Reduction::NanMin, &[dim])
    }

    /// The maximum over a dimension, skipping NaN.
    pub fn max(&self, dim: &str) -> Result<DataArray> {
        self.reduce(Reduction::NanMax, &[dim])
    }

    /// The standard deviation over a dimension (ddof 0), skipping NaN.
    pub fn std(&self, dim: &str) -> Result<DataArray> {
        self.reduce(Reduction::NanStd, &[dim])
    }

    /// Cuts the data into blocks of the given lengths along some
    /// dimensions (xarray's `chunk({"time": 100})`); others keep theirs.
    pub fn chunk(&self, chunks: &[(&str, usize)]) -> Result<DataArray> {
        let mut axes = self.data.chunks().to_vec();
        for &(d, n) in chunks {
            let ax = self.axis(d)?;
            axes[ax] = crate::io::block_lengths(&[self.shape()[ax]], &[Some(n)])?.remove(0);
        }
        Ok(DataArray { data: self.data.rechunk(axes)?, ..self.clone() })
    }

    /// Computes the values, as float64.
    pub fn values(&self) -> Result<ArrayD<f64>> {
        Ok(self.data.cast::<f64>().compute()?)
    }

    /// Arithmetic with another data array, as xarray does it: operands are
    /// aligned on their shared coordinates (an inner join: only labels in
    /// both are kept), and broadcast by dimension name (the result has
    /// this array's dimensions, then the other's new ones). Attributes
    /// are dropped; the name is kept when both names agree.
    pub fn arith(&self, op: ArithOp, other: &DataArray) -> Result<DataArray> {
        let (a, b) = align(self, other)?;
        let mut dims = a.dims.clone();
        dims.extend(b.dims.iter().filter(|d| !a.dims.contains(d)).cloned());
        let da = a.broadcast_like(&dims)?;
        let db = b.broadcast_like(&dims)?;
        let data = da.arith(op, &db)?;
        let mut coords = a.coords.clone();
        for (d, c) in &b.coords {
            coords.entry(d.clone()).or_insert_with(|| c.clone());
        }
        let name = if a.name == b.name { a.name.clone() } else { None };
        Ok(DataArray { name, dims, data, coords, attrs: Attrs::new() })
    }

    /// Arithmetic with a number.
    pub fn arith_scalar(&self, op: ArithOp, x: f64) -> Result<DataArray> {
        Ok(DataArray { data: self.data.arith_scalar(op, x)?, attrs: Attrs::new(), ..self.clone() })
    }

    /// `self - other`, aligned and broadcast by name.
    pub fn sub(&self, other: &DataArray) -> Result<DataArray> {
        self.arith(ArithOp::Sub, other)
    }

    /// `self + other`, aligned and broadcast by name.
    pub fn add(&self, other: &DataArray) -> Result<DataArray> {
        self.arith(ArithOp::Add, other)
    }

    /// `self * other`, aligned and broadcast by name.
    pub fn mul(&self, other: &DataArray) -> Result<DataArray> {
        self.arith(ArithOp::Mul, other)
    }

    /// `self / other`, aligned and broadcast by name.
    pub fn div(&self, other: &DataArray) -> Result<DataArray> {
        self.arith(ArithOp::Div, other)
    }

    /// The data laid out along `dims` (a superset of this array's
    /// dimensions): missing ones become length-1 axes for broadcasting.
    pub(crate) fn broadcast_like(&self, dims: &[String]) -> Result<Data> {
        let mut data = self.data.clone();
        let mut have = self.dims.clone();
        for d in dims {
            if !have.contains(d) {
                data = data.expand_dims(have.len() as isize)?;
                have.push(d.clone());
            }
        }
        let perm: Vec<usize> = dims.iter().map(|d| have.iter().position(|h| h == d).unwrap_or(0)).collect();
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            Ok(data)
        } else {
            Ok(data.permute_axes(&perm)?)
        }
    }

    /// Puts the dimensions in the given order (every dimension once).
    pub fn transpose(&self, dims: &[&str]) -> Result<DataArray> {
        if dims.len() != self.dims.len() {
            return Err(LabeledError::Dim(format!(
                "transpose to {dims:?} of an array with dimensions {:?}",
                self.dims
            )));
        }
        let perm: Vec<usize> = dims.iter().map(|d| self.axis(d)).collect::<Result<_>>()?;
        Ok(DataArray {
            data: self.data.permute_axes(&perm)?,
            dims: dims.iter().map(|d| d.to_string()).collect(),
            ..self.clone()
        })
    }
}

/// A selection of `elem` on axis `ax` of `ndim`, everything on the others.
pub(crate) fn along_axis(ndim: usize, ax: usize, elem: SliceInfoElem) -> Vec<SliceInfoElem> {
    (0..ndim).map(|k| if k == ax { elem } else { SliceInfoElem::Slice { start: 0, end: None, step: 1 } }).collect()
}

/// The positions `r`, as a slice.
pub(crate) fn run(r: Range<usize>) -> SliceInfoElem {
    SliceInfoElem::Slice { start: r.start as isize, end: Some(r.end as isize), step: 1 }
}

/// Aligns two arrays on the coordinates of their shared dimensions:
/// equal coordinates are kept as they are; otherwise only the labels in
/// both remain, in the first array's order.
pub(crate) fn align(a: &DataArray, b: &DataArray) -> Result<(DataArray, DataArray)> {
    let (mut a, mut b) = (a.clone(), b.clone());
    for d in a.dims.clone() {
        let Ok(bx) = b.axis(&d) else { continue };
        let ax = a.axis(&d)?;
        match (a.coords.get(&d), b.coords.get(&d)) {
            (Some(ca), Some(cb)) if ca.index == cb.index => {}
            (Some(ca), Some(cb)) => {
                let (pa, pb): (Vec<usize>, Vec<usize>) =
                    ca.index.positions_in(&cb.index).iter().enumerate().filter_map(|(i, j)| Some((i, (*j)?))).unzip();
                if pa.is_empty() {
                    return Err(LabeledError::Coords(format!("coordinates of `{d}` have no label in common")));
                }
                a = a.select(ax, Positions::Many(pa))?;
                b = b.select(bx, Positions::Many(pb))?;
            }
            _ if a.shape()[ax] != b.shape()[bx] => {
                return Err(LabeledError::Dim(format!(
                    "dimension `{d}` has length {} in one operand and {} in the other",
                    a.shape()[ax],
                    b.shape()[bx]
                )));
            }
            _ => {}
        }
    }
    Ok((a, b))
}

impl fmt::Display for DataArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self.dims.iter().zip(self.shape()).map(|(d, n)| format!("{d}: {n}")).collect();
        writeln!(
            f,
            "<blockwork.DataArray {}({})>",
            self.name.as_deref().map(|n| format!("'{n}' ")).unwrap_or_default(),
            dims.join(", ")
        )?;
        let chunks: Vec<String> =
            self.data.chunks().iter().map(|c| format!("{}", c.iter().max().unwrap_or(&0))).collect();
        writeln!(f, "  {} chunks of ({}), {} tasks", self.data.dtype(), chunks.join(", "), self.data.ntasks())?;
        if !self.coords.is_empty() {
            writeln!(f, "Coordinates:")?;
            for d in &self.dims {
                if let Some(c) = self.coords.get(d) {
                    let n = c.index.len();
                    let show = if n == 0 {
                        String::new()
                    } else if n <= 4 {
                        (0..n).map(|i| c.index.label(i)).collect::<Vec<_>>().join(" ")
                    } else {
                        format!("{} {} ... {}", c.index.label(0), c.index.label(1), c.index.label(n - 1))
                    };
                    writeln!(f, "  * {d:<10} ({d}) {show}")?;
                }
            }
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
