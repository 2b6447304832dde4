//! [`Data`]: the chunked array behind a variable, of any element type
//! (the engine's run-time-typed [`Dyn`]), so a variable read from a file
//! can be float32 or int16 without the caller naming it; and what the
//! labeled arrays do with it beyond `Dyn`'s own methods. Their arithmetic
//! and reductions compute in floats, as a variable's values are
//! measurements: float32 with float32 stays float32, anything else
//! becomes float64.

use blockwork_array::dynamic::Dyn;
use blockwork_array::{Array, GroupReduction, ReduceOpts, Reduction};

use crate::error::Result;

/// The chunked array behind a variable.
pub type Data = Dyn;

/// The labeled arrays' operations on [`Data`].
pub(crate) trait DataOps {
    /// A reduction over some axes, in float64; float32 data gives a
    /// float32 result, as NumPy's reductions of float32 do.
    fn reduce_floats(&self, kind: Reduction, axes: &[isize]) -> Result<Data>;
    /// A grouped reduction along one axis (see [`Array::groupby_reduce`]);
    /// float32 data gives float32 results, as xarray's do, though they
    /// accumulate in float64.
    fn grouped(&self, axis: usize, labels: &[i64], ngroups: usize, kind: GroupReduction) -> Result<Data>;
    /// `self op other`, after alignment and broadcasting.
    fn arith(&self, op: ArithOp, other: &Data) -> Result<Data>;
    /// `self op x`.
    fn arith_scalar(&self, op: ArithOp, x: f64) -> Result<Data>;
}

impl DataOps for Data {
    fn reduce_floats(&self, kind: Reduction, axes: &[isize]) -> Result<Data> {
        let opts = ReduceOpts::axes(axes).ddof(0);
        let a = self.cast::<f64>();
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

    fn grouped(&self, axis: usize, labels: &[i64], ngroups: usize, kind: GroupReduction) -> Result<Data> {
        let opts = ReduceOpts::default().ddof(0);
        let out = match self {
            Data::F32(a) => a.groupby_reduce(axis as isize, labels, ngroups, kind, &opts)?,
            other => other.cast::<f64>().groupby_reduce(axis as isize, labels, ngroups, kind, &opts)?,
        };
        Ok(match (self, kind) {
            (_, GroupReduction::Count) => Data::I64(out.astype::<i64>()),
            (Data::F32(_), _) => Data::F32(out.astype::<f32>()),
            _ => Data::F64(out),
        })
    }

    fn arith(&self, op: ArithOp, other: &Data) -> Result<Data> {
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
            (a, b) => Data::F64(go(op, &a.cast(), &b.cast())?),
        })
    }

    fn arith_scalar(&self, op: ArithOp, x: f64) -> Result<Data> {
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
            other => Data::F64(go(op, &other.cast::<f64>(), x)),
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
