//! Elementwise operations with NumPy broadcasting.
//!
//! One named kernel, `ELEMWISE`, serves every elementwise operation; its
//! parameters say which (an op code, the input dtype). At graph level,
//! `elemwise` broadcasts the operands' shapes, cuts operands whose
//! chunks differ along an axis into the common refinement of those chunks
//! (rechunk), and makes one task per output block reading the matching
//! block of each operand (block 0 along axes an operand broadcasts).
//! Scalars travel as 0-d constant blocks, so `x + 1.0` and `x + y` are the
//! same kernel.
//!
//! Constant blocks stay constant where they can: `ones + ones` allocates
//! nothing.

use std::sync::Arc;

use blockwork_graph::{
    code_table, kernel_params, r, Arg, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Value,
};
use ndarray::{IxDyn, Zip};

use crate::array::{new_layer, Array, Operand};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::complex::{Complex, Part as ComplexPart};
use crate::dtype::{with_complex, with_dtype, with_float, with_numeric, DType, Element, Float, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::fused::{fusable, fused_layer, Part, Top};
use crate::ops::rechunk::{common_chunks, rechunk_operand};

code_table! {
    /// Binary operations.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    #[allow(missing_docs)]
    pub enum BinOp {
        Add,
        Sub,
        Mul,
        Div,
        Rem,
        Pow,
        Maximum,
        Minimum,
        Equal,
        NotEqual,
        Less,
        LessEqual,
        Greater,
        GreaterEqual,
        And,
        Or,
        Xor,
        Arctan2,
    }
    table BINOPS, layout BINOP_CODES, param;
}

impl BinOp {
    fn name(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "truediv",
            BinOp::Rem => "mod",
            BinOp::Pow => "pow",
            BinOp::Maximum => "maximum",
            BinOp::Minimum => "minimum",
            BinOp::Equal => "eq",
            BinOp::NotEqual => "ne",
            BinOp::Less => "lt",
            BinOp::LessEqual => "le",
            BinOp::Greater => "gt",
            BinOp::GreaterEqual => "ge",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Xor => "xor",
            BinOp::Arctan2 => "arctan2",
        }
    }
}

code_table! {
    /// Math functions of floats.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    #[allow(missing_docs)]
    pub enum MathFn {
        Exp,
        Expm1,
        Log,
        Log1p,
        Log2,
        Log10,
        Sqrt,
        Cbrt,
        Sin,
        Cos,
        Tan,
        Arcsin,
        Arccos,
        Arctan,
        Sinh,
        Cosh,
        Tanh,
        Floor,
        Ceil,
        /// Round half to even, as NumPy.
        Round,
        Trunc,
        Deg2rad,
        Rad2deg,
    }
    pub(crate) table MATHFNS, layout MATHFN_CODES, param;
}

kernel_params! {
    /// Unary operations.
    #[derive(Copy, Eq)]
    pub(crate) enum Unary {
        /// `-x`.
        Neg {},
        /// `|x|` (of complex numbers: the modulus).
        Abs {},
        /// Logical or bitwise not.
        Not {},
        /// Whether `x` is NaN.
        IsNan {},
        /// A math function of floats.
        Math { f: MathFn },
        /// Conversion to another element type.
        Cast { to: DType },
        /// The real part of a complex number.
        Real {},
        /// The imaginary part.
        Imag {},
        /// The argument.
        Angle {},
        /// The conjugate.
        Conj {},
    }
}

kernel_params! {
    /// What an elementwise task computes from its blocks (of `dtype`).
    pub(crate) enum ElemwiseParams {
        /// `op(a, b)`.
        Binary { op: BinOp, dtype: DType },
        /// `op(a)`.
        Unary { op: Unary, dtype: DType },
        /// `a` where `cond` is true, `b` elsewhere.
        Where { dtype: DType },
        /// Two real blocks into one complex block (real and imaginary parts).
        Pair { dtype: DType },
    }
}

fn elemwise_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let arg = |i: usize| args.get(i).ok_or_else(|| TaskError::new("missing elementwise input"));
    match ElemwiseParams::from_value(params)? {
        ElemwiseParams::Binary { op, dtype } => binary(op, dtype, arg(0)?, arg(1)?),
        ElemwiseParams::Unary { op, dtype } => unary(op, dtype, arg(0)?),
        ElemwiseParams::Where { dtype } => with_dtype!(dtype, T => {
            let c = block_of::<bool>(arg(0)?)?;
            let (a, b) = (block_of::<T>(arg(1)?)?, block_of::<T>(arg(2)?)?);
            Ok(select(c, a, b)?.into_value())
        }),
        ElemwiseParams::Pair { dtype } => with_float!(dtype, F => {
            let (re, im) = (block_of::<F>(arg(0)?)?, block_of::<F>(arg(1)?)?);
            Ok(zip2(re, im, Complex::new)?.into_value())
        }, Err(TaskError::internal(format!("complex numbers of {dtype} parts")))),
    }
}

