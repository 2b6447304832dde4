//! [`Dyn`]: an array whose element type is known at run time, and NumPy's
//! rules for mixing types.
//!
//! The engine's arrays are generic (`Array<f64>`, `Array<bool>`, …); an
//! array read from a file whose type only the file knows, or handed over
//! from Python, is one of them: a [`Dyn`]. Every operation here picks the
//! type of its result as NumPy 2 does (NEP 50: a Python scalar does not
//! widen an array), casts its operands to it and calls the typed
//! operation.

pub mod complex;

use blockwork_graph::Value;

use crate::{Array, ArrayError, BinOp, Complex, DType, Element, Float, MathFn, Numeric, ReduceOpts};

/// Why an operation on [`Dyn`] failed.
#[derive(Debug)]
pub enum OpError {
    /// The operation is not defined for these element types (Python's `TypeError`).
    Type(String),
    /// A Python integer does not fit the array's type (Python's `OverflowError`).
    Overflow(String),
    /// The engine refused it (shapes, axes, chunks, …).
    Engine(ArrayError),
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpError::Type(m) | OpError::Overflow(m) => f.write_str(m),
            OpError::Engine(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OpError::Engine(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ArrayError> for OpError {
    fn from(e: ArrayError) -> Self {
        OpError::Engine(e)
    }
}

/// Results of [`Dyn`]'s operations.
pub type Result<T, E = OpError> = std::result::Result<T, E>;

/// An array of one of the engine's element types.
#[derive(Clone, Debug)]
pub enum Dyn {
    /// float64
    F64(Array<f64>),
    /// float32
    F32(Array<f32>),
    /// int64
    I64(Array<i64>),
    /// int32
    I32(Array<i32>),
    /// uint8
    U8(Array<u8>),
    /// bool
    Bool(Array<bool>),
    /// complex128
    C128(Array<Complex<f64>>),
    /// complex64
    C64(Array<Complex<f32>>),
}

/// Runs `$e` with `$a` bound to the typed array of a [`Dyn`], whatever
/// its type.
#[macro_export]
macro_rules! dyn_each {
    ($d:expr, $a:ident => $e:expr) => {
        match $d {
            $crate::dynamic::Dyn::F64($a) => $e,
            $crate::dynamic::Dyn::F32($a) => $e,
            $crate::dynamic::Dyn::I64($a) => $e,
            $crate::dynamic::Dyn::I32($a) => $e,
            $crate::dynamic::Dyn::U8($a) => $e,
            $crate::dynamic::Dyn::Bool($a) => $e,
            $crate::dynamic::Dyn::C128($a) => $e,
            $crate::dynamic::Dyn::C64($a) => $e,
        }
    };
}
use dyn_each as each;

/// Runs `$e` with `T` the Rust type of the element type `$dt`, for every
/// type but bool (whose arrays NumPy stores as bytes, and whose arithmetic
/// differs); `$b` for bool. With a `complex => $c` arm, `$e` runs for the
/// real numeric types only and `$c` for the complex ones.
#[macro_export]
macro_rules! dyn_numeric_type {
    (@real $dt:expr, $t:ident => $e:expr, $rest:expr) => {
        match $dt {
            $crate::DType::F64 => {
                type $t = f64;
                $e
            }
            $crate::DType::F32 => {
                type $t = f32;
                $e
            }
            $crate::DType::I64 => {
                type $t = i64;
                $e
            }
            $crate::DType::I32 => {
                type $t = i32;
                $e
            }
            $crate::DType::U8 => {
                type $t = u8;
                $e
            }
            _ => $rest,
        }
    };
    ($dt:expr, $t:ident => $e:expr, bool => $b:expr) => {
        match $dt {
            $crate::DType::Bool => $b,
            $crate::DType::C128 => {
                type $t = $crate::Complex<f64>;
                $e
            }
            $crate::DType::C64 => {
                type $t = $crate::Complex<f32>;
                $e
            }
            dt => $crate::dyn_numeric_type!(@real dt, $t => $e, unreachable!("every real type has an arm")),
        }
    };
    ($dt:expr, $t:ident => $e:expr, bool => $b:expr, complex => $c:expr) => {
        match $dt {
            $crate::DType::Bool => $b,
            $crate::DType::C128 | $crate::DType::C64 => $c,
            dt => $crate::dyn_numeric_type!(@real dt, $t => $e, unreachable!("every real type has an arm")),
        }
    };
}
use dyn_numeric_type as numeric_type;

/// Typed arrays into [`Dyn`] and back.
pub trait Typed: Element {
    /// The typed array as a [`Dyn`].
    fn wrap(a: Array<Self>) -> Dyn;
    /// The array cast to this type (no new task when it already is).
    fn cast(d: &Dyn) -> Array<Self>;
}

macro_rules! typed {
    ($($t:ty => $v:ident),*) => {$(
        impl Typed for $t {
            fn wrap(a: Array<Self>) -> Dyn {
                Dyn::$v(a)
            }
            fn cast(d: &Dyn) -> Array<Self> {
                match d {
                    Dyn::$v(a) => a.clone(),
                    other => each!(other, a => a.astype::<$t>()),
                }
            }
        }
        impl From<Array<$t>> for Dyn {
            fn from(a: Array<$t>) -> Dyn {
                Dyn::$v(a)
            }
        }
    )*};
}
typed!(f64 => F64, f32 => F32, i64 => I64, i32 => I32, u8 => U8, bool => Bool, Complex<f64> => C128, Complex<f32> => C64);

/// The right-hand side of a binary operation.
#[derive(Clone)]
pub enum Rhs {
    /// Another array.
    Array(Dyn),
    /// A Python `bool`.
    Bool(bool),
    /// A Python `int`.
    Int(i64),
    /// A Python `float`.
    Float(f64),
    /// A Python `complex`.
    Complex(f64, f64),
}

fn is_float(dt: DType) -> bool {
    matches!(dt, DType::F64 | DType::F32)
}

/// NumPy's result type of two arrays' element types.
pub fn promote(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    if a.is_complex() || b.is_complex() {
        // complex64 holds float32, uint8 and bool exactly; anything wider
        // needs complex128.
        let (c, other) = if a.is_complex() { (a, b) } else { (b, a) };
        return if c == DType::C64 && matches!(other, C64 | F32 | U8 | Bool) { C64 } else { C128 };
    }
    match (a, b) {
        (Bool, x) | (x, Bool) => x,
        (F64, _) | (_, F64) => F64,
        (F32, U8) | (U8, F32) => F32,
        (F32, _) | (_, F32) => F64,
        (I64, _) | (_, I64) => I64,
        _ => I32, // I32 with U8
    }
}

impl Rhs {
    /// The element type of `lhs op self` (before true division's rule).
    fn result_type(&self, lhs: DType) -> DType {
        match self {
            Rhs::Array(d) => promote(lhs, d.dtype()),
            Rhs::Bool(_) => lhs,
            // A Python number never widens an array of a complex type (NEP 50).
            Rhs::Int(_) | Rhs::Float(_) if lhs.is_complex() => lhs,
            Rhs::Complex(..) => complex::complex_of(lhs),
            Rhs::Int(_) if lhs == DType::Bool => DType::I64,
            Rhs::Int(_) => lhs,
            Rhs::Float(_) if is_float(lhs) => lhs,
            Rhs::Float(_) => DType::F64,
        }
    }

    /// A scalar right-hand side as a `T` (`None` for an array).
    pub fn scalar<T: Element>(&self) -> Option<T> {
        match self {
            Rhs::Array(_) => None,
            Rhs::Bool(b) => Some(T::from_f64(f64::from(u8::from(*b)))),
            Rhs::Int(i) => Some(T::from_value(&Value::Int(*i)).unwrap_or_default()),
            Rhs::Float(x) => Some(T::from_f64(*x)),
            Rhs::Complex(re, im) => Some(T::from_pair(*re, *im)),
        }
    }
}

fn type_error(msg: String) -> OpError {
    OpError::Type(msg)
}

impl Dyn {
    /// The element type.
    pub fn dtype(&self) -> DType {
        each!(self, a => a.dtype())
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// Block lengths along each axis.
    pub fn chunks(&self) -> &[Vec<usize>] {
        each!(self, a => a.chunks().axes())
    }

    /// Number of tasks in the graph that makes it.
    pub fn ntasks(&self) -> usize {
        each!(self, a => a.ntasks())
    }

    /// The array as a `T` array (see [`Typed::cast`]): no new task when it
    /// is one already.
    pub fn cast<T: Typed>(&self) -> Array<T> {
        T::cast(self)
    }

    /// A basic slice (see [`Array::slice`]).
    pub fn slice(&self, info: &[ndarray::SliceInfoElem]) -> crate::Result<Dyn> {
        Ok(each!(self, a => a.slice(info)?.into()))
    }

    /// The elements at `indices` along `axis` (see [`Array::take`]).
    pub fn take(&self, indices: &[isize], axis: isize) -> crate::Result<Dyn> {
        Ok(each!(self, a => a.take(indices, axis)?.into()))
    }

    /// The axes in the order `axes` (see [`Array::permute_axes`]).
    pub fn permute_axes(&self, axes: &[usize]) -> crate::Result<Dyn> {
        Ok(each!(self, a => a.permute_axes(axes)?.into()))
    }

    /// A new axis of length 1 at `axis`.
    pub fn expand_dims(&self, axis: isize) -> crate::Result<Dyn> {
        Ok(each!(self, a => a.expand_dims(axis)?.into()))
    }

    /// The same data cut into other blocks (see [`Array::rechunk`]).
    pub fn rechunk(&self, chunks: impl Into<crate::ChunkSpec>) -> crate::Result<Dyn> {
        Ok(each!(self, a => a.rechunk(chunks)?.into()))
    }

    /// Its blocks computed and held (see [`Array::persist`]).
    pub fn persist(&self) -> crate::Result<Dyn> {
        Ok(each!(self, a => a.persist()?.into()))
    }

    /// Joins `parts` along `axis`; every part must have the same type (as
    /// a file's variables do), which an error otherwise names.
    pub fn concatenate(parts: &[Dyn], axis: isize) -> crate::Result<Dyn> {
        let first = parts.first().ok_or_else(|| ArrayError::Argument("nothing to concatenate".into()))?;
        if let Some(other) = parts.iter().find(|p| p.dtype() != first.dtype()) {
            return Err(ArrayError::Argument(format!(
                "cannot concatenate arrays of different types ({} and {})",
                first.dtype().name(),
                other.dtype().name()
            )));
        }
        each!(first, a => concatenate_as(a, parts, axis))
    }

    /// The array cast to `dt` (itself when it already has that type).
    pub fn astype(&self, dt: DType) -> Dyn {
        numeric_type!(dt, T => T::wrap(T::cast(self)), bool => Dyn::Bool(bool::cast(self)))
    }

    /// `self op rhs`, or `rhs op self` when `reflected`, with NumPy's types.
    pub fn binary(&self, op: BinOp, rhs: &Rhs, reflected: bool) -> Result<Dyn> {
        let mut dt = rhs.result_type(self.dtype());
        if let Rhs::Int(i) = rhs {
            if !int_fits(*i, dt) {
                // As NumPy 2: a comparison with an integer out of the
                // array's range is answered exactly; arithmetic refuses.
                if !is_comparison(op) {
                    return Err(OpError::Overflow(format!("Python integer {i} out of bounds for {}", dt.name())));
                }
                dt = DType::I64;
            }
        }
        if dt.is_complex() {
            return complex::binary(self, op, rhs, reflected, dt);
        }
        if op == BinOp::Div && !is_float(dt) {
            dt = DType::F64;
        }
        if matches!(op, BinOp::Arctan2) && !is_float(dt) {
            dt = DType::F64;
        }
        if matches!(op, BinOp::And | BinOp::Or | BinOp::Xor) {
            return match dt {
                DType::Bool => bool_logic(op, &bool::cast(self), rhs),
                DType::I64 => bitwise::<i64>(op, self, rhs),
                DType::I32 => bitwise::<i32>(op, self, rhs),
                DType::U8 => bitwise::<u8>(op, self, rhs),
                _ => Err(type_error(format!(
                    "bitwise `{op:?}` is defined for bool and integer arrays, not {}",
                    dt.name()
                ))),
            };
        }
        if dt == DType::Bool && !is_comparison(op) {
            return bool_arith(op, self, rhs, reflected);
        }
        numeric_type!(dt, T => binary_typed::<T>(op, &T::cast(self), rhs, reflected),
            bool => binary_bool_cmp(op, &bool::cast(self), rhs, reflected),
            complex => unreachable!("complex operations are done above"))
    }

    /// Floor division (`//`), NumPy's: floor of the quotient for floats,
    /// `(a - a % b) / b` for integers (0 where `b` is 0).
    pub fn floordiv(&self, rhs: &Rhs, reflected: bool) -> Result<Dyn> {
        let dt = rhs.result_type(self.dtype());
        if is_float(dt) {
            return self.binary(BinOp::Div, rhs, reflected)?.math(MathFn::Floor);
        }
        if dt.is_complex() {
            return Err(complex::unsupported("floor division `//`", dt));
        }
        let dt = if dt == DType::Bool { DType::I64 } else { dt };
        let a = self.astype(dt);
        let rem = a.binary(BinOp::Rem, rhs, reflected)?;
        // The dividend less its remainder divides exactly: truncating
        // integer division is then the floor.
        let (num, den) = if reflected {
            (Dyn::full_scalar(rhs, dt)?.binary(BinOp::Sub, &Rhs::Array(rem), false)?, Rhs::Array(a))
        } else {
            (a.binary(BinOp::Sub, &Rhs::Array(rem), false)?, rhs.clone())
        };
        numeric_type!(dt, T => {
            let n = T::cast(&num);
            Ok(T::wrap(match &den {
                Rhs::Array(d) => n.div(T::cast(&d.astype(dt)))?,
                s => n.div(s.scalar::<T>().unwrap_or_default())?,
            }))
        }, bool => unreachable!("floor division of bools is done in int64"))
    }

    /// A 0-d array holding a scalar right-hand side, in the type `dt`.
    fn full_scalar(rhs: &Rhs, dt: DType) -> Result<Dyn> {
        numeric_type!(dt, T => Ok(T::wrap(crate::full::<T>(&[], rhs.scalar::<T>().unwrap_or_default(), 1usize)?)),
            bool => Ok(Dyn::Bool(crate::full::<bool>(&[], rhs.scalar::<bool>().unwrap_or_default(), 1usize)?)))
    }

    /// `-self`.
    pub fn neg(&self) -> Result<Dyn> {
        numeric_type!(self.dtype(), T => Ok(T::wrap(T::cast(self).neg())),
            bool => Err(type_error("negating a bool array is not defined; use `~` (logical not)".into())),
            complex => complex::unary(self, "neg"))
    }

    /// `abs(self)`.
    pub fn abs(&self) -> Dyn {
        match self {
            Dyn::C128(z) => Dyn::F64(z.abs()),
            Dyn::C64(z) => Dyn::F32(z.abs()),
            _ => numeric_type!(self.dtype(), T => T::wrap(T::cast(self).abs()), bool => self.clone(),
                complex => unreachable!("complex arrays are matched above")),
        }
    }

    /// `~self`: logical not of a bool array, bitwise not of an integer one.
    pub fn invert(&self) -> Result<Dyn> {
        match self {
            Dyn::Bool(a) => Ok(Dyn::Bool(a.logical_not())),
            Dyn::I64(a) => Ok(Dyn::I64(a.invert())),
            Dyn::I32(a) => Ok(Dyn::I32(a.invert())),
            Dyn::U8(a) => Ok(Dyn::U8(a.invert())),
            other => {
                Err(type_error(format!("`~` is defined for bool and integer arrays, not {}", other.dtype().name())))
            }
        }
    }

    /// A math function: floats keep their type, integers and bools become
    /// float64 (floor, ceil and trunc leave them as they are, as NumPy 2).
    pub fn math(&self, f: MathFn) -> Result<Dyn> {
        if self.dtype().is_complex() {
            return Err(complex::unsupported(&format!("{f:?}"), self.dtype()));
        }
        if !is_float(self.dtype()) && matches!(f, MathFn::Floor | MathFn::Ceil | MathFn::Trunc) {
            return Ok(self.clone());
        }
        match self {
            Dyn::F32(a) => Ok(Dyn::F32(apply(a, f))),
            other => Ok(Dyn::F64(apply(&f64::cast(other), f))),
        }
    }

    /// Whether each element is NaN.
    pub fn isnan(&self) -> Dyn {
        each!(self, a => Dyn::Bool(a.isnan()))
    }

    /// Clips to `[lo, hi]` (either may be absent).
    pub fn clip(&self, lo: Option<f64>, hi: Option<f64>) -> Result<Dyn> {
        numeric_type!(self.dtype(), T => {
            let lo = lo.map(T::from_f64).unwrap_or(T::LOWEST);
            let hi = hi.map(T::from_f64).unwrap_or(T::HIGHEST);
            Ok(T::wrap(T::cast(self).clip(lo, hi)))
        }, bool => Err(type_error("clip of a bool array is not defined".into())),
            complex => Err(complex::unsupported("clip", self.dtype())))
    }

    /// A reduction by NumPy's name, with NumPy's result types.
    pub fn reduce(&self, name: &str, opts: &ReduceOpts) -> Result<Dyn> {
        let dt = self.dtype();
        if matches!(name, "min" | "max" | "nanmin" | "nanmax" | "argmin" | "argmax")
            && reduces_nothing(self.shape(), opts)
        {
            // As NumPy: a selection over no elements has no answer.
            return Err(OpError::Engine(ArrayError::Argument(match name {
                "argmin" | "argmax" => format!("attempt to get {name} of an empty sequence"),
                _ => format!(
                    "zero-size array to reduction operation {} which has no identity",
                    if name.ends_with("min") { "minimum" } else { "maximum" }
                ),
            })));
        }
        if dt.is_complex() && !matches!(name, "any" | "all") {
            return complex::reduce(self, name, opts);
        }
        let widened = || match dt {
            DType::Bool | DType::U8 | DType::I32 => self.astype(DType::I64),
            _ => self.clone(),
        };
        let numeric = || if dt == DType::Bool { self.astype(DType::I64) } else { self.clone() };
        let f32_back = |d: Dyn| if dt == DType::F32 { d.astype(DType::F32) } else { d };
        Ok(match name {
            "sum" | "prod" | "nansum" | "nanprod" => {
                let x = widened();
                // NaN counts as 1 in a product that skips it.
                let x = if name == "nanprod" && is_float(x.dtype()) {
                    Dyn::where_(&x.isnan(), &Rhs::Float(1.0), &Rhs::Array(x.clone()))?
                } else {
                    x
                };
                numeric_type!(x.dtype(), T => T::wrap(match name {
                    "sum" => T::cast(&x).sum_with(opts)?,
                    "nansum" => T::cast(&x).nansum_with(opts)?,
                    _ => T::cast(&x).prod_with(opts)?,
                }), bool => unreachable!("sums run on widened integers"),
                    complex => unreachable!("complex reductions are done above"))
            }
            "min" | "max" | "nanmin" | "nanmax" if dt == DType::Bool => {
                let b = bool::cast(self);
                Dyn::Bool(if name.ends_with("max") { b.any_with(opts)? } else { b.all_with(opts)? })
            }
            "min" | "max" | "nanmin" | "nanmax" => numeric_type!(dt, T => {
                let a = T::cast(self);
                T::wrap(match name {
                    "min" => a.min_with(opts)?,
                    "max" => a.max_with(opts)?,
                    "nanmin" => a.nanmin_with(opts)?,
                    _ => a.nanmax_with(opts)?,
                })
            }, bool => unreachable!("bool handled above"),
                complex => unreachable!("complex reductions are done above")),
            "mean" | "nanmean" | "var" | "std" | "nanvar" | "nanstd" => {
                let x = numeric();
                f32_back(Dyn::F64(numeric_type!(x.dtype(), T => {
                    let a = T::cast(&x);
                    match name {
                        "mean" => a.mean_with(opts)?,
                        "nanmean" => a.nanmean_with(opts)?,
                        "var" => a.var_with(opts)?,
                        "std" => a.std_with(opts)?,
                        "nanvar" => a.nanvar_with(opts)?,
                        _ => a.nanstd_with(opts)?,
                    }
                }, bool => unreachable!("bools are widened"),
                    complex => unreachable!("complex reductions are done above"))))
            }
            "argmin" | "argmax" => {
                let x = if dt == DType::Bool { self.astype(DType::U8) } else { self.clone() };
                Dyn::I64(numeric_type!(x.dtype(), T => {
                    let a = T::cast(&x);
                    if name == "argmin" { a.argmin_with(opts)? } else { a.argmax_with(opts)? }
                }, bool => unreachable!("bools are widened"),
                    complex => unreachable!("complex reductions are done above")))
            }
            "any" | "all" => {
                let b = self.truthy()?;
                Dyn::Bool(if name == "any" { b.any_with(opts)? } else { b.all_with(opts)? })
            }
            other => return Err(OpError::Engine(ArrayError::Argument(format!("unknown reduction {other:?}")))),
        })
    }

    /// A grouped reduction along `axis`, flox's map-reduce
    /// (`crates/array/src/ops/groupby.rs`): `labels[i]` is the group
    /// (`0..ngroups`) of index `i` along the axis, or negative to leave it
    /// out; the axis becomes `ngroups` long. Result types as NumPy's for
    /// the same reduction (float32 stays float32; counts are int64). Sums
    /// and extremes of integers are refused: partials are float64.
    pub fn groupby_reduce(
        &self,
        name: &str,
        axis: isize,
        labels: &[i64],
        ngroups: usize,
        opts: &ReduceOpts,
    ) -> Result<Dyn> {
        use crate::{GroupReduction as G, Reduction as R};
        let kind = match name {
            "count" => G::Count,
            "sum" => G::Of(R::Sum),
            "nansum" => G::Of(R::NanSum),
            "mean" => G::Of(R::Mean),
            "nanmean" => G::Of(R::NanMean),
            "var" => G::Of(R::Var),
            "nanvar" => G::Of(R::NanVar),
            "std" => G::Of(R::Std),
            "nanstd" => G::Of(R::NanStd),
            "min" => G::Of(R::Min),
            "max" => G::Of(R::Max),
            "nanmin" => G::Of(R::NanMin),
            "nanmax" => G::Of(R::NanMax),
            other => {
                return Err(OpError::Engine(ArrayError::Argument(format!("no grouped reduction {other:?}"))));
            }
        };
        let dt = self.dtype();
        if dt.is_complex() {
            return Err(complex::unsupported(&format!("a grouped {name}"), dt));
        }
        let floats = matches!(dt, DType::F32 | DType::F64);
        if !floats && !matches!(kind, G::Count | G::Of(R::Mean | R::NanMean | R::Var | R::NanVar | R::Std | R::NanStd))
        {
            // Partials accumulate in float64: integer sums and extremes
            // would not stay exact past 2^53.
            return Err(OpError::Engine(ArrayError::Argument(format!(
                "a grouped {name} of {} is not exact in the engine (it accumulates in float64)",
                dt.name()
            ))));
        }
        let x = if dt == DType::Bool { self.astype(DType::I64) } else { self.clone() };
        let r = Dyn::F64(numeric_type!(x.dtype(), T => T::cast(&x).groupby_reduce(axis, labels, ngroups, kind, opts)?,
            bool => unreachable!("bools are widened"), complex => unreachable!("refused above")));
        Ok(match (name, dt) {
            ("count", _) => r.astype(DType::I64),
            (_, DType::F32) => r.astype(DType::F32),
            _ => r,
        })
    }

    /// Nonzero elements as true.
    fn truthy(&self) -> Result<Array<bool>> {
        Ok(match self {
            Dyn::Bool(b) => b.clone(),
            other => each!(other, a => a.not_equal(a_zero(a))?),
        })
    }

    /// Cumulative sum or product along an axis (integers widen to int64).
    pub fn cumulative(&self, name: &str, axis: isize) -> Result<Dyn> {
        let x = match self.dtype() {
            DType::Bool | DType::U8 | DType::I32 => self.astype(DType::I64),
            _ => self.clone(),
        };
        numeric_type!(x.dtype(), T => {
            let a = T::cast(&x);
            Ok(T::wrap(if name == "cumsum" { a.cumsum(axis)? } else { a.cumprod(axis)? }))
        }, bool => unreachable!("bools are widened"), complex => Err(complex::unsupported(name, x.dtype())))
    }

    /// The matrix product (`@`, `dot`), in the promoted type.
    pub fn matmul(&self, other: &Dyn) -> Result<Dyn> {
        let dt = match promote(self.dtype(), other.dtype()) {
            DType::Bool => DType::I64,
            dt => dt,
        };
        numeric_type!(dt, T => Ok(T::wrap(T::cast(self).matmul(&T::cast(other))?)),
            bool => unreachable!("bools are widened"), complex => Err(complex::unsupported("the matrix product", dt)))
    }

    /// A matrix decomposition's factors, in float32 for a float32 array
    /// and in float64 for every other type (as NumPy's `linalg`).
    pub fn decompose(&self, d: Decomposition) -> Result<Vec<Dyn>> {
        match self {
            Dyn::F32(a) => decompose(a, d),
            other => decompose(&f64::cast(other), d),
        }
    }

    /// `X` with `T X = B`, `T` this triangular matrix: in float32 when
    /// both are float32, float64 otherwise.
    pub fn solve_triangular(&self, b: &Dyn, lower: bool) -> Result<Dyn> {
        Ok(match (self, b) {
            (Dyn::F32(t), Dyn::F32(b)) => Dyn::F32(t.solve_triangular(b, lower)?),
            (t, b) => Dyn::F64(f64::cast(t).solve_triangular(&f64::cast(b), lower)?),
        })
    }

    /// NumPy's `einsum` of one or two operands (`"ij,jk->ik"`), in their
    /// promoted type (booleans as int64).
    pub fn einsum(spec: &str, operands: &[&Dyn]) -> Result<Dyn> {
        let dt = match operands.iter().map(|d| d.dtype()).reduce(promote).unwrap_or(DType::F64) {
            DType::Bool => DType::I64,
            dt => dt,
        };
        numeric_type!(dt, T => {
            let cast: Vec<Array<T>> = operands.iter().map(|d| T::cast(d)).collect();
            let refs: Vec<&Array<T>> = cast.iter().collect();
            Ok(T::wrap(crate::einsum(spec, &refs)?))
        }, bool => unreachable!("bools are widened"), complex => Err(complex::unsupported("einsum", dt)))
    }

    /// `where(cond, self, other)` in the promoted type.
    pub fn where_(cond: &Dyn, a: &Rhs, b: &Rhs) -> Result<Dyn> {
        let base = match (a, b) {
            (Rhs::Array(x), _) => b.result_type(x.dtype()),
            (_, Rhs::Array(y)) => a.result_type(y.dtype()),
            (Rhs::Float(_), _) | (_, Rhs::Float(_)) => DType::F64,
            (Rhs::Int(_), _) | (_, Rhs::Int(_)) => DType::I64,
            _ => DType::Bool,
        };
        let c = cond.truthy()?;
        numeric_type!(base, T => Ok(T::wrap(where_typed::<T>(&c, a, b)?)),
            bool => Ok(Dyn::Bool(where_typed::<bool>(&c, a, b)?)))
    }
}

/// Whether a reduction over `opts.axes` of `shape` meets an axis of length
/// 0 (any axis, when it reduces them all).
fn reduces_nothing(shape: &[usize], opts: &ReduceOpts) -> bool {
    match &opts.axes {
        None => shape.contains(&0),
        Some(axes) => axes.iter().any(|&a| {
            let k = if a < 0 { a + shape.len() as isize } else { a };
            usize::try_from(k).ok().and_then(|k| shape.get(k)) == Some(&0)
        }),
    }
}

/// `parts`, all of `T` like `_like`, joined along `axis`.
fn concatenate_as<T: Typed>(_like: &Array<T>, parts: &[Dyn], axis: isize) -> crate::Result<Dyn> {
    let typed: Vec<Array<T>> = parts.iter().map(T::cast).collect();
    let refs: Vec<&Array<T>> = typed.iter().collect();
    Ok(T::wrap(crate::concatenate(&refs, axis)?))
}

/// The zero of an array's element type.
fn a_zero<T: Element>(_: &Array<T>) -> T {
    T::from_f64(0.0)
}

/// `where` with each side an array or a scalar of `T`.
fn where_typed<T: Typed>(c: &Array<bool>, a: &Rhs, b: &Rhs) -> Result<Array<T>> {
    let arr = |r: &Rhs| match r {
        Rhs::Array(d) => Some(T::cast(d)),
        _ => None,
    };
    let (sa, sb) = (a.scalar::<T>().unwrap_or_default(), b.scalar::<T>().unwrap_or_default());
    Ok(match (arr(a), arr(b)) {
        (Some(x), Some(y)) => crate::where_(c, &x, &y)?,
        (Some(x), None) => crate::where_(c, &x, sb)?,
        (None, Some(y)) => crate::where_(c, sa, &y)?,
        (None, None) => crate::where_(c, sa, sb)?,
    })
}

/// Whether an integer is a value of the type (floats hold every one).
fn int_fits(i: i64, dt: DType) -> bool {
    match dt {
        DType::I32 => i32::try_from(i).is_ok(),
        DType::U8 => u8::try_from(i).is_ok(),
        _ => true,
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(op, BinOp::Equal | BinOp::NotEqual | BinOp::Less | BinOp::LessEqual | BinOp::Greater | BinOp::GreaterEqual)
}

/// The comparison that gives the same answer with its operands swapped.
fn flipped(op: BinOp) -> BinOp {
    match op {
        BinOp::Less => BinOp::Greater,
        BinOp::LessEqual => BinOp::GreaterEqual,
        BinOp::Greater => BinOp::Less,
        BinOp::GreaterEqual => BinOp::LessEqual,
        other => other,
    }
}

fn apply<T: Float>(a: &Array<T>, f: MathFn) -> Array<T> {
    macro_rules! by_name {
        ($($v:ident => $m:ident),*) => {
            match f { $(MathFn::$v => a.$m(),)* }
        };
    }
    by_name!(Exp => exp, Expm1 => expm1, Log => log, Log1p => log1p, Log2 => log2, Log10 => log10,
        Sqrt => sqrt, Cbrt => cbrt, Sin => sin, Cos => cos, Tan => tan, Arcsin => arcsin, Arccos => arccos,
        Arctan => arctan, Sinh => sinh, Cosh => cosh, Tanh => tanh, Floor => floor, Ceil => ceil,
        Round => round, Trunc => trunc, Deg2rad => deg2rad, Rad2deg => rad2deg)
}

/// `op` on arrays of `T` (the operands already promoted to `T`).
fn binary_typed<T: Typed + Numeric>(op: BinOp, a: &Array<T>, rhs: &Rhs, reflected: bool) -> Result<Dyn> {
    let b = match rhs {
        Rhs::Array(d) => Some(T::cast(d)),
        _ => None,
    };
    let s = rhs.scalar::<T>().unwrap_or_default();
    macro_rules! call {
        ($m:ident) => {
            match &b {
                Some(b) => a.$m(b),
                None => a.$m(s),
            }
        };
    }
    let op = if reflected { flipped(op) } else { op };
    if reflected && matches!(op, BinOp::Sub | BinOp::Div | BinOp::Pow | BinOp::Rem | BinOp::Arctan2) {
        if let Some(b) = &b {
            // An array on the left (a Python list, say): `b op a`.
            return binary_typed::<T>(op, b, &Rhs::Array(T::wrap(a.clone())), false);
        }
        // A scalar on the left: `s op a`.
        return Ok(match op {
            BinOp::Sub => T::wrap(a.rsub(s)?),
            BinOp::Div => T::wrap(a.rdiv(s)?),
            BinOp::Pow => T::wrap(a.rpow(s)?),
            _ => {
                let left = crate::full::<T>(&[], s, 1usize)?;
                if op == BinOp::Rem {
                    T::wrap(left.rem(a)?)
                } else {
                    arctan2_of(&left, a)?
                }
            }
        });
    }
    Ok(match op {
        BinOp::Add => T::wrap(call!(add)?),
        BinOp::Sub => T::wrap(call!(sub)?),
        BinOp::Mul => T::wrap(call!(mul)?),
        BinOp::Div => T::wrap(call!(div)?),
        BinOp::Rem => T::wrap(call!(rem)?),
        BinOp::Pow => T::wrap(call!(pow)?),
        BinOp::Maximum => T::wrap(call!(maximum)?),
        BinOp::Minimum => T::wrap(call!(minimum)?),
        BinOp::Equal => Dyn::Bool(call!(equal)?),
        BinOp::NotEqual => Dyn::Bool(call!(not_equal)?),
        BinOp::Less => Dyn::Bool(call!(less)?),
        BinOp::LessEqual => Dyn::Bool(call!(less_equal)?),
        BinOp::Greater => Dyn::Bool(call!(greater)?),
        BinOp::GreaterEqual => Dyn::Bool(call!(greater_equal)?),
        BinOp::Arctan2 => {
            let b = match b {
                Some(b) => b,
                None => crate::full::<T>(&[], s, 1usize)?,
            };
            arctan2_of(a, &b)?
        }
        BinOp::And | BinOp::Or | BinOp::Xor => unreachable!("logic is done on bools"),
    })
}

/// `arctan2(y, x)`; `binary` has already promoted both to a float type.
fn arctan2_of<T: Typed + Numeric>(y: &Array<T>, x: &Array<T>) -> Result<Dyn> {
    match (T::wrap(y.clone()), T::wrap(x.clone())) {
        (Dyn::F32(y), Dyn::F32(x)) => Ok(Dyn::F32(y.arctan2(&x)?)),
        (y, x) => Ok(Dyn::F64(f64::cast(&y).arctan2(f64::cast(&x))?)),
    }
}

/// The integer types with bitwise operations.
trait Bits: Typed {
    fn and(a: &Array<Self>, b: Operand<Self>) -> crate::Result<Array<Self>>;
    fn or(a: &Array<Self>, b: Operand<Self>) -> crate::Result<Array<Self>>;
    fn xor(a: &Array<Self>, b: Operand<Self>) -> crate::Result<Array<Self>>;
}

/// An array or a scalar operand of `T`.
enum Operand<T> {
    Array(Array<T>),
    Scalar(T),
}

macro_rules! bits {
    ($($t:ty),*) => {$(
        impl Bits for $t {
            fn and(a: &Array<Self>, b: Operand<Self>) -> crate::Result<Array<Self>> {
                match b { Operand::Array(b) => a.bitwise_and(&b), Operand::Scalar(s) => a.bitwise_and(s) }
            }
            fn or(a: &Array<Self>, b: Operand<Self>) -> crate::Result<Array<Self>> {
                match b { Operand::Array(b) => a.bitwise_or(&b), Operand::Scalar(s) => a.bitwise_or(s) }
            }
            fn xor(a: &Array<Self>, b: Operand<Self>) -> crate::Result<Array<Self>> {
                match b { Operand::Array(b) => a.bitwise_xor(&b), Operand::Scalar(s) => a.bitwise_xor(s) }
            }
        }
    )*};
}
bits!(i64, i32, u8);

/// `&`, `|`, `^` of integers (commutative: the side does not matter).
fn bitwise<T: Bits>(op: BinOp, a: &Dyn, rhs: &Rhs) -> Result<Dyn> {
    let x = T::cast(a);
    let y = match rhs {
        Rhs::Array(d) => Operand::Array(T::cast(d)),
        s => Operand::Scalar(s.scalar::<T>().unwrap_or_default()),
    };
    Ok(T::wrap(match op {
        BinOp::And => T::and(&x, y)?,
        BinOp::Or => T::or(&x, y)?,
        _ => T::xor(&x, y)?,
    }))
}

/// Comparisons of bools.
fn binary_bool_cmp(op: BinOp, a: &Array<bool>, rhs: &Rhs, reflected: bool) -> Result<Dyn> {
    let b = match rhs {
        Rhs::Array(d) => bool::cast(d),
        s => crate::full::<bool>(&[], s.scalar::<bool>().unwrap_or_default(), 1usize)?,
    };
    let op = if reflected { flipped(op) } else { op };
    Ok(Dyn::Bool(match op {
        BinOp::Equal => a.equal(&b)?,
        BinOp::NotEqual => a.not_equal(&b)?,
        BinOp::Less => a.less(&b)?,
        BinOp::LessEqual => a.less_equal(&b)?,
        BinOp::Greater => a.greater(&b)?,
        _ => a.greater_equal(&b)?,
    }))
}

/// `&`, `|`, `^` of bools.
fn bool_logic(op: BinOp, a: &Array<bool>, rhs: &Rhs) -> Result<Dyn> {
    let b = match rhs {
        Rhs::Array(d) => bool::cast(d),
        s => crate::full::<bool>(&[], s.scalar::<bool>().unwrap_or_default(), 1usize)?,
    };
    Ok(Dyn::Bool(match op {
        BinOp::And => a.logical_and(&b)?,
        BinOp::Or => a.logical_or(&b)?,
        _ => a.logical_xor(&b)?,
    }))
}

/// Arithmetic of two bools, as NumPy: `+` is or, `*` is and, `-` an
/// error, the rest in int64.
fn bool_arith(op: BinOp, a: &Dyn, rhs: &Rhs, reflected: bool) -> Result<Dyn> {
    match op {
        BinOp::Add | BinOp::Maximum => bool_logic(BinOp::Or, &bool::cast(a), rhs),
        BinOp::Mul | BinOp::Minimum => bool_logic(BinOp::And, &bool::cast(a), rhs),
        BinOp::Sub => Err(type_error("subtracting bool arrays is not defined; use `^` (logical xor)".into())),
        _ => {
            let rhs = match rhs {
                Rhs::Array(d) => Rhs::Array(d.astype(DType::I64)),
                s => s.clone(),
            };
            binary_typed::<i64>(op, &i64::cast(a), &rhs, reflected)
        }
    }
}

/// Which matrix decomposition [`Dyn::decompose`] makes.
#[derive(Clone, Copy, Debug)]
pub enum Decomposition {
    /// `Q, R` by TSQR (one block along the columns).
    Tsqr,
    /// `Q, R` for any chunking that allows it.
    Qr,
    /// `U, S, Vᵀ`, exact.
    Svd,
    /// `L` with `A = L Lᵀ`.
    Cholesky,
    /// `P, L, U` with `A = P L U`.
    Lu,
    /// The leading `k` singular triplets by a randomized SVD.
    SvdCompressed {
        /// Singular triplets wanted.
        k: usize,
        /// Power iterations.
        power_iters: usize,
        /// Extra random vectors sampled.
        oversamples: usize,
        /// Seed of the random vectors.
        seed: u64,
    },
}

fn decompose<T: crate::ops::decomp::Real + Typed>(a: &Array<T>, d: Decomposition) -> Result<Vec<Dyn>> {
    Ok(match d {
        Decomposition::Tsqr => {
            let (q, r) = a.tsqr()?;
            vec![T::wrap(q), T::wrap(r)]
        }
        Decomposition::Qr => {
            let (q, r) = a.qr()?;
            vec![T::wrap(q), T::wrap(r)]
        }
        Decomposition::Svd => {
            let (u, s, vt) = a.svd()?;
            vec![T::wrap(u), T::wrap(s), T::wrap(vt)]
        }
        Decomposition::Cholesky => vec![T::wrap(a.cholesky()?)],
        Decomposition::Lu => {
            let (p, l, u) = a.lu()?;
            vec![T::wrap(p), T::wrap(l), T::wrap(u)]
        }
        Decomposition::SvdCompressed { k, power_iters, oversamples, seed } => {
            let (u, s, vt) = a.svd_compressed(k, power_iters, oversamples, seed)?;
            vec![T::wrap(u), T::wrap(s), T::wrap(vt)]
        }
    })
}
