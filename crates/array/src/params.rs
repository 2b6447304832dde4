//! Task parameters: small literal lists that travel with named ops.

use blockwork_graph::{TaskError, Value};

use crate::dtype::DType;

/// Reads a parameter list.
pub(crate) struct Params<'a>(&'a [Value]);

impl<'a> Params<'a> {
    pub(crate) fn of(v: &'a Value) -> Result<Self, TaskError> {
        v.as_list().map(Params).ok_or_else(|| TaskError::new("array op parameters must be a list"))
    }

    fn get(&self, i: usize) -> Result<&'a Value, TaskError> {
        self.0.get(i).ok_or_else(|| TaskError::new(format!("missing array op parameter {i}")))
    }

    pub(crate) fn value(&self, i: usize) -> Result<&'a Value, TaskError> {
        self.get(i)
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64, TaskError> {
        match self.get(i)? {
            Value::Int(x) => Ok(*x),
            other => Err(TaskError::new(format!("parameter {i}: expected an int, found {}", other.type_name()))),
        }
    }

    pub(crate) fn usize(&self, i: usize) -> Result<usize, TaskError> {
        usize::try_from(self.int(i)?).map_err(|_| TaskError::new(format!("parameter {i}: negative")))
    }

    pub(crate) fn float(&self, i: usize) -> Result<f64, TaskError> {
        match self.get(i)? {
            Value::Float(x) => Ok(*x),
            Value::Int(x) => Ok(*x as f64),
            other => Err(TaskError::new(format!("parameter {i}: expected a float, found {}", other.type_name()))),
        }
    }

    pub(crate) fn bool(&self, i: usize) -> Result<bool, TaskError> {
        match self.get(i)? {
            Value::Bool(b) => Ok(*b),
            other => Err(TaskError::new(format!("parameter {i}: expected a bool, found {}", other.type_name()))),
        }
    }

    pub(crate) fn dtype(&self, i: usize) -> Result<DType, TaskError> {
        DType::from_code(self.int(i)?).ok_or_else(|| TaskError::new(format!("parameter {i}: not a dtype")))
    }

    pub(crate) fn usizes(&self, i: usize) -> Result<Vec<usize>, TaskError> {
        match self.get(i)? {
            Value::List(xs) => xs
                .iter()
                .map(|x| match x {
                    Value::Int(v) if *v >= 0 => Ok(*v as usize),
                    _ => Err(TaskError::new(format!("parameter {i}: expected a list of sizes"))),
                })
                .collect(),
            other => Err(TaskError::new(format!("parameter {i}: expected a list, found {}", other.type_name()))),
        }
    }

    pub(crate) fn i64s(&self, i: usize) -> Result<Vec<i64>, TaskError> {
        match self.get(i)? {
            Value::List(xs) => xs
                .iter()
                .map(|x| match x {
                    Value::Int(v) => Ok(*v),
                    _ => Err(TaskError::new(format!("parameter {i}: expected a list of ints"))),
                })
                .collect(),
            other => Err(TaskError::new(format!("parameter {i}: expected a list, found {}", other.type_name()))),
        }
    }
}

/// A list of sizes as a parameter.
pub(crate) fn sizes(v: &[usize]) -> Value {
    Value::List(v.iter().map(|&x| Value::Int(x as i64)).collect())
}

/// A list of ints as a parameter.
pub(crate) fn ints(v: &[i64]) -> Value {
    Value::List(v.iter().map(|&x| Value::Int(x)).collect())
}

/// A parameter list.
pub(crate) fn list(v: Vec<Value>) -> Value {
    Value::List(v.into())
}