/// The one named kernel of every elementwise operation.
pub(crate) static ELEMWISE: NamedFn =
    NamedFn::new("blockwork.array.elemwise", elemwise_kernel).params::<ElemwiseParams>();

/// The broadcast shape of two shapes, NumPy's rules.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let y = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = match (x, y) {
            _ if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

fn bshape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, TaskError> {
    broadcast_shapes(a, b).ok_or_else(|| TaskError::new(format!("blocks of shapes {a:?} and {b:?} do not broadcast")))
}

/// Applies `f` elementwise over two broadcast blocks.
fn zip2<A: Element, B: Element, O: Element>(
    a: &Block<A>,
    b: &Block<B>,
    f: impl Fn(A, B) -> O,
) -> Result<Block<O>, TaskError> {
    let shape = bshape(a.shape(), b.shape())?;
    Ok(match (a, b) {
        (Block::Const { value: x, .. }, Block::Const { value: y, .. }) => Block::Const { value: f(*x, *y), shape },
        (Block::Dense(x), Block::Const { value: y, .. }) if x.shape() == shape.as_slice() => {
            Block::Dense(x.mapv(|v| f(v, *y)))
        }
        (Block::Const { value: x, .. }, Block::Dense(y)) if y.shape() == shape.as_slice() => {
            Block::Dense(y.mapv(|v| f(*x, v)))
        }
        _ => {
            let (av, bv) = (a.view(), b.view());
            let sh = IxDyn(&shape);
            let (Some(x), Some(y)) = (av.broadcast(sh.clone()), bv.broadcast(sh)) else {
                return Err(TaskError::new("broadcast failed"));
            };
            Block::Dense(Zip::from(&x).and(&y).map_collect(|&p, &q| f(p, q)))
        }
    })
}

// The comparisons are generic code instantiated for bool too.
#[allow(clippy::bool_comparison)]
fn binary(op: BinOp, dtype: DType, a: &Value, b: &Value) -> TaskResult {
    use BinOp::*;
    match op {
        Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual => with_dtype!(dtype, T => {
            let (x, y) = (block_of::<T>(a)?, block_of::<T>(b)?);
            let out = match op {
                Equal => zip2(x, y, |p, q| p == q),
                NotEqual => zip2(x, y, |p, q| p != q),
                Less => zip2(x, y, |p, q| p < q),
                LessEqual => zip2(x, y, |p, q| p <= q),
                Greater => zip2(x, y, |p, q| p > q),
                _ => zip2(x, y, |p, q| p >= q),
            }?;
            Ok(out.into_value())
        }),
        And | Or | Xor => {
            // Logical for bools, bitwise for integers (as NumPy's `&|^`).
            macro_rules! bits {
                ($t:ty) => {{
                    let (x, y) = (block_of::<$t>(a)?, block_of::<$t>(b)?);
                    let out = match op {
                        And => zip2(x, y, |p, q| p & q),
                        Or => zip2(x, y, |p, q| p | q),
                        _ => zip2(x, y, |p, q| p ^ q),
                    }?;
                    Ok(out.into_value())
                }};
            }
            match dtype {
                DType::Bool => bits!(bool),
                DType::I64 => bits!(i64),
                DType::I32 => bits!(i32),
                DType::U8 => bits!(u8),
                _ => Err(TaskError::new(format!("{} of {dtype} blocks (bool or integer only)", op.name()))),
            }
        }
        _ if dtype.is_complex() => with_complex!(dtype, F => {
            let (x, y) = (block_of::<Complex<F>>(a)?, block_of::<Complex<F>>(b)?);
            Ok(match op {
                Add => zip2(x, y, |p, q| p + q),
                Sub => zip2(x, y, |p, q| p - q),
                Mul => zip2(x, y, |p, q| p * q),
                Div => zip2(x, y, |p, q| p / q),
                Pow => zip2(x, y, Complex::powc),
                _ => return Err(TaskError::new(format!("{} of {dtype} blocks", op.name()))),
            }?.into_value())
        }, unreachable!("a complex dtype")),
        Arctan2 => with_float!(dtype, T => {
            Ok(zip2(block_of::<T>(a)?, block_of::<T>(b)?, |p: T, q: T| p.atan2(q))?.into_value())
        }, Err(TaskError::new(format!("arctan2 of {dtype} blocks")))),
        _ => with_numeric!(dtype, T => {
            let (x, y) = (block_of::<T>(a)?, block_of::<T>(b)?);
            Ok(arith(op, x, y)?.into_value())
        }, Err(TaskError::new(format!("{} of {dtype} blocks", op.name())))),
    }
}

