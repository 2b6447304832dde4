//! Element types: f64, f32, i64, i32, u8, bool, and the complex c128 and
//! c64.
//!
//! [`Element`] is what every array holds; [`Numeric`] adds the arithmetic
//! of ordered numbers (not bool, not complex), [`Float`] the math
//! functions (f32, f64). Complex numbers ([`Complex`]) have an arithmetic
//! of their own (`crate::complex`). Kernels are
//! generic over these traits and monomorphized per type; a task learns
//! its block's type from the [`DType`] in its parameters.

use std::fmt;

use blockwork_graph::{Tokenizer, Value};

/// The element type of an array, at run time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DType {
    /// 64-bit float.
    F64,
    /// 32-bit float.
    F32,
    /// 64-bit signed integer.
    I64,
    /// 32-bit signed integer.
    I32,
    /// 8-bit unsigned integer.
    U8,
    /// Boolean.
    Bool,
    /// Complex of two 64-bit floats (NumPy's complex128).
    C128,
    /// Complex of two 32-bit floats (NumPy's complex64).
    C64,
}

/// A dtype as a kernel parameter: its code.
impl blockwork_graph::Param for DType {
    const DECLARED: Option<&'static blockwork_graph::Layout> = Some(&DType::CODES);
    fn to_param(&self) -> blockwork_graph::Value {
        blockwork_graph::Value::Int(self.code())
    }
    fn from_param(v: &blockwork_graph::Value) -> Option<Self> {
        match v {
            blockwork_graph::Value::Int(c) => DType::from_code(*c),
            _ => None,
        }
    }
}

impl DType {
    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::C128 => 16,
            DType::F64 | DType::I64 | DType::C64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::U8 | DType::Bool => 1,
        }
    }

    /// NumPy's name for it.
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::U8 => "uint8",
            DType::Bool => "bool",
            DType::C128 => "complex128",
            DType::C64 => "complex64",
        }
    }

    /// Whether it is a complex type.
    pub fn is_complex(self) -> bool {
        matches!(self, DType::C128 | DType::C64)
    }

    /// Whether it has the arithmetic of ordered numbers ([`Numeric`]):
    /// not bool, not complex.
    pub fn is_numeric(self) -> bool {
        !matches!(self, DType::Bool | DType::C128 | DType::C64)
    }

    blockwork_graph::code_table! {
        /// Every type, in code order.
        pub const ALL: [DType] = [F64, F32, I64, I32, U8, Bool, C128, C64]; layout CODES;
    }

    /// A number for the type (task parameters carry it).
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The type of a [`DType::code`].
    pub fn from_code(c: i64) -> Option<DType> {
        DType::ALL.get(usize::try_from(c).ok()?).copied()
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A type arrays can hold.
pub trait Element: Copy + Send + Sync + fmt::Debug + PartialEq + PartialOrd + Default + 'static {
    /// Its run-time type.
    const DTYPE: DType;
    /// Converts to f64 (exact for every type but the largest i64).
    fn as_f64(self) -> f64;
    /// Converts from f64 like NumPy's `astype` (truncating toward zero, saturating).
    fn from_f64(x: f64) -> Self;
    /// As a literal task parameter.
    fn to_value(self) -> Value;
    /// From a literal task parameter.
    fn from_value(v: &Value) -> Option<Self>;
    /// Feeds a token.
    fn tokenize(self, t: &mut Tokenizer);
    /// Appends the little-endian bytes (for tokenizing whole arrays and
    /// writing `.npy` files).
    fn tokenize_into(self, buf: &mut Vec<u8>);
    /// Reads one element from its little-endian bytes (`itemsize` of them).
    fn from_le(b: &[u8]) -> Self;
    /// NumPy's type string of this element in a `.npy` header.
    const NPY_DESCR: &'static str;
    /// Whether it is NaN (never, for integers and bool; either part, for
    /// complex numbers).
    fn is_nan(self) -> bool {
        false
    }
    /// As a complex number's two parts (the imaginary part 0 for real types).
    fn as_pair(self) -> (f64, f64) {
        (self.as_f64(), 0.0)
    }
    /// From a complex number's parts, as NumPy's `astype` (real types keep
    /// the real part).
    fn from_pair(re: f64, _im: f64) -> Self {
        Self::from_f64(re)
    }
    /// The values' memory as their little-endian bytes, where the machine
    /// stores them so (numbers on little-endian machines), so files and
    /// buffers are read straight into it.
    fn le_bytes_mut(_values: &mut [Self]) -> Option<&mut [u8]> {
        None
    }
    /// The values' memory as their little-endian bytes, where the machine
    /// stores them so, so a block is sent or written in one copy.
    fn le_bytes(_values: &[Self]) -> Option<&[u8]> {
        None
    }
}

