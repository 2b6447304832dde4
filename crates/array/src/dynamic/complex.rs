//! Complex [`Dyn`] arrays: NumPy's types and rules for
//! complex128 and complex64, over the engine's complex arithmetic
//! (`crate::Complex`), and the Fourier transforms.

use super::{Dyn, OpError, Result, Rhs, Typed};
use crate::fft::{self, FftInput, Norm};
use crate::{Array, BinOp, Complex, DType, Element, Part, ReduceOpts};

/// The error for an operation complex arrays do not have.
pub fn unsupported(what: &str, dt: DType) -> OpError {
    OpError::Type(format!("{what} is not defined for {} arrays in blockwork", dt.name()))
}

/// The type of an array of `dt` with a Python `complex` (NEP 50: float32
/// becomes complex64, complex types stay, everything else complex128).
pub fn complex_of(dt: DType) -> DType {
    match dt {
        DType::C64 | DType::F32 => DType::C64,
        _ => DType::C128,
    }
}

/// `a op rhs` (or `rhs op a` when `reflected`) for a complex result type `dt`.
pub fn binary(a: &Dyn, op: BinOp, rhs: &Rhs, reflected: bool, dt: DType) -> Result<Dyn> {
    if dt == DType::C64 {
        binary_typed::<f32>(a, op, rhs, reflected)
    } else {
        binary_typed::<f64>(a, op, rhs, reflected)
    }
}

fn binary_typed<F: Part>(a: &Dyn, op: BinOp, rhs: &Rhs, reflected: bool) -> Result<Dyn>
where
    Complex<F>: Typed,
{
    let x = Complex::<F>::cast(a);
    let y = match rhs {
        Rhs::Array(d) => Complex::<F>::cast(d),
        s => crate::full::<Complex<F>>(&[], s.scalar::<Complex<F>>().unwrap_or_default(), 1usize)?,
    };
    let (l, r) = if reflected { (&y, &x) } else { (&x, &y) };
    use BinOp::*;
    Ok(match op {
        Add => Complex::wrap(l.add(r)?),
        Sub => Complex::wrap(l.sub(r)?),
        Mul => Complex::wrap(l.mul(r)?),
        Div => Complex::wrap(l.div(r)?),
        Pow => Complex::wrap(l.pow(r)?),
        Equal => Dyn::Bool(l.equal(r)?),
        NotEqual => Dyn::Bool(l.not_equal(r)?),
        Less => Dyn::Bool(l.less(r)?),
        LessEqual => Dyn::Bool(l.less_equal(r)?),
        Greater => Dyn::Bool(l.greater(r)?),
        GreaterEqual => Dyn::Bool(l.greater_equal(r)?),
        other => return Err(unsupported(&format!("`{other:?}`"), F::COMPLEX)),
    })
}

/// A unary operation of complex numbers by name: `neg`, `abs`, `real`,
/// `imag`, `conj`, `angle`. Real arrays answer `real`, `imag`, `conj` and
/// `angle` as NumPy does.
pub fn unary(a: &Dyn, op: &str) -> Result<Dyn> {
    match a {
        Dyn::C128(z) => unary_typed(z, op),
        Dyn::C64(z) => unary_typed(z, op),
        real => match op {
            "real" | "conj" => Ok(real.clone()),
            "imag" => crate::dyn_each!(real, a => zeros_like(a)),
            "angle" => {
                let x = if matches!(real.dtype(), DType::F32) { real.clone() } else { real.astype(DType::F64) };
                // arctan2(0, x): 0 for x ≥ 0, π for x < 0, as NumPy's angle of reals.
                let zero = unary(&x, "imag")?;
                zero.binary(BinOp::Arctan2, &Rhs::Array(x), false)
            }
            other => Err(OpError::Type(format!("unknown operation {other:?}"))),
        },
    }
}

/// Zeros of `a`'s shape, chunks and type.
fn zeros_like<T: Typed>(a: &Array<T>) -> Result<Dyn> {
    let chunks = crate::ChunkSpec::Explicit(a.chunks().axes().to_vec());
    Ok(T::wrap(crate::full(a.shape(), T::default(), chunks)?))
}

