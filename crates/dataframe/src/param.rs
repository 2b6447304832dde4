//! Task parameters: the operations' descriptions as graph values, so a
//! task crosses to a worker process as data (a tag and its fields) and
//! tokenizes by what it does.

use std::sync::Arc;

use blockwork_graph::{TaskError, Value};

/// A description that travels as a task parameter.
pub(crate) trait Param: Sized {
    /// As a value.
    fn to_value(&self) -> Value;
    /// Back from a value; `None` when it is not one.
    fn from_value(v: &Value) -> Option<Self>;
}

/// A tagged list: `[tag, fields...]`.
pub(crate) fn tagged(tag: &str, fields: impl IntoIterator<Item = Value>) -> Value {
    Value::List(std::iter::once(Value::Str(tag.into())).chain(fields).collect::<Vec<_>>().into())
}

/// The tag and fields of a tagged list.
pub(crate) fn untag(v: &Value) -> Option<(&str, &[Value])> {
    match v.as_list()? {
        [Value::Str(tag), rest @ ..] => Some((tag, rest)),
        _ => None,
    }
}

pub(crate) fn string(v: &Value) -> Option<Arc<str>> {
    match v {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    }
}

pub(crate) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

pub(crate) fn list<T: Param>(xs: &[T]) -> Value {
    Value::List(xs.iter().map(Param::to_value).collect::<Vec<_>>().into())
}

pub(crate) fn from_list<T: Param>(v: &Value) -> Option<Vec<T>> {
    v.as_list()?.iter().map(T::from_value).collect()
}

/// Decodes a task's parameter, or names what it expected.
pub(crate) fn decode<T: Param>(v: &Value, what: &str) -> Result<T, TaskError> {
    T::from_value(v).ok_or_else(|| TaskError::new(format!("{what}: malformed parameters")))
}

impl Param for String {
    fn to_value(&self) -> Value {
        Value::Str(self.as_str().into())
    }
    fn from_value(v: &Value) -> Option<Self> {
        string(v).map(|s| s.to_string())
    }
}

impl<T: Param> Param for Vec<T> {
    fn to_value(&self) -> Value {
        list(self)
    }
    fn from_value(v: &Value) -> Option<Self> {
        from_list(v)
    }
}

/// The name of `x` in a table of `(value, name)`.
pub(crate) fn name_of<T: Copy + PartialEq>(table: &[(T, &'static str)], x: T) -> &'static str {
    table.iter().find(|(o, _)| *o == x).map_or("?", |(_, n)| n)
}

/// The value named `name` in a table of `(value, name)`.
pub(crate) fn by_name<T: Copy>(table: &[(T, &'static str)], name: &str) -> Option<T> {
    table.iter().find(|(_, n)| *n == name).map(|(o, _)| *o)
}