fn arith<T: Numeric>(op: BinOp, x: &Block<T>, y: &Block<T>) -> Result<Block<T>, TaskError> {
    use BinOp::*;
    match op {
        Add => zip2(x, y, |p, q| p + q),
        Sub => zip2(x, y, |p, q| p - q),
        Mul => zip2(x, y, |p, q| p * q),
        Div => zip2(x, y, Numeric::div),
        Rem => zip2(x, y, Numeric::rem),
        Pow => zip2(x, y, Numeric::pow),
        Maximum => zip2(x, y, Numeric::max_nan),
        Minimum => zip2(x, y, Numeric::min_nan),
        _ => Err(TaskError::new(format!("{} is not arithmetic", op.name()))),
    }
}

fn map1<A: Element, O: Element>(a: &Block<A>, f: impl Fn(A) -> O) -> Block<O> {
    match a {
        Block::Const { value, shape } => Block::Const { value: f(*value), shape: shape.clone() },
        Block::Dense(x) => Block::Dense(x.mapv(f)),
    }
}

fn unary(op: Unary, dtype: DType, a: &Value) -> TaskResult {
    let bad = || Err(TaskError::new(format!("{op:?} of {dtype} blocks")));
    if dtype.is_complex() && !matches!(op, Unary::IsNan {} | Unary::Cast { .. }) {
        return with_complex!(dtype, F => {
            let z = block_of::<Complex<F>>(a)?;
            match op {
                Unary::Neg {} => Ok(map1(z, |x| -x).into_value()),
                Unary::Conj {} => Ok(map1(z, Complex::conj).into_value()),
                Unary::Abs {} => Ok(map1(z, Complex::norm).into_value()),
                Unary::Angle {} => Ok(map1(z, Complex::arg).into_value()),
                Unary::Real {} => Ok(map1(z, |x| x.re).into_value()),
                Unary::Imag {} => Ok(map1(z, |x| x.im).into_value()),
                _ => bad(),
            }
        }, bad());
    }
    match op {
        Unary::Neg {} => with_numeric!(dtype, T => Ok(map1(block_of::<T>(a)?, |x: T| T::ZERO - x).into_value()), bad()),
        Unary::Abs {} => with_numeric!(dtype, T => Ok(map1(block_of::<T>(a)?, Numeric::abs).into_value()), bad()),
        Unary::Not {} => match dtype {
            DType::Bool => Ok(map1(block_of::<bool>(a)?, |x| !x).into_value()),
            DType::I64 => Ok(map1(block_of::<i64>(a)?, |x| !x).into_value()),
            DType::I32 => Ok(map1(block_of::<i32>(a)?, |x| !x).into_value()),
            DType::U8 => Ok(map1(block_of::<u8>(a)?, |x| !x).into_value()),
            _ => bad(),
        },
        Unary::IsNan {} => with_dtype!(dtype, T => Ok(map1(block_of::<T>(a)?, Element::is_nan).into_value())),
        Unary::Math { f } => {
            with_float!(dtype, T => Ok(map1(block_of::<T>(a)?, |x: T| x.apply(f)).into_value()), bad())
        }
        Unary::Cast { to: DType::U8 } => narrowed(a, dtype, |x| x as u8),
        Unary::Cast { to: DType::I32 } => narrowed(a, dtype, |x| x as i32),
        Unary::Cast { to } => with_dtype!(dtype, S => {
            let b = block_of::<S>(a)?;
            with_dtype!(to, D => Ok(map1(b, |x: S| {
                let (re, im) = x.as_pair();
                D::from_pair(re, im)
            }).into_value()))
        }),
        Unary::Real {} | Unary::Imag {} | Unary::Angle {} | Unary::Conj {} => bad(),
    }
}