fn unary_typed<F: Part + Typed>(z: &Array<Complex<F>>, op: &str) -> Result<Dyn>
where
    Complex<F>: Typed,
{
    Ok(match op {
        "neg" => Complex::wrap(z.neg()),
        "conj" => Complex::wrap(z.conj()),
        "abs" => F::wrap(z.abs()),
        "real" => F::wrap(z.real()),
        "imag" => F::wrap(z.imag()),
        "angle" => F::wrap(z.angle()),
        other => return Err(unsupported(&format!("`{other}`"), F::COMPLEX)),
    })
}

/// Reductions of complex arrays: `sum`, `mean`, `var`, `std` (the last two
/// real: the variances of the parts added, as NumPy's `var` of complex
/// numbers is), and `any`/`all` elsewhere.
pub fn reduce(a: &Dyn, name: &str, opts: &ReduceOpts) -> Result<Dyn> {
    match a {
        Dyn::C128(z) => reduce_typed(z, name, opts),
        Dyn::C64(z) => reduce_typed(z, name, opts),
        other => Err(unsupported(name, other.dtype())),
    }
}

fn reduce_typed<F: Part>(z: &Array<Complex<F>>, name: &str, opts: &ReduceOpts) -> Result<Dyn>
where
    Complex<F>: Typed,
{
    let back = |d: Dyn| if <F as Element>::DTYPE == DType::F32 { d.astype(DType::C64) } else { d };
    let real_back = |d: Dyn| if <F as Element>::DTYPE == DType::F32 { d.astype(DType::F32) } else { d };
    Ok(match name {
        "sum" => Complex::wrap(z.sum_with(opts)?),
        "mean" => back(Dyn::C128(z.mean_with(opts)?)),
        "var" | "std" => {
            let v = z.real().var_with(opts)?.add(&z.imag().var_with(opts)?)?;
            real_back(Dyn::F64(if name == "std" { v.sqrt() } else { v }))
        }
        other => return Err(unsupported(other, F::COMPLEX)),
    })
}

/// A `numpy.fft` transform by name, with `n`/`axis` for the 1-d ones and
/// `s`/`axes` for the n-d ones.
pub struct FftCall<'a> {
    /// fft, ifft, rfft, irfft, hfft, ihfft, fftn, ifftn, rfftn or irfftn.
    pub name: &'a str,
    /// The 1-d transform's length.
    pub n: Option<usize>,
    /// The 1-d transform's axis.
    pub axis: isize,
    /// The n-d transform's lengths.
    pub s: Option<&'a [usize]>,
    /// The n-d transform's axes.
    pub axes: Option<&'a [isize]>,
    /// The scaling.
    pub norm: Norm,
}

/// The transform `call` of `a`.
pub fn fft_by_name(a: &Dyn, call: &FftCall<'_>) -> Result<Dyn> {
    crate::dyn_each!(a, x => fft_typed(x, call))
}

fn fft_typed<T: FftInput>(x: &Array<T>, call: &FftCall<'_>) -> Result<Dyn>
where
    Complex<T::Part>: Typed,
    T::Part: Typed,
{
    let FftCall { name, n, axis, s, axes, norm } = *call;
    let c = |r: crate::Result<Array<Complex<T::Part>>>| r.map(Complex::wrap);
    let f = |r: crate::Result<Array<T::Part>>| r.map(<T::Part as Typed>::wrap);
    Ok(match name {
        "fft" => c(fft::fft(x, n, axis, norm)),
        "ifft" => c(fft::ifft(x, n, axis, norm)),
        "rfft" => c(fft::rfft(x, n, axis, norm)),
        "irfft" => f(fft::irfft(x, n, axis, norm)),
        "hfft" => f(fft::hfft(x, n, axis, norm)),
        "ihfft" => c(fft::ihfft(x, n, axis, norm)),
        "fftn" => c(fft::fftn(x, s, axes, norm)),
        "ifftn" => c(fft::ifftn(x, s, axes, norm)),
        "rfftn" => c(fft::rfftn(x, s, axes, norm)),
        "irfftn" => f(fft::irfftn(x, s, axes, norm)),
        other => return Err(OpError::Type(format!("numpy.fft has no transform {other:?}"))),
    }?)
}
