//! Complex numbers as array elements: NumPy's complex128 and complex64.
//!
//! [`Complex<F>`] is two floats in memory, real part first, as NumPy and
//! C lay them out, so NumPy's buffers and `.npy` files are read as they
//! are. They are ordered lexicographically (real part, then imaginary), as
//! NumPy sorts them. They are not [`Numeric`](crate::Numeric): a
//! remainder, a minimum or an absolute value of the same type does not
//! mean for them what it means for real numbers. Their arrays have the
//! arithmetic of their own below (`+ - * /`, negation, `conj`), `real`,
//! `imag`, `abs` and `angle` as real arrays, and sums and means; the
//! Fourier transforms ([`crate::fft`]) make and take them.

use std::ops;

use blockwork_graph::{Tokenizer, Value};

use crate::array::Array;
use crate::dtype::{DType, Element, Float};
use crate::error::Result;
use crate::ops::elementwise::{IntoInput, MathFn};
use crate::ops::reduce::ReduceOpts;

/// A complex number of two `F` (f64: complex128, f32: complex64).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
#[repr(C)]
pub struct Complex<F> {
    /// The real part.
    pub re: F,
    /// The imaginary part.
    pub im: F,
}

impl<F> Complex<F> {
    /// `re + im·i`.
    pub const fn new(re: F, im: F) -> Self {
        Complex { re, im }
    }
}

/// The float types complex numbers are made of: f64 and f32.
pub trait Part: Float + rustfft::FftNum {
    /// The complex type of two of them.
    const COMPLEX: DType;
    /// Its `.npy` type string.
    const COMPLEX_DESCR: &'static str;
    /// `sqrt(self² + o²)` without overflow.
    fn hypot(self, o: Self) -> Self;
}

impl Part for f64 {
    const COMPLEX: DType = DType::C128;
    const COMPLEX_DESCR: &'static str = "<c16";
    fn hypot(self, o: Self) -> Self {
        f64::hypot(self, o)
    }
}

impl Part for f32 {
    const COMPLEX: DType = DType::C64;
    const COMPLEX_DESCR: &'static str = "<c8";
    fn hypot(self, o: Self) -> Self {
        f32::hypot(self, o)
    }
}

impl<F: Part> Complex<F> {
    /// The complex conjugate.
    pub fn conj(self) -> Self {
        Complex::new(self.re, F::ZERO - self.im)
    }

    /// The modulus `|z|`.
    pub fn norm(self) -> F {
        self.re.hypot(self.im)
    }

    /// The argument (angle from the positive real axis, in radians).
    pub fn arg(self) -> F {
        self.im.atan2(self.re)
    }

    /// `self` to the power `o` (principal branch; `0 ** 0` is 1, as NumPy).
    pub fn powc(self, o: Self) -> Self {
        if o == Complex::default() {
            return Complex::new(F::ONE, F::ZERO);
        }
        if self == Complex::default() {
            return Complex::default();
        }
        let (r, t) = (self.norm().apply(MathFn::Log), self.arg());
        let (x, y) = (o.re * r - o.im * t, o.im * r + o.re * t);
        let m = x.apply(MathFn::Exp);
        Complex::new(m * y.apply(MathFn::Cos), m * y.apply(MathFn::Sin))
    }
}

