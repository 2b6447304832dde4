//! [`Data`]: a chunked array of any element type, behind one type, so a
//! variable read from a file can be float32 or int16 without the caller
//! naming it. Arithmetic promotes as NumPy does for the floats: float32
//! with float32 stays float32, anything else becomes float64.

use blockwork_array::{Array, DType, GroupReduction, ReduceOpts, Reduction};
use ndarray::{ArrayD, SliceInfoElem};

use crate::error::Result;

/// The chunked array behind a variable.
#[derive(Clone, Debug)]
pub enum Data {
    /// float64.
    F64(Array<f64>),
    /// float32.
    F32(Array<f32>),
    /// int64.
    I64(Array<i64>),
    /// int32 (NetCDF's short and byte variables widen to it).
    I32(Array<i32>),
    /// uint8.
    U8(Array<u8>),
    /// bool.
    Bool(Array<bool>),
}

/// Runs `$body` with `$a` bound to the typed array, wrapping an array
/// result back into the same variant.
macro_rules! each {
    ($d:expr, $a:ident => $body:expr) => {
        match $d {
            Data::F64($a) => $body,
            Data::F32($a) => $body,
            Data::I64($a) => $body,
            Data::I32($a) => $body,
            Data::U8($a) => $body,
            Data::Bool($a) => $body,
        }
    };
}

macro_rules! map_same {
    ($d:expr, $a:ident => $body:expr) => {
        match $d {
            Data::F64($a) => Data::F64($body),
            Data::F32($a) => Data::F32($body),
            Data::I64($a) => Data::I64($body),
            Data::I32($a) => Data::I32($body),
            Data::U8($a) => Data::U8($body),
            Data::Bool($a) => Data::Bool($body),
        }
    };
}

