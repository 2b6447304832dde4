//! Built-in named operations every process knows.

use crate::op::{NamedFn, TaskError, TaskResult};
use crate::value::Value;

fn identity(_: &Value, mut args: Vec<Value>) -> TaskResult {
    match args.len() {
        1 => Ok(args.pop().unwrap_or_default()),
        n => Err(TaskError::new(format!("identity takes one argument, got {n}"))),
    }
}

fn constant(params: &Value, _: Vec<Value>) -> TaskResult {
    Ok(params.clone())
}

fn list(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(Value::List(args.into()))
}

fn getitem(params: &Value, args: Vec<Value>) -> TaskResult {
    let (Value::Int(i), [Value::List(xs)]) = (params, args.as_slice()) else {
        return Err(TaskError::new("getitem takes an integer parameter and one list"));
    };
    usize::try_from(*i)
        .ok()
        .and_then(|i| xs.get(i).cloned())
        .ok_or_else(|| TaskError::new(format!("index {i} out of range for a list of {}", xs.len())))
}

/// Returns its one argument.
pub static IDENTITY: NamedFn = NamedFn::cheap("blockwork.identity", identity).takes("()");
/// Returns its parameter (a literal lifted into the graph).
pub static CONSTANT: NamedFn = NamedFn::cheap("blockwork.constant", constant).takes("Value");
/// Returns its arguments as a list.
pub static LIST: NamedFn = NamedFn::cheap("blockwork.list", list).takes("()");
/// Returns element `params` of its one list argument.
pub static GETITEM: NamedFn = NamedFn::cheap("blockwork.getitem", getitem).takes("i64");

pub(crate) static ALL: &[&NamedFn] = &[&IDENTITY, &CONSTANT, &LIST, &GETITEM];
