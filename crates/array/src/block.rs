//! Blocks: what array tasks exchange.
//!
//! A block is an owned `ndarray::ArrayD<T>`, or a constant: a value and a
//! shape, with no memory behind it. `ones((100_000,), chunks)` therefore
//! allocates nothing, and a sum over it is a multiplication per block.
//! Kernels that need elements call [`Block::view`], which materializes a
//! constant once per task (the one place a constant costs memory).

use std::borrow::Cow;

use blockwork_graph::{Data, TaskError, Value};
use ndarray::{ArrayD, IxDyn};

use crate::dtype::Element;

/// One block of an array of `T`.
#[derive(Clone, Debug)]
pub enum Block<T> {
    /// Elements in memory.
    Dense(ArrayD<T>),
    /// Every element equal to `value`.
    Const {
        /// The value.
        value: T,
        /// The block's shape.
        shape: Vec<usize>,
    },
}

impl<T: Element> Data for Block<T> {
    fn nbytes(&self) -> usize {
        match self {
            Block::Dense(a) => a.len() * std::mem::size_of::<T>(),
            Block::Const { shape, .. } => std::mem::size_of::<T>() + shape.len() * 8,
        }
    }

    fn type_name(&self) -> &'static str {
        match T::DTYPE {
            crate::DType::F64 => "float64 block",
            crate::DType::F32 => "float32 block",
            crate::DType::I64 => "int64 block",
            crate::DType::I32 => "int32 block",
            crate::DType::U8 => "uint8 block",
            crate::DType::Bool => "bool block",
            crate::DType::C128 => "complex128 block",
            crate::DType::C64 => "complex64 block",
        }
    }
}

impl<T: Element> Block<T> {
    /// The block's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Block::Dense(a) => a.shape(),
            Block::Const { shape, .. } => shape,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements (a constant is materialized here).
    pub fn view(&self) -> Cow<'_, ArrayD<T>> {
        match self {
            Block::Dense(a) => Cow::Borrowed(a),
            Block::Const { value, shape } => Cow::Owned(ArrayD::from_elem(IxDyn(shape), *value)),
        }
    }

    /// The elements, owned.
    pub fn into_dense(self) -> ArrayD<T> {
        match self {
            Block::Dense(a) => a,
            Block::Const { value, shape } => ArrayD::from_elem(IxDyn(&shape), value),
        }
    }

    /// Wraps as a task value.
    pub fn into_value(self) -> Value {
        Value::object(self)
    }
}

/// The block inside a task value, or an error saying what it was instead.
pub fn block_of<T: Element>(v: &Value) -> Result<&Block<T>, TaskError> {
    v.downcast_ref::<Block<T>>()
        .ok_or_else(|| TaskError::new(format!("expected a {} block, found {}", T::DTYPE, v.type_name())))
}