impl Data {
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        each!(self, a => a.dtype())
    }

    /// Block lengths along each axis.
    pub fn chunks(&self) -> &[Vec<usize>] {
        each!(self, a => a.chunks().axes())
    }

    /// Number of tasks in the graph that makes it.
    pub fn ntasks(&self) -> usize {
        each!(self, a => a.ntasks())
    }

    pub(crate) fn slice(&self, info: &[SliceInfoElem]) -> Result<Data> {
        Ok(map_same!(self, a => a.slice(info)?))
    }

    pub(crate) fn take(&self, indices: &[usize], axis: usize) -> Result<Data> {
        let idx: Vec<isize> = indices.iter().map(|&i| i as isize).collect();
        Ok(map_same!(self, a => a.take(&idx, axis as isize)?))
    }

    pub(crate) fn permute(&self, axes: &[usize]) -> Result<Data> {
        Ok(map_same!(self, a => a.permute_axes(axes)?))
    }

    pub(crate) fn expand_dims(&self, axis: usize) -> Result<Data> {
        Ok(map_same!(self, a => a.expand_dims(axis as isize)?))
    }

    /// The same data cut into other blocks.
    pub fn rechunk(&self, chunks: Vec<Vec<usize>>) -> Result<Data> {
        Ok(map_same!(self, a => a.rechunk(chunks.clone())?))
    }

    /// Its blocks computed and held (see `Array::persist`): in memory on
    /// threads, on the workers of a cluster.
    pub fn persist(&self) -> Result<Data> {
        Ok(map_same!(self, a => a.persist()?))
    }

    /// As float64 (a copy per block unless it is float64 already).
    pub fn to_f64(&self) -> Array<f64> {
        match self {
            Data::F64(a) => a.clone(),
            other => each!(other, a => a.astype::<f64>()),
        }
    }

    /// As float32.
    pub fn to_f32(&self) -> Array<f32> {
        match self {
            Data::F32(a) => a.clone(),
            other => each!(other, a => a.astype::<f32>()),
        }
    }

    /// Computes it into a float64 ndarray.
    pub fn compute_f64(&self) -> Result<ArrayD<f64>> {
        Ok(self.to_f64().compute()?)
    }

    /// A reduction over some axes, in float64; float32 data gives a
    /// float32 result, as NumPy's reductions of float32 do.
    pub(crate) fn reduce(&self, kind: Reduction, axes: &[isize]) -> Result<Data> {
        let opts = ReduceOpts::axes(axes).ddof(0);
        let a = self.to_f64();
        let out = match kind {
            Reduction::Sum => a.sum_with(&opts)?,
            Reduction::NanSum => a.nansum_with(&opts)?,
            Reduction::Prod => a.prod_with(&opts)?,
            Reduction::Min => a.min_with(&opts)?,
            Reduction::Max => a.max_with(&opts)?,
            Reduction::NanMin => a.nanmin_with(&opts)?,
            Reduction::NanMax => a.nanmax_with(&opts)?,
            Reduction::Mean => a.mean_with(&opts)?,
            Reduction::NanMean => a.nanmean_with(&opts)?,
            Reduction::Var => a.var_with(&opts)?,
            Reduction::NanVar => a.nanvar_with(&opts)?,
            Reduction::Std => a.std_with(&opts)?,
            Reduction::NanStd => a.nanstd_with(&opts)?,
            other => {
                return Err(crate::LabeledError::Dim(format!("{other:?} is not a reduction of labeled arrays")));
            }
        };
        Ok(if matches!(self, Data::F32(_)) { Data::F32(out.astype::<f32>()) } else { Data::F64(out) })
    }

    /// A grouped reduction along one axis (see
    /// [`Array::groupby_reduce`]); float32 data gives float32 results, as
    /// xarray's do, though they accumulate in float64.
    pub(crate) fn groupby_reduce(
        &self,
        axis: usize,
        labels: &[i64],
        ngroups: usize,
        kind: GroupReduction,
    ) -> Result<Data> {
        let opts = ReduceOpts::default().ddof(0);
        let out = match self {
            Data::F64(a) => a.groupby_reduce(axis as isize, labels, ngroups, kind, &opts)?,
            Data::F32(a) => a.groupby_reduce(axis as isize, labels, ngroups, kind, &opts)?,
            other => other.to_f64().groupby_reduce(axis as isize, labels, ngroups, kind, &opts)?,
        };
        Ok(match (self, kind) {
            (_, GroupReduction::Count) => Data::I64(out.astype::<i64>()),
            (Data::F32(_), _) => Data::F32(out.astype::<f32>()),
            _ => Data::F64(out),
        })
    }

    /// Concatenates along an axis; every part must have the same type.
    pub(crate) fn concatenate(parts: &[Data], axis: usize) -> Result<Data> {
        macro_rules! cat {
            ($v:ident) => {{
                let arrays: Vec<_> =
                    parts.iter().filter_map(|p| if let Data::$v(a) = p { Some(a) } else { None }).collect();
                if arrays.len() != parts.len() {
                    return Err(crate::LabeledError::Coords("cannot concatenate variables of different types".into()));
                }
                Data::$v(blockwork_array::concatenate(&arrays, axis as isize)?)
            }};
        }
        Ok(match parts.first() {
            Some(Data::F64(_)) => cat!(F64),
            Some(Data::F32(_)) => cat!(F32),
            Some(Data::I64(_)) => cat!(I64),
            Some(Data::I32(_)) => cat!(I32),
            Some(Data::U8(_)) => cat!(U8),
            Some(Data::Bool(_)) => cat!(Bool),
            None => return Err(crate::LabeledError::Coords("nothing to concatenate".into())),
        })
    }
}

/// Arithmetic between two variables' data, after alignment and
/// broadcasting: float32 with float32 stays float32, else float64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl Data {
    pub(crate) fn arith(&self, op: ArithOp, other: &Data) -> Result<Data> {
        fn go<T: blockwork_array::Numeric>(op: ArithOp, a: &Array<T>, b: &Array<T>) -> Result<Array<T>> {
            Ok(match op {
                ArithOp::Add => a.add(b)?,
                ArithOp::Sub => a.sub(b)?,
                ArithOp::Mul => a.mul(b)?,
                ArithOp::Div => a.div(b)?,
            })
        }
        Ok(match (self, other) {
            (Data::F32(a), Data::F32(b)) => Data::F32(go(op, a, b)?),
            (a, b) => Data::F64(go(op, &a.to_f64(), &b.to_f64())?),
        })
    }

    pub(crate) fn arith_scalar(&self, op: ArithOp, x: f64) -> Result<Data> {
        fn go<T: blockwork_array::Float>(op: ArithOp, a: &Array<T>, x: f64) -> Array<T> {
            let x = T::from_f64(x);
            match op {
                ArithOp::Add => a + x,
                ArithOp::Sub => a - x,
                ArithOp::Mul => a * x,
                ArithOp::Div => a / x,
            }
        }
        Ok(match self {
            Data::F32(a) => Data::F32(go(op, a, x)),
            other => Data::F64(go(op, &other.to_f64(), x)),
        })
    }
}
