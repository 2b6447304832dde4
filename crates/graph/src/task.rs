//! Task specifications: an operation and its arguments.
//!
//! An argument is a reference to another task's result, a literal value,
//! a list of arguments, or a whole nested task (what fusion and inlining
//! produce: the nested task runs inside its parent, and its result never
//! exists as a separate key). The reference type is a parameter: users and
//! collections write [`TaskSpec`]s that refer to [`Key`]s; a built
//! [`crate::Graph`] holds `Task<TaskId>`s, resolved once.

use crate::op::{Op, TaskError, TaskResult};
use crate::value::Value;
use crate::Key;

/// Dense id of a task inside one [`crate::Graph`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct TaskId(pub u32);

impl TaskId {
    /// As an index into per-task arrays.
    #[inline]
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// One argument of a task.
#[derive(Clone, Debug)]
pub enum Arg<R = TaskId> {
    /// The result of another task.
    Ref(R),
    /// A literal.
    Lit(Value),
    /// A list, passed to the op as a [`Value::List`].
    List(Vec<Arg<R>>),
    /// A task evaluated in place, whose result is the argument.
    Task(Box<Task<R>>),
    /// A task that was a graph node of its own under this key until fusion
    /// or inlining moved it here; errors and panics inside it still name
    /// the key.
    Fused(Box<(Key, Task<R>)>),
}

/// An operation applied to arguments.
#[derive(Clone, Debug)]
pub struct Task<R = TaskId> {
    /// What to do.
    pub op: Op,
    /// With what (a boxed slice: two words, not three, per task).
    pub args: Box<[Arg<R>]>,
}

/// A task as users write it: references are keys.
pub type TaskSpec = Task<Key>;

impl<R> Arg<R> {
    fn visit_refs<'a>(&'a self, f: &mut impl FnMut(&'a R)) {
        match self {
            Arg::Ref(r) => f(r),
            Arg::Lit(_) => {}
            Arg::List(xs) => xs.iter().for_each(|x| x.visit_refs(f)),
            Arg::Task(t) => t.visit_refs(f),
            Arg::Fused(kt) => kt.1.visit_refs(f),
        }
    }

    fn try_map<S, E>(self, f: &mut impl FnMut(R) -> Result<S, E>) -> Result<Arg<S>, E> {
        Ok(match self {
            Arg::Ref(r) => Arg::Ref(f(r)?),
            Arg::Lit(v) => Arg::Lit(v),
            Arg::List(xs) => Arg::List(xs.into_iter().map(|x| x.try_map(f)).collect::<Result<_, _>>()?),
            Arg::Task(t) => Arg::Task(Box::new(t.try_map_refs_inner(f)?)),
            Arg::Fused(kt) => {
                let (k, t) = *kt;
                Arg::Fused(Box::new((k, t.try_map_refs_inner(f)?)))
            }
        })
    }

    fn eval(&self, lookup: &impl Fn(&R) -> Value) -> TaskResult {
        Ok(match self {
            Arg::Ref(r) => lookup(r),
            Arg::Lit(v) => v.clone(),
            Arg::List(xs) => Value::List(xs.iter().map(|x| x.eval(lookup)).collect::<Result<_, _>>()?),
            Arg::Task(t) => t.eval(lookup)?,
            Arg::Fused(kt) => eval_fused(&kt.0, &kt.1, lookup)?,
        })
    }

    fn replace(self, f: &mut impl FnMut(R) -> Arg<R>) -> Arg<R> {
        match self {
            Arg::Ref(r) => f(r),
            Arg::Lit(v) => Arg::Lit(v),
            Arg::List(xs) => Arg::List(xs.into_iter().map(|x| x.replace(f)).collect()),
            Arg::Task(t) => Arg::Task(Box::new(t.replace_refs_inner(f))),
            Arg::Fused(kt) => {
                let (k, t) = *kt;
                Arg::Fused(Box::new((k, t.replace_refs_inner(f))))
            }
        }
    }

