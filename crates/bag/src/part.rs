//! A partition as a task value: the items of one partition in a `Vec`,
//! shared by the tasks that read it (or the lines of a text file, read
//! where they are used: `crate::lines`).

use blockwork_graph::{Data, TaskError, Value};

use crate::lines::{as_items, TextFile};

/// What a bag can hold: any owned, shareable value (`String`, numbers,
/// tuples, records of your own).
pub trait Elem: Clone + Send + Sync + std::fmt::Debug + 'static {}

impl<T: Clone + Send + Sync + std::fmt::Debug + 'static> Elem for T {}

/// The items of one partition.
#[derive(Debug)]
pub(crate) struct Part<T>(pub Vec<T>);

impl<T: Elem> Data for Part<T> {
    /// The items' own sizes (a `String`'s text is not counted).
    fn nbytes(&self) -> usize {
        self.0.len() * std::mem::size_of::<T>()
    }

    /// The codec name of its item type when that is registered for the
    /// wire (`crate::wire`), else "bag partition".
    fn type_name(&self) -> &'static str {
        crate::wire::codec_name(std::any::TypeId::of::<Self>()).unwrap_or("bag partition")
    }
}

/// A partition's value.
pub(crate) fn value<T: Elem>(items: Vec<T>) -> Value {
    Value::object(Part(items))
}

/// The items of a partition's value; an error names the types when the
/// value is something else.
pub(crate) fn items<T: Elem>(v: &Value) -> Result<&[T], TaskError> {
    if let Some(p) = v.downcast_ref::<Part<T>>() {
        return Ok(&p.0);
    }
    if let Some(items) = v.downcast_ref::<TextFile>().map(as_items::<T>).transpose()?.flatten() {
        return Ok(items);
    }
    Err(TaskError::new(format!("expected a bag partition of {}, got {v:?}", std::any::type_name::<T>())))
}