/// A block cast to a narrower integer type as NumPy's C casts do: through
/// int64, keeping the low bits (300 → 44 and -1 → 255 as uint8), floats
/// truncated toward zero first (out of int64's range, NaN and infinities
/// are platform-defined in NumPy; here they saturate, NaN to 0).
fn narrowed<D: Element>(a: &Value, dtype: DType, wrap: fn(i64) -> D) -> TaskResult {
    Ok(match dtype {
        DType::I64 => map1(block_of::<i64>(a)?, wrap).into_value(),
        DType::I32 => map1(block_of::<i32>(a)?, |x| wrap(i64::from(x))).into_value(),
        DType::U8 => map1(block_of::<u8>(a)?, |x| wrap(i64::from(x))).into_value(),
        DType::Bool => map1(block_of::<bool>(a)?, |x| wrap(i64::from(x))).into_value(),
        DType::F64 => map1(block_of::<f64>(a)?, |x| wrap(x as i64)).into_value(),
        DType::F32 => map1(block_of::<f32>(a)?, |x| wrap(x as i64)).into_value(),
        DType::C128 => map1(block_of::<Complex<f64>>(a)?, |x| wrap(x.re as i64)).into_value(),
        DType::C64 => map1(block_of::<Complex<f32>>(a)?, |x| wrap(x.re as i64)).into_value(),
    })
}

fn select<T: Element>(c: &Block<bool>, a: &Block<T>, b: &Block<T>) -> Result<Block<T>, TaskError> {
    let shape = bshape(&bshape(c.shape(), a.shape())?, b.shape())?;
    if let Block::Const { value, .. } = c {
        let chosen = if *value { a } else { b };
        return Ok(match chosen {
            Block::Const { value, .. } => Block::Const { value: *value, shape },
            Block::Dense(x) => {
                Block::Dense(x.broadcast(IxDyn(&shape)).ok_or_else(|| TaskError::new("broadcast failed"))?.to_owned())
            }
        });
    }
    let (cv, av, bv) = (c.view(), a.view(), b.view());
    let sh = IxDyn(&shape);
    let (Some(x), Some(y), Some(z)) = (cv.broadcast(sh.clone()), av.broadcast(sh.clone()), bv.broadcast(sh)) else {
        return Err(TaskError::new("broadcast failed"));
    };
    Ok(Block::Dense(Zip::from(&x).and(&y).and(&z).map_collect(|&k, &p, &q| if k { p } else { q })))
}

/// An operand of an elementwise operation: an array, or a scalar (opaque;
/// made by [`IntoInput`]).
#[derive(Clone)]
pub struct Input(In);

#[derive(Clone)]
pub(crate) enum In {
    /// An array's blocks.
    Array(Operand),
    /// A scalar, as a 0-d constant block.
    Scalar(Value),
}

impl Input {
    fn shape(&self) -> &[usize] {
        match &self.0 {
            In::Array(o) => &o.shape,
            In::Scalar(..) => &[],
        }
    }

    pub(crate) fn array(o: Operand) -> Input {
        Input(In::Array(o))
    }
}

/// Things usable as the other side of an elementwise op on `Array<T>`:
/// another `Array<T>` (by reference or value) or a scalar `T`.
pub trait IntoInput<T> {
    /// Converts.
    fn into_input(self) -> Input;
}

impl<T: Element> IntoInput<T> for &Array<T> {
    fn into_input(self) -> Input {
        Input::array(self.operand())
    }
}

impl<T: Element> IntoInput<T> for Array<T> {
    fn into_input(self) -> Input {
        Input::array(self.operand())
    }
}

impl<T: Element> IntoInput<T> for T {
    fn into_input(self) -> Input {
        Input(In::Scalar(Block::Const { value: self, shape: vec![] }.into_value()))
    }
}