    fn depth(&self) -> usize {
        match self {
            Arg::Ref(_) | Arg::Lit(_) => 0,
            Arg::List(xs) => xs.iter().map(Arg::depth).max().unwrap_or(0),
            Arg::Task(t) => t.depth(),
            Arg::Fused(kt) => kt.1.depth(),
        }
    }
}

impl<R> Task<R> {
    /// A task.
    pub fn new(op: Op, args: Vec<Arg<R>>) -> Self {
        Task { op, args: args.into_boxed_slice() }
    }

    /// Calls `f` on every reference, nested ones included, in argument order.
    pub fn visit_refs<'a>(&'a self, f: &mut impl FnMut(&'a R)) {
        self.args.iter().for_each(|a| a.visit_refs(f));
    }

    /// Rewrites every reference, failing on the first error.
    pub fn try_map_refs<S, E>(self, mut f: impl FnMut(R) -> Result<S, E>) -> Result<Task<S>, E> {
        self.try_map_refs_inner(&mut f)
    }

    fn try_map_refs_inner<S, E>(self, f: &mut impl FnMut(R) -> Result<S, E>) -> Result<Task<S>, E> {
        let args = Vec::from(self.args).into_iter().map(|a| a.try_map(f)).collect::<Result<_, _>>()?;
        Ok(Task { op: self.op, args })
    }

    /// Rewrites every reference.
    pub fn map_refs<S>(self, mut f: impl FnMut(R) -> S) -> Task<S> {
        match self.try_map_refs_inner(&mut |r| Ok::<S, std::convert::Infallible>(f(r))) {
            Ok(t) => t,
            Err(never) => match never {},
        }
    }

    /// Replaces references by whole arguments (how fusion nests a task).
    pub fn replace_refs(self, mut f: impl FnMut(R) -> Arg<R>) -> Task<R> {
        self.replace_refs_inner(&mut f)
    }

    fn replace_refs_inner(self, f: &mut impl FnMut(R) -> Arg<R>) -> Task<R> {
        let args = Vec::from(self.args).into_iter().map(|a| a.replace(f)).collect();
        Task { op: self.op, args }
    }

    /// Evaluates the task, looking references up with `lookup`.
    pub fn eval(&self, lookup: &impl Fn(&R) -> Value) -> TaskResult {
        let args = self.args.iter().map(|a| a.eval(lookup)).collect::<Result<Vec<_>, TaskError>>()?;
        self.op.call(args)
    }

    /// Nesting depth: 1 for a plain task, more for fused ones.
    pub fn depth(&self) -> usize {
        1 + self.args.iter().map(Arg::depth).max().unwrap_or(0)
    }

    /// Whether every op inside can run in another process.
    pub fn is_serializable(&self) -> bool {
        fn arg_ok<R>(a: &Arg<R>) -> bool {
            match a {
                Arg::Ref(_) | Arg::Lit(_) => true,
                Arg::List(xs) => xs.iter().all(arg_ok),
                Arg::Task(t) => t.is_serializable(),
                Arg::Fused(kt) => kt.1.is_serializable(),
            }
        }
        self.op.is_serializable() && self.args.iter().all(arg_ok)
    }
}

/// A panic inside a fused task, re-raised with the key it had before
/// fusion so the scheduler can name it.
pub struct FusedPanic {
    /// The key of the task that panicked.
    pub key: Key,
    /// The original panic payload.
    pub payload: Box<dyn std::any::Any + Send>,
}

/// The message of a caught panic (its `&str` or `String` payload).
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

fn eval_fused<R>(key: &Key, task: &Task<R>, lookup: &impl Fn(&R) -> Value) -> TaskResult {
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    match catch_unwind(AssertUnwindSafe(|| task.eval(lookup))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(mut e)) => {
            e.key.get_or_insert_with(|| key.clone());
            Err(e)
        }
        Err(payload) if payload.is::<FusedPanic>() => resume_unwind(payload),
        Err(payload) => resume_unwind(Box::new(FusedPanic { key: key.clone(), payload })),
    }
}

/// Shorthand for a reference argument.
pub fn r<R>(key: impl Into<R>) -> Arg<R> {
    Arg::Ref(key.into())
}

/// Shorthand for a literal argument.
pub fn lit<R>(v: impl crate::IntoValue) -> Arg<R> {
    Arg::Lit(v.into_value())
}
