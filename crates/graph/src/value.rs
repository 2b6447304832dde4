//! Values: what tasks take and return.
//!
//! A [`Value`] is cheap to clone (scalars inline, everything else behind an
//! `Arc`), so handing one result to many dependents never copies data.
//! Scalars, strings, bytes and lists are built in; anything else (an
//! ndarray block, a table partition, a user's type) is an [`Object`]: a
//! type-erased `Arc<dyn Data>` that knows its size in bytes. This crate
//! never sees ndarray or Polars: the collections implement [`Data`] for
//! their blocks.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::token::{Tokenize, Tokenizer};

/// A user's or a collection's own block type, carried inside a [`Value`].
pub trait Data: Any + Send + Sync + fmt::Debug {
    /// Bytes of memory this value holds (for memory accounting and spilling).
    fn nbytes(&self) -> usize;

    /// A short name of the type, used in error messages.
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

/// A type-erased [`Data`] value.
pub type Object = Arc<dyn Data>;

/// The dynamic value type of task inputs and results.
#[derive(Clone, Default)]
pub enum Value {
    /// Nothing (a task run for its effect).
    #[default]
    Unit,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// Raw bytes.
    Bytes(Arc<[u8]>),
    /// A list of values.
    List(Arc<[Value]>),
    /// Any other data: blocks, partitions, user types.
    Object(Object),
}

impl Value {
    /// Bytes of memory held by this value (shared data counted in full).
    pub fn nbytes(&self) -> usize {
        let inline = std::mem::size_of::<Value>();
        match self {
            Value::Unit | Value::Bool(_) | Value::Int(_) | Value::Float(_) => inline,
            Value::Str(s) => inline + s.len(),
            Value::Bytes(b) => inline + b.len(),
            Value::List(xs) => inline + xs.iter().map(Value::nbytes).sum::<usize>(),
            Value::Object(o) => inline + o.nbytes(),
        }
    }