/// Broadcasts the inputs' shapes and cuts every array input into the
/// common chunks: the output shape, its chunks, and the aligned inputs.
pub(crate) fn plan(inputs: Vec<Input>) -> Result<(Vec<usize>, Chunks, Vec<In>)> {
    let mut shape: Vec<usize> = Vec::new();
    for inp in &inputs {
        shape = broadcast_shapes(&shape, inp.shape()).ok_or_else(|| {
            let shapes: Vec<String> = inputs.iter().map(|i| format!("{:?}", i.shape())).collect();
            ArrayError::Shape(format!("operands could not be broadcast together with shapes {}", shapes.join(" ")))
        })?;
    }
    let nd = shape.len();
    // Chunks per output axis: the common refinement of the operands that
    // span the axis (not broadcasting along it).
    let mut out_chunks = Vec::with_capacity(nd);
    for (ax, &len) in shape.iter().enumerate() {
        let mut spans: Vec<&[usize]> = Vec::new();
        for inp in &inputs {
            if let In::Array(o) = &inp.0 {
                let off = nd - o.ndim();
                if ax >= off && o.shape[ax - off] == len {
                    spans.push(o.chunks.axis(ax - off));
                }
            }
        }
        out_chunks.push(if spans.is_empty() { vec![len] } else { common_chunks(&spans) });
    }
    let out_chunks = Chunks(out_chunks);
    // Rechunk operands to the common chunks where they differ.
    let mut ops: Vec<In> = Vec::with_capacity(inputs.len());
    for inp in inputs {
        ops.push(match inp.0 {
            In::Array(o) => {
                let off = nd - o.ndim();
                let target = Chunks(
                    (0..o.ndim())
                        .map(|k| {
                            if o.shape[k] == shape[k + off] {
                                out_chunks.axis(k + off).to_vec()
                            } else {
                                o.chunks.axis(k).to_vec()
                            }
                        })
                        .collect(),
                );
                In::Array(rechunk_operand(&o, &target)?)
            }
            s => s,
        });
    }
    Ok((shape, out_chunks, ops))
}

/// Builds an elementwise layer over `inputs` (see the module doc).
pub(crate) fn elemwise(prefix: &str, inputs: Vec<Input>, out: DType, params: Value) -> Result<Operand> {
    blockwork_graph::register(&ELEMWISE);
    let (shape, out_chunks, ops) = plan(inputs)?;
    let nd = shape.len();
    let mut namer = Namer::new(prefix).add(&params).add(&out.code());
    let mut deps = Vec::new();
    for inp in &ops {
        match inp {
            In::Array(o) => {
                namer = namer.input(&o.layer);
                deps.push(Arc::clone(&o.layer));
            }
            In::Scalar(v) => {
                namer = namer.with(|t| {
                    if let Some(x) = scalar_token(v) {
                        t.add(&x);
                    }
                });
            }
        }
    }
    let op = Op::named(&ELEMWISE, params);
    let layer = new_layer(prefix, namer, &out_chunks, deps, |idx| {
        let args: Vec<Arg<Key>> = ops
            .iter()
            .map(|inp| match inp {
                In::Array(o) => {
                    let off = nd - o.ndim();
                    let src: Vec<u32> =
                        (0..o.ndim()).map(|k| if o.shape[k] == shape[k + off] { idx[k + off] } else { 0 }).collect();
                    r(o.key(&src))
                }
                In::Scalar(v) => Arg::Lit(v.clone()),
            })
            .collect();
        Task::new(op.clone(), args)
    });
    Ok(Operand { shape, chunks: out_chunks, layer, dtype: out, expr: None })
}

fn scalar_token(v: &Value) -> Option<u128> {
    fn tok<T: Element>(v: &Value) -> Option<u128> {
        match v.downcast_ref::<Block<T>>()? {
            Block::Const { value, .. } => {
                let mut t = blockwork_graph::Tokenizer::new();
                value.tokenize(&mut t);
                t.add(&T::DTYPE.code());
                Some(t.finish().0)
            }
            Block::Dense(_) => None,
        }
    }
    tok::<f64>(v)
        .or_else(|| tok::<f32>(v))
        .or_else(|| tok::<i64>(v))
        .or_else(|| tok::<i32>(v))
        .or_else(|| tok::<u8>(v))
        .or_else(|| tok::<bool>(v))
}

fn binary_params(op: BinOp, dtype: DType) -> Value {
    ElemwiseParams::Binary { op, dtype }.to_value()
}

/// An arithmetic op through the fused path.
fn fused<T: Element>(prefix: &str, top: Top, inputs: Vec<Input>) -> Result<Operand> {
    let (shape, chunks, ins) = plan(inputs)?;
    let parts = ins
        .into_iter()
        .map(|i| match i {
            In::Array(o) => Part::Operand(o),
            In::Scalar(v) => Part::Scalar(match v.downcast_ref::<Block<T>>() {
                Some(Block::Const { value, .. }) => value.to_value(),
                _ => Value::Unit,
            }),
        })
        .collect();
    fused_layer(prefix, top, parts, T::DTYPE, &shape, &chunks)
}