impl<F: Part> Element for Complex<F> {
    const DTYPE: DType = F::COMPLEX;
    const NPY_DESCR: &'static str = F::COMPLEX_DESCR;
    fn as_f64(self) -> f64 {
        self.re.as_f64()
    }
    fn from_f64(x: f64) -> Self {
        Complex::new(<F as Element>::from_f64(x), F::ZERO)
    }
    fn as_pair(self) -> (f64, f64) {
        (self.re.as_f64(), self.im.as_f64())
    }
    fn from_pair(re: f64, im: f64) -> Self {
        Complex::new(<F as Element>::from_f64(re), <F as Element>::from_f64(im))
    }
    fn to_value(self) -> Value {
        Value::List(vec![self.re.to_value(), self.im.to_value()].into())
    }
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::List(xs) => match &xs[..] {
                [re, im] => Some(Complex::new(F::from_value(re)?, F::from_value(im)?)),
                _ => None,
            },
            other => Some(Complex::new(F::from_value(other)?, F::ZERO)),
        }
    }
    fn tokenize(self, t: &mut Tokenizer) {
        self.re.tokenize(t);
        self.im.tokenize(t);
    }
    fn tokenize_into(self, buf: &mut Vec<u8>) {
        self.re.tokenize_into(buf);
        self.im.tokenize_into(buf);
    }
    fn from_le(b: &[u8]) -> Self {
        let half = std::mem::size_of::<F>();
        Complex::new(F::from_le(&b[..half]), F::from_le(&b[half..]))
    }
    fn is_nan(self) -> bool {
        self.re.is_nan() || self.im.is_nan()
    }
}

impl<F: Part> ops::Add for Complex<F> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl<F: Part> ops::Sub for Complex<F> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl<F: Part> ops::Mul for Complex<F> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Complex::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
}

impl<F: Part> ops::Div for Complex<F> {
    type Output = Self;
    /// Smith's algorithm: no overflow for large divisors.
    fn div(self, o: Self) -> Self {
        if o.re.abs() >= o.im.abs() {
            if o.re == F::ZERO && o.im == F::ZERO {
                // NumPy: a finite number over zero is inf or nan by part.
                return Complex::new(self.re / o.re, self.im / o.re);
            }
            let r = o.im / o.re;
            let d = o.re + o.im * r;
            Complex::new((self.re + self.im * r) / d, (self.im - self.re * r) / d)
        } else {
            let r = o.re / o.im;
            let d = o.re * r + o.im;
            Complex::new((self.re * r + self.im) / d, (self.im * r - self.re) / d)
        }
    }
}

impl<F: Part> ops::Neg for Complex<F> {
    type Output = Self;
    fn neg(self) -> Self {
        Complex::new(F::ZERO - self.re, F::ZERO - self.im)
    }
}

impl<F: Part> std::iter::Sum for Complex<F> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Complex::default(), |a, b| a + b)
    }
}

/// Arrays of complex numbers.
impl<F: Part> Array<Complex<F>> {
    /// The real parts.
    pub fn real(&self) -> Array<F> {
        self.unop("real", crate::ops::elementwise::Unary::Real {})
    }

    /// The imaginary parts.
    pub fn imag(&self) -> Array<F> {
        self.unop("imag", crate::ops::elementwise::Unary::Imag {})
    }

    /// The moduli `|z|` (NumPy's `abs` of a complex array).
    pub fn abs(&self) -> Array<F> {
        self.unop("absolute", crate::ops::elementwise::Unary::Abs {})
    }

    /// The arguments, in radians (NumPy's `angle`).
    pub fn angle(&self) -> Array<F> {
        self.unop("angle", crate::ops::elementwise::Unary::Angle {})
    }

    /// The complex conjugates.
    pub fn conj(&self) -> Array<Complex<F>> {
        self.unop("conj", crate::ops::elementwise::Unary::Conj {})
    }

    /// `-self`.
    pub fn neg(&self) -> Array<Complex<F>> {
        self.unop("neg", crate::ops::elementwise::Unary::Neg {})
    }

    /// `self + other`.
    pub fn add(&self, other: impl IntoInput<Complex<F>>) -> Result<Array<Complex<F>>> {
        self.arith(crate::ops::elementwise::BinOp::Add, other)
    }

    /// `self - other`.
    pub fn sub(&self, other: impl IntoInput<Complex<F>>) -> Result<Array<Complex<F>>> {
        self.arith(crate::ops::elementwise::BinOp::Sub, other)
    }

    /// `self * other`.
    pub fn mul(&self, other: impl IntoInput<Complex<F>>) -> Result<Array<Complex<F>>> {
        self.arith(crate::ops::elementwise::BinOp::Mul, other)
    }