/// Element types with arithmetic.
pub trait Numeric:
    Element
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::iter::Sum
    + std::iter::Product
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The smallest value (−∞ for floats).
    const LOWEST: Self;
    /// The largest value (+∞ for floats).
    const HIGHEST: Self;
    /// Division; integer division by zero gives 0, as NumPy does.
    fn div(self, o: Self) -> Self;
    /// Remainder with the sign of the divisor, as NumPy's `%`; 0 for a zero divisor.
    fn rem(self, o: Self) -> Self;
    /// Power.
    fn pow(self, o: Self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// The smaller, NaN-propagating.
    fn min_nan(self, o: Self) -> Self;
    /// The larger, NaN-propagating.
    fn max_nan(self, o: Self) -> Self;
    /// The sum of `n` copies (integers wrap, as adding them one by one would).
    fn times(self, n: u64) -> Self;
    /// The product of `n` copies (integers wrap).
    fn power(self, n: u64) -> Self;
}

/// Floating-point element types.
pub trait Float: Numeric {
    /// NaN.
    const NAN: Self;
    /// Applies a math function through f64 for f32 is avoided: each
    /// function is native.
    fn apply(self, f: crate::ops::elementwise::MathFn) -> Self;
    /// `atan2(self, x)`.
    fn atan2(self, x: Self) -> Self;
}

/// The methods of [`Element`] every primitive number type has alike: its
/// little-endian bytes and its conversions through `f64`.
macro_rules! primitive_element_methods {
    ($t:ty) => {
        fn from_le(b: &[u8]) -> Self {
            let mut a = [0u8; std::mem::size_of::<$t>()];
            a.copy_from_slice(&b[..std::mem::size_of::<$t>()]);
            <$t>::from_le_bytes(a)
        }
        fn as_f64(self) -> f64 {
            self as f64
        }
        fn from_f64(x: f64) -> Self {
            x as $t
        }
        fn tokenize_into(self, buf: &mut Vec<u8>) {
            buf.extend_from_slice(&self.to_le_bytes());
        }
        fn le_bytes_mut(values: &mut [Self]) -> Option<&mut [u8]> {
            cfg!(target_endian = "little").then(|| bytemuck::cast_slice_mut(values))
        }
        fn le_bytes(values: &[Self]) -> Option<&[u8]> {
            cfg!(target_endian = "little").then(|| bytemuck::cast_slice(values))
        }
    };
}

macro_rules! element_int {
    ($($t:ty => $dt:ident, $descr:literal),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            const NPY_DESCR: &'static str = $descr;
            primitive_element_methods!($t);
            fn to_value(self) -> Value { Value::Int(self as i64) }
            fn from_value(v: &Value) -> Option<Self> {
                match v { Value::Int(i) => Some(*i as $t), Value::Float(x) => Some(*x as $t), _ => None }
            }
            fn tokenize(self, t: &mut Tokenizer) { t.add(&(self as i64)); }
        }
        impl Numeric for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            fn div(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
            fn rem(self, o: Self) -> Self {
                if o == 0 { return 0; }
                let r = self.wrapping_rem(o);
                #[allow(unused_comparisons)]
                if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r }
            }
            fn pow(self, o: Self) -> Self {
                #[allow(unused_comparisons)]
                if o < 0 { 0 } else { self.wrapping_pow(o as u32) }
            }
            #[allow(unused_comparisons)]
            fn abs(self) -> Self { if self < 0 { (0 as $t).wrapping_sub(self) } else { self } }
            fn min_nan(self, o: Self) -> Self { if o < self { o } else { self } }
            fn max_nan(self, o: Self) -> Self { if o > self { o } else { self } }
            // `n as $t` keeps n modulo 2^bits, which is all a wrapping product sees.
            fn times(self, n: u64) -> Self { self.wrapping_mul(n as $t) }
            fn power(self, mut n: u64) -> Self {
                let (mut base, mut acc) = (self, 1 as $t);
                while n > 0 {
                    if n & 1 == 1 { acc = acc.wrapping_mul(base); }
                    base = base.wrapping_mul(base);
                    n >>= 1;
                }
                acc
            }
        }
    )*};
}
element_int!(i64 => I64, "<i8", i32 => I32, "<i4", u8 => U8, "|u1");