impl<T: Element> Array<T> {
    fn binop<U: Element>(&self, op: BinOp, other: Input) -> Result<Array<U>> {
        let inputs = vec![Input::array(self.operand()), other];
        if fusable(op) && T::DTYPE.is_numeric() && U::DTYPE == T::DTYPE {
            return Ok(fused::<T>(op.name(), Top::Bin(op), inputs)?.into_array());
        }
        Ok(elemwise(op.name(), inputs, U::DTYPE, binary_params(op, T::DTYPE))?.into_array())
    }

    fn rbinop<U: Element>(&self, op: BinOp, left: Input) -> Result<Array<U>> {
        let inputs = vec![left, Input::array(self.operand())];
        if fusable(op) && T::DTYPE.is_numeric() && U::DTYPE == T::DTYPE {
            return Ok(fused::<T>(op.name(), Top::Bin(op), inputs)?.into_array());
        }
        Ok(elemwise(op.name(), inputs, U::DTYPE, binary_params(op, T::DTYPE))?.into_array())
    }

    fn fused_unary(&self, name: &str, top: Top) -> Array<T> {
        fused::<T>(name, top, vec![Input::array(self.operand())])
            .map(Operand::into_array)
            .expect("a unary op cannot fail to broadcast")
    }

    /// Arithmetic of complex numbers (never fused).
    pub(crate) fn arith(&self, op: BinOp, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(op, other.into_input())
    }

    /// A unary operation, one kernel per block (never fused).
    pub(crate) fn unop<U: Element>(&self, name: &str, op: Unary) -> Array<U> {
        let params = ElemwiseParams::Unary { op, dtype: T::DTYPE }.to_value();
        elemwise(name, vec![Input::array(self.operand())], U::DTYPE, params)
            .map(Operand::into_array)
            .expect("a unary op cannot fail to broadcast")
    }

    /// `self == other` elementwise.
    pub fn equal(&self, other: impl IntoInput<T>) -> Result<Array<bool>> {
        self.binop(BinOp::Equal, other.into_input())
    }

    /// `self != other` elementwise.
    pub fn not_equal(&self, other: impl IntoInput<T>) -> Result<Array<bool>> {
        self.binop(BinOp::NotEqual, other.into_input())
    }

    /// `self < other` elementwise.
    pub fn less(&self, other: impl IntoInput<T>) -> Result<Array<bool>> {
        self.binop(BinOp::Less, other.into_input())
    }

    /// `self <= other` elementwise.
    pub fn less_equal(&self, other: impl IntoInput<T>) -> Result<Array<bool>> {
        self.binop(BinOp::LessEqual, other.into_input())
    }

    /// `self > other` elementwise.
    pub fn greater(&self, other: impl IntoInput<T>) -> Result<Array<bool>> {
        self.binop(BinOp::Greater, other.into_input())
    }

    /// `self >= other` elementwise.
    pub fn greater_equal(&self, other: impl IntoInput<T>) -> Result<Array<bool>> {
        self.binop(BinOp::GreaterEqual, other.into_input())
    }

    /// Where elements are NaN (never, for integers).
    pub fn isnan(&self) -> Array<bool> {
        self.unop("isnan", Unary::IsNan {})
    }

    /// The array converted to another element type, as NumPy's `astype`.
    pub fn astype<U: Element>(&self) -> Array<U> {
        if T::DTYPE == U::DTYPE {
            return Array::from_parts(self.shape.clone(), self.chunks.clone(), Arc::clone(&self.layer));
        }
        self.unop("astype", Unary::Cast { to: U::DTYPE })
    }
}

impl<T: Numeric> Array<T> {
    /// `self + other`.
    pub fn add(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Add, other.into_input())
    }

    /// `self - other`.
    pub fn sub(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Sub, other.into_input())
    }

    /// `self * other`.
    pub fn mul(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Mul, other.into_input())
    }

    /// `self / other` (integers: floor division toward zero, 0 for a zero divisor).
    pub fn div(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Div, other.into_input())
    }

    /// `self % other`, with the sign of the divisor as in NumPy.
    pub fn rem(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Rem, other.into_input())
    }

    /// `self ** other`.
    pub fn pow(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Pow, other.into_input())
    }

    /// The larger of each pair (NaN wins, as NumPy's `maximum`).
    pub fn maximum(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Maximum, other.into_input())
    }

    /// The smaller of each pair (NaN wins, as NumPy's `minimum`).
    pub fn minimum(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.binop(BinOp::Minimum, other.into_input())
    }

    /// `other - self` (for a scalar on the left: `1.0 - x` is `x.rsub(1.0)`).
    pub fn rsub(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.rbinop(BinOp::Sub, other.into_input())
    }

    /// `other / self`.
    pub fn rdiv(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.rbinop(BinOp::Div, other.into_input())
    }

    /// `other ** self`.
    pub fn rpow(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
        self.rbinop(BinOp::Pow, other.into_input())
    }

    /// `-self`.
    pub fn neg(&self) -> Array<T> {
        self.fused_unary("neg", Top::Neg)
    }

    /// Absolute values.
    pub fn abs(&self) -> Array<T> {
        self.fused_unary("absolute", Top::Abs)
    }

    /// Values limited to `[lo, hi]`.
    pub fn clip(&self, lo: T, hi: T) -> Array<T> {
        self.maximum(lo).and_then(|a| a.minimum(hi)).expect("scalars always broadcast")
    }
}