    /// The kind of value, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Unit => "unit",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Object(o) => o.type_name(),
        }
    }

    /// Wraps any [`Data`] as an object value.
    pub fn object<T: Data>(x: T) -> Value {
        Value::Object(Arc::new(x))
    }

    /// Borrows the object inside as a `T`, if it is one.
    pub fn downcast_ref<T: Data>(&self) -> Option<&T> {
        match self {
            Value::Object(o) => (o.as_ref() as &dyn Any).downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The object inside as a shared `T`, if it is one.
    pub fn downcast_arc<T: Data>(&self) -> Option<Arc<T>> {
        match self {
            Value::Object(o) => {
                let any: Arc<dyn Any + Send + Sync> = o.clone();
                any.downcast::<T>().ok()
            }
            _ => None,
        }
    }

    /// The elements of a list value.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(xs) => Some(xs),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unit => write!(f, "()"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Value::List(xs) if xs.len() > 8 => write!(f, "[… {} values]", xs.len()),
            Value::List(xs) => f.debug_list().entries(xs.iter()).finish(),
            Value::Object(o) => write!(f, "<{} of {} bytes>", o.type_name(), o.nbytes()),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality; objects are equal only when they are the same
    /// allocation.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Unit, Value::Unit) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Tokenize for Value {
    /// Objects have no content hash here; collections tokenize their
    /// blocks themselves and pass the token instead of the object.
    fn tokenize(&self, t: &mut Tokenizer) {
        match self {
            Value::Unit => {
                t.tag(40);
            }
            Value::Bool(b) => {
                t.tag(41).add(b);
            }
            Value::Int(i) => {
                t.tag(42).add(i);
            }
            Value::Float(x) => {
                t.tag(43).add(&x.to_bits());
            }
            Value::Str(s) => {
                t.tag(44).add(&**s);
            }
            Value::Bytes(b) => {
                t.tag(45).bytes(&(b.len() as u64).to_le_bytes()).bytes(b);
            }
            Value::List(xs) => {
                t.tag(46).add(&(xs.len() as u64));
                for x in xs.iter() {
                    x.tokenize(t);
                }
            }
            Value::Object(o) => {
                t.tag(47).add(&(Arc::as_ptr(o) as *const () as usize));
            }
        }
    }
}

/// Conversion of a Rust value into a [`Value`].
pub trait IntoValue {
    /// Converts.
    fn into_value(self) -> Value;
}

/// Conversion of a [`Value`] back into a Rust value; the error says what
/// was found instead.
pub trait FromValue: Sized {
    /// Converts, or says what the value was instead.
    fn from_value(v: Value) -> Result<Self, ValueTypeError>;
}

/// A value of the wrong kind reached typed code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found}")]
pub struct ValueTypeError {
    /// The Rust type that was wanted.
    pub expected: &'static str,
    /// The kind of value that arrived.
    pub found: &'static str,
}

impl ValueTypeError {
    fn new<T>(found: &Value) -> Self {
        ValueTypeError { expected: std::any::type_name::<T>(), found: found.type_name() }
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl FromValue for Value {
    fn from_value(v: Value) -> Result<Self, ValueTypeError> {
        Ok(v)
    }
}

macro_rules! scalar_conv {
    ($variant:ident, $via:ty: $($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Value {
                Value::$variant(self as $via)
            }
        }
        impl FromValue for $t {
            fn from_value(v: Value) -> Result<Self, ValueTypeError> {
                match v {
                    Value::$variant(x) => Ok(x as $t),
                    other => Err(ValueTypeError::new::<$t>(&other)),
                }
            }
        }
    )*};
}
scalar_conv!(Int, i64: i64, i32, u32, u64, usize);
scalar_conv!(Float, f64: f64, f32);

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl FromValue for bool {
    fn from_value(v: Value) -> Result<Self, ValueTypeError> {
        match v {
            Value::Bool(b) => Ok(b),
            other => Err(ValueTypeError::new::<bool>(&other)),
        }
    }
}

impl IntoValue for () {
    fn into_value(self) -> Value {
        Value::Unit
    }
}

impl FromValue for () {
    fn from_value(v: Value) -> Result<Self, ValueTypeError> {
        match v {
            Value::Unit => Ok(()),
            other => Err(ValueTypeError::new::<()>(&other)),
        }
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::Str(self.into())
    }
}

impl IntoValue for &str {
    fn into_value(self) -> Value {
        Value::Str(self.into())
    }
}

impl FromValue for String {
    fn from_value(v: Value) -> Result<Self, ValueTypeError> {
        match v {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(ValueTypeError::new::<String>(&other)),
        }
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Self, ValueTypeError> {
        match v {
            Value::List(xs) => xs.iter().cloned().map(T::from_value).collect(),
            other => Err(ValueTypeError::new::<Vec<T>>(&other)),
        }
    }
}

macro_rules! tuple_conv {
    ($n:expr; $($i:tt $T:ident),+) => {
        impl<$($T: IntoValue),+> IntoValue for ($($T,)+) {
            fn into_value(self) -> Value {
                Value::List(vec![$(self.$i.into_value()),+].into())
            }
        }
        impl<$($T: FromValue),+> FromValue for ($($T,)+) {
            fn from_value(v: Value) -> Result<Self, ValueTypeError> {
                match v {
                    Value::List(xs) if xs.len() == $n => Ok(($($T::from_value(xs[$i].clone())?,)+)),
                    other => Err(ValueTypeError::new::<Self>(&other)),
                }
            }
        }
    };
}
tuple_conv!(2; 0 A, 1 B);
tuple_conv!(3; 0 A, 1 B, 2 C);
tuple_conv!(4; 0 A, 1 B, 2 C, 3 D);

/// A typed handle for [`Data`] objects in typed APIs: `Obj<T>` converts to
/// and from [`Value::Object`].
#[derive(Debug)]
pub struct Obj<T>(pub Arc<T>);

impl<T> Clone for Obj<T> {
    fn clone(&self) -> Self {
        Obj(Arc::clone(&self.0))
    }
}

impl<T> std::ops::Deref for Obj<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Data> IntoValue for Obj<T> {
    fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

impl<T: Data> FromValue for Obj<T> {
    fn from_value(v: Value) -> Result<Self, ValueTypeError> {
        v.downcast_arc::<T>().map(Obj).ok_or_else(|| ValueTypeError::new::<T>(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Block(Vec<f64>);
    impl Data for Block {
        fn nbytes(&self) -> usize {
            self.0.len() * 8
        }
    }

    #[test]
    fn sizes() {
        assert!(std::mem::size_of::<Value>() <= 24);
        assert_eq!(Value::object(Block(vec![0.0; 10])).nbytes(), 24 + 80);
        assert_eq!(vec![1i64, 2].into_value().nbytes(), 24 * 3);
    }

    #[test]
    fn conversions_round_trip_and_say_what_was_found() {
        assert_eq!(i64::from_value(5i64.into_value()), Ok(5));
        assert_eq!(<(i64, String)>::from_value((1i64, "a").into_value()), Ok((1, "a".to_string())));
        let err = f64::from_value("x".into_value()).unwrap_err();
        assert_eq!(err.to_string(), "expected f64, found str");
        let o = Value::object(Block(vec![1.0]));
        assert_eq!(Obj::<Block>::from_value(o.clone()).unwrap().0 .0, vec![1.0]);
        assert_eq!(o.downcast_ref::<Block>().unwrap().0.len(), 1);
    }
}