macro_rules! element_float {
    ($($t:ident => $dt:ident, $descr:literal),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            const NPY_DESCR: &'static str = $descr;
            primitive_element_methods!($t);
            fn to_value(self) -> Value { Value::Float(self as f64) }
            fn from_value(v: &Value) -> Option<Self> {
                match v { Value::Float(x) => Some(*x as $t), Value::Int(i) => Some(*i as $t), _ => None }
            }
            fn tokenize(self, t: &mut Tokenizer) { t.add(&(self as f64).to_bits()); }
            fn is_nan(self) -> bool { $t::is_nan(self) }
        }
        impl Numeric for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const LOWEST: Self = $t::NEG_INFINITY;
            const HIGHEST: Self = $t::INFINITY;
            fn div(self, o: Self) -> Self { self / o }
            fn rem(self, o: Self) -> Self {
                let r = self % o;
                if r != 0.0 && ((r < 0.0) != (o < 0.0)) { r + o } else { r }
            }
            fn pow(self, o: Self) -> Self { self.powf(o) }
            fn abs(self) -> Self { $t::abs(self) }
            fn min_nan(self, o: Self) -> Self { if self.is_nan() || o.is_nan() { $t::NAN } else { self.min(o) } }
            fn max_nan(self, o: Self) -> Self { if self.is_nan() || o.is_nan() { $t::NAN } else { self.max(o) } }
            fn times(self, n: u64) -> Self { self * n as $t }
            fn power(self, n: u64) -> Self { self.powf(n as $t) }
        }
        impl Float for $t {
            const NAN: Self = $t::NAN;
            fn apply(self, f: crate::ops::elementwise::MathFn) -> Self {
                use crate::ops::elementwise::MathFn as M;
                match f {
                    M::Exp => self.exp(), M::Expm1 => self.exp_m1(), M::Log => self.ln(), M::Log1p => self.ln_1p(),
                    M::Log2 => self.log2(), M::Log10 => self.log10(), M::Sqrt => self.sqrt(), M::Cbrt => self.cbrt(),
                    M::Sin => self.sin(), M::Cos => self.cos(), M::Tan => self.tan(), M::Arcsin => self.asin(),
                    M::Arccos => self.acos(), M::Arctan => self.atan(), M::Sinh => self.sinh(), M::Cosh => self.cosh(),
                    M::Tanh => self.tanh(), M::Floor => self.floor(), M::Ceil => self.ceil(),
                    M::Round => { let r = self.round(); if (self - self.trunc()).abs() == 0.5 { 2.0 * (self / 2.0).round() } else { r } }
                    M::Trunc => self.trunc(), M::Deg2rad => self.to_radians(), M::Rad2deg => self.to_degrees(),
                }
            }
            fn atan2(self, x: Self) -> Self { $t::atan2(self, x) }
        }
    )*};
}
element_float!(f64 => F64, "<f8", f32 => F32, "<f4");

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    const NPY_DESCR: &'static str = "|b1";
    fn from_le(b: &[u8]) -> Self {
        b[0] != 0
    }
    fn as_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    fn to_value(self) -> Value {
        Value::Bool(self)
    }
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
    fn tokenize(self, t: &mut Tokenizer) {
        t.add(&self);
    }
    fn tokenize_into(self, buf: &mut Vec<u8>) {
        buf.push(u8::from(self));
    }
}

/// Runs `$body` with the type alias `$T` set to the Rust type of `$dt`
/// when it is one of the listed types; any other type gives `$err`. The
/// four macros below are its lists.
macro_rules! with_types {
    ($dt:expr, $T:ident => $body:expr, [$($v:ident: $ty:ty),+], $err:expr) => {
        match $dt {
            $($crate::DType::$v => {
                type $T = $ty;
                $body
            })+
            #[allow(unreachable_patterns)]
            _ => $err,
        }
    };
}

/// Runs `$body` with the type alias `$T` set to the Rust type of a [`DType`].
macro_rules! with_dtype {
    ($dt:expr, $T:ident => $body:expr) => {
        $crate::dtype::with_types!($dt, $T => $body, [
            F64: f64, F32: f32, I64: i64, I32: i32, U8: u8, Bool: bool,
            C128: $crate::Complex<f64>, C64: $crate::Complex<f32>
        ], unreachable!("every type is listed"))
    };
}

/// Like `with_dtype!` for numeric types; bool and complex give the error `$err`.
macro_rules! with_numeric {
    ($dt:expr, $T:ident => $body:expr, $err:expr) => {
        $crate::dtype::with_types!($dt, $T => $body, [F64: f64, F32: f32, I64: i64, I32: i32, U8: u8], $err)
    };
}

/// Like `with_dtype!` for float types; others give the error `$err`.
macro_rules! with_float {
    ($dt:expr, $T:ident => $body:expr, $err:expr) => {
        $crate::dtype::with_types!($dt, $T => $body, [F64: f64, F32: f32], $err)
    };
}

/// Runs `$body` with `$T` the type of a complex type's parts (f64 for
/// complex128, f32 for complex64); other types give the error `$err`.
macro_rules! with_complex {
    ($dt:expr, $T:ident => $body:expr, $err:expr) => {
        $crate::dtype::with_types!($dt, $T => $body, [C128: f64, C64: f32], $err)
    };
}

pub(crate) use {with_complex, with_dtype, with_float, with_numeric, with_types};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_semantics_of_integer_edge_cases() {
        assert_eq!(Numeric::div(7i64, 0), 0);
        assert_eq!(Numeric::rem(-7i64, 3), 2);
        assert_eq!(Numeric::rem(7i64, -3), -2);
        assert_eq!(Numeric::rem(-7.0f64, 3.0), 2.0);
        assert_eq!(Numeric::pow(2i32, 10), 1024);
        assert!(Numeric::max_nan(1.0f64, f64::NAN).is_nan());
        assert_eq!(DType::from_code(DType::U8.code()), Some(DType::U8));
    }

    #[test]
    fn round_half_to_even() {
        use crate::ops::elementwise::MathFn;
        assert_eq!(2.5f64.apply(MathFn::Round), 2.0);
        assert_eq!(3.5f64.apply(MathFn::Round), 4.0);
        assert_eq!((-2.5f64).apply(MathFn::Round), -2.0);
        assert_eq!(2.4f64.apply(MathFn::Round), 2.0);
    }
}