macro_rules! math_methods {
    ($($name:ident => $f:ident),*) => {
        impl<T: Float> Array<T> {
            $(
                #[doc = concat!("`", stringify!($name), "` of every element.")]
                pub fn $name(&self) -> Array<T> {
                    self.fused_unary(stringify!($name), Top::Math(MathFn::$f))
                }
            )*

            /// `arctan2(self, other)` elementwise.
            pub fn arctan2(&self, other: impl IntoInput<T>) -> Result<Array<T>> {
                self.binop(BinOp::Arctan2, other.into_input())
            }
        }
    };
}
math_methods!(exp => Exp, expm1 => Expm1, log => Log, log1p => Log1p, log2 => Log2, log10 => Log10,
    sqrt => Sqrt, cbrt => Cbrt, sin => Sin, cos => Cos, tan => Tan, arcsin => Arcsin, arccos => Arccos,
    arctan => Arctan, sinh => Sinh, cosh => Cosh, tanh => Tanh, floor => Floor, ceil => Ceil,
    round => Round, trunc => Trunc, deg2rad => Deg2rad, rad2deg => Rad2deg);

impl Array<bool> {
    /// Elementwise and.
    pub fn logical_and(&self, other: impl IntoInput<bool>) -> Result<Array<bool>> {
        self.binop(BinOp::And, other.into_input())
    }

    /// Elementwise or.
    pub fn logical_or(&self, other: impl IntoInput<bool>) -> Result<Array<bool>> {
        self.binop(BinOp::Or, other.into_input())
    }

    /// Elementwise exclusive or.
    pub fn logical_xor(&self, other: impl IntoInput<bool>) -> Result<Array<bool>> {
        self.binop(BinOp::Xor, other.into_input())
    }

    /// Elementwise not.
    pub fn logical_not(&self) -> Array<bool> {
        self.unop("invert", Unary::Not {})
    }
}

macro_rules! bitwise_methods {
    ($($t:ty),*) => {$(
        impl Array<$t> {
            /// Elementwise bitwise and (`&`).
            pub fn bitwise_and(&self, other: impl IntoInput<$t>) -> Result<Array<$t>> {
                self.binop(BinOp::And, other.into_input())
            }

            /// Elementwise bitwise or (`|`).
            pub fn bitwise_or(&self, other: impl IntoInput<$t>) -> Result<Array<$t>> {
                self.binop(BinOp::Or, other.into_input())
            }

            /// Elementwise bitwise exclusive or (`^`).
            pub fn bitwise_xor(&self, other: impl IntoInput<$t>) -> Result<Array<$t>> {
                self.binop(BinOp::Xor, other.into_input())
            }

            /// Elementwise bitwise not (`~`).
            pub fn invert(&self) -> Array<$t> {
                self.unop("invert", Unary::Not {})
            }
        }
    )*};
}
bitwise_methods!(i64, i32, u8);

/// `a` where `cond` is true, `b` elsewhere, with broadcasting (NumPy's `where`).
pub fn where_<T: Element>(cond: &Array<bool>, a: impl IntoInput<T>, b: impl IntoInput<T>) -> Result<Array<T>> {
    let params = ElemwiseParams::Where { dtype: T::DTYPE }.to_value();
    Ok(elemwise("where", vec![Input::array(cond.operand()), a.into_input(), b.into_input()], T::DTYPE, params)?
        .into_array())
}

/// The complex array `re + im·i` of two real arrays, broadcast.
pub(crate) fn pair<F: ComplexPart>(re: &Array<F>, im: &Array<F>) -> Result<Array<Complex<F>>> {
    let params = ElemwiseParams::Pair { dtype: F::DTYPE }.to_value();
    Ok(elemwise("complex", vec![Input::array(re.operand()), Input::array(im.operand())], F::COMPLEX, params)?
        .into_array())
}