    /// `self / other`.
    pub fn div(&self, other: impl IntoInput<Complex<F>>) -> Result<Array<Complex<F>>> {
        self.arith(crate::ops::elementwise::BinOp::Div, other)
    }

    /// `self ** other` (principal branch).
    pub fn pow(&self, other: impl IntoInput<Complex<F>>) -> Result<Array<Complex<F>>> {
        self.arith(crate::ops::elementwise::BinOp::Pow, other)
    }

    /// The sum over every axis (a 0-d array).
    pub fn sum(&self) -> Array<Complex<F>> {
        self.sum_with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
    }

    /// The sum with axes, keepdims and split_every: the real and imaginary
    /// parts summed as real arrays.
    pub fn sum_with(&self, opts: &ReduceOpts) -> Result<Array<Complex<F>>> {
        complex(&self.real().sum_with(opts)?, &self.imag().sum_with(opts)?)
    }

    /// The mean over every axis (a 0-d array).
    pub fn mean(&self) -> Array<Complex<f64>> {
        self.mean_with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
    }

    /// The mean with axes, keepdims and split_every (in f64, as the real means).
    pub fn mean_with(&self, opts: &ReduceOpts) -> Result<Array<Complex<f64>>> {
        complex(&self.real().mean_with(opts)?, &self.imag().mean_with(opts)?)
    }
}

/// The complex array `re + im·i` of two real arrays, broadcast.
pub fn complex<F: Part>(re: &Array<F>, im: &Array<F>) -> Result<Array<Complex<F>>> {
    crate::ops::elementwise::pair(re, im)
}

macro_rules! operators {
    ($($Trait:ident $method:ident),*) => {$(
        impl<F: Part> ops::$Trait<&Array<Complex<F>>> for &Array<Complex<F>> {
            type Output = Array<Complex<F>>;
            fn $method(self, rhs: &Array<Complex<F>>) -> Array<Complex<F>> {
                self.$method(rhs).unwrap_or_else(|e| panic!("{}: {e}", stringify!($method)))
            }
        }
        impl<F: Part> ops::$Trait<Complex<F>> for &Array<Complex<F>> {
            type Output = Array<Complex<F>>;
            fn $method(self, rhs: Complex<F>) -> Array<Complex<F>> {
                self.$method(rhs).unwrap_or_else(|e| panic!("{}: {e}", stringify!($method)))
            }
        }
    )*};
}
operators!(Add add, Sub sub, Mul mul, Div div);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_of_numbers() {
        let (a, b) = (Complex::new(1.0f64, 2.0), Complex::new(3.0, -4.0));
        assert_eq!(a * b, Complex::new(11.0, 2.0));
        let q = (a * b) / b;
        assert!((q.re - 1.0).abs() < 1e-15 && (q.im - 2.0).abs() < 1e-15);
        assert_eq!(b.norm(), 5.0);
        assert_eq!(a.conj(), Complex::new(1.0, -2.0));
        let p = Complex::new(0.0f64, 1.0).powc(Complex::new(2.0, 0.0));
        assert!((p.re + 1.0).abs() < 1e-15 && p.im.abs() < 1e-15);
        // Lexicographic, as NumPy sorts.
        assert!(Complex::new(1.0, 5.0) < Complex::new(2.0, 0.0));
        assert!(Complex::new(1.0, 0.0) < Complex::new(1.0, 1.0));
    }

    #[test]
    fn values_and_bytes_round_trip() {
        let z = Complex::new(1.5f32, -2.25);
        assert_eq!(Complex::<f32>::from_value(&z.to_value()), Some(z));
        let mut buf = Vec::new();
        z.tokenize_into(&mut buf);
        assert_eq!(buf.len(), 8);
        assert_eq!(Complex::<f32>::from_le(&buf), z);
        assert_eq!(Complex::<f64>::from_value(&Value::Float(2.0)), Some(Complex::new(2.0, 0.0)));
    }
}