/// Operators, for code that prefers `&x + &y` to `x.add(&y)?`. They panic
/// where the methods return an error (shapes that do not broadcast), as
/// ndarray's operators do.
mod operators {
    use super::*;
    use std::ops;

    fn must<T>(r: Result<T>, op: &str) -> T {
        r.unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    macro_rules! binary_operators {
        ($($Trait:ident $method:ident => $call:ident),*) => {$(
            impl<T: Numeric> ops::$Trait<&Array<T>> for &Array<T> {
                type Output = Array<T>;
                fn $method(self, rhs: &Array<T>) -> Array<T> { must(self.$call(rhs), stringify!($method)) }
            }
            impl<T: Numeric> ops::$Trait<Array<T>> for &Array<T> {
                type Output = Array<T>;
                fn $method(self, rhs: Array<T>) -> Array<T> { must(self.$call(&rhs), stringify!($method)) }
            }
            impl<T: Numeric> ops::$Trait<&Array<T>> for Array<T> {
                type Output = Array<T>;
                fn $method(self, rhs: &Array<T>) -> Array<T> { must((&self).$call(rhs), stringify!($method)) }
            }
            impl<T: Numeric> ops::$Trait<Array<T>> for Array<T> {
                type Output = Array<T>;
                fn $method(self, rhs: Array<T>) -> Array<T> { must((&self).$call(&rhs), stringify!($method)) }
            }
            impl<T: Numeric> ops::$Trait<T> for &Array<T> {
                type Output = Array<T>;
                fn $method(self, rhs: T) -> Array<T> { must(self.$call(rhs), stringify!($method)) }
            }
            impl<T: Numeric> ops::$Trait<T> for Array<T> {
                type Output = Array<T>;
                fn $method(self, rhs: T) -> Array<T> { must((&self).$call(rhs), stringify!($method)) }
            }
        )*};
    }
    binary_operators!(Add add => add, Sub sub => sub, Mul mul => mul, Div div => div, Rem rem => rem);

    macro_rules! scalar_left {
        ($($t:ty),*) => {$(
            impl ops::Add<&Array<$t>> for $t {
                type Output = Array<$t>;
                fn add(self, rhs: &Array<$t>) -> Array<$t> { must(rhs.add(self), "add") }
            }
            impl ops::Sub<&Array<$t>> for $t {
                type Output = Array<$t>;
                fn sub(self, rhs: &Array<$t>) -> Array<$t> { must(rhs.rsub(self), "sub") }
            }
            impl ops::Mul<&Array<$t>> for $t {
                type Output = Array<$t>;
                fn mul(self, rhs: &Array<$t>) -> Array<$t> { must(rhs.mul(self), "mul") }
            }
            impl ops::Div<&Array<$t>> for $t {
                type Output = Array<$t>;
                fn div(self, rhs: &Array<$t>) -> Array<$t> { must(rhs.rdiv(self), "div") }
            }
        )*};
    }
    scalar_left!(f64, f32, i64, i32, u8);

    impl<T: Numeric> ops::Neg for &Array<T> {
        type Output = Array<T>;
        fn neg(self) -> Array<T> {
            Array::<T>::neg(self)
        }
    }

    impl<T: Numeric> ops::Neg for Array<T> {
        type Output = Array<T>;
        fn neg(self) -> Array<T> {
            Array::<T>::neg(&self)
        }
    }

    impl ops::Not for &Array<bool> {
        type Output = Array<bool>;
        fn not(self) -> Array<bool> {
            self.logical_not()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_broadcasting() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]), Some(vec![3, 4]));
        assert_eq!(broadcast_shapes(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast_shapes(&[3], &[4]), None);
        assert_eq!(broadcast_shapes(&[0, 1], &[1, 5]), Some(vec![0, 5]));
    }

    #[test]
    fn constants_stay_constant() {
        use ndarray::ArrayD;
        let one = Block::Const { value: 1.0f64, shape: vec![4, 4] };
        let s = zip2(&one, &one, |a, b| a + b).unwrap();
        assert!(matches!(s, Block::Const { value, .. } if value == 2.0));
        let d = Block::Dense(ArrayD::from_elem(IxDyn(&[4, 4]), 3.0));
        assert!(matches!(zip2(&d, &one, |a, b| a * b).unwrap(), Block::Dense(_)));
    }
}
