//! Operations: what a task does with its arguments.
//!
//! An [`Op`] is either
//! - **named**: a [`NamedFn`] registered under a stable name plus literal
//!   parameters. It can be sent to another process, which looks the name
//!   up in its own [`registry`] and runs the same code; or
//! - **local**: a closure. It runs only in this process; a distributed
//!   client refuses it with an error that says how to register it.
//!
//! Both are cheap to clone (`Arc`/`&'static`).

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use rustc_hash::FxHashMap;

use crate::kind::ErrorKind;
use crate::params::{KernelParams, Layout};
use crate::token::{Tokenize, Tokenizer};
use crate::value::Value;

/// The error a task's function returns. The scheduler adds the key of
/// the task; `key` is set only when the error comes from a task fused
/// into another, and then names the original task. `kind` says whose
/// fault it is ([`ErrorKind`]): the input (the default: a user's function
/// failing, data that does not fit), the environment (a file, the
/// network) or a bug of ours (parameters a kernel cannot read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TaskError {
    /// What went wrong.
    pub message: String,
    /// The fused task it happened in, if any.
    pub key: Option<crate::Key>,
    /// Whose fault it is.
    pub kind: ErrorKind,
}

impl TaskError {
    /// An error of the task's input or function ([`ErrorKind::User`]).
    pub fn new(msg: impl fmt::Display) -> Self {
        TaskError { message: msg.to_string(), key: None, kind: ErrorKind::User }
    }

    /// An error of the environment: a file, the network
    /// ([`ErrorKind::Environment`]).
    pub fn environment(msg: impl fmt::Display) -> Self {
        TaskError { kind: ErrorKind::Environment, ..TaskError::new(msg) }
    }

    /// A bug of ours: a kernel given what it cannot read
    /// ([`ErrorKind::Internal`]).
    pub fn internal(msg: impl fmt::Display) -> Self {
        TaskError { kind: ErrorKind::Internal, ..TaskError::new(msg) }
    }

    /// An error of another type as a task's: its message and its kind.
    ///
    /// ```
    /// use blockwork_graph::{ErrorKind, Fault, TaskError};
    ///
    /// #[derive(Debug)]
    /// struct Offline;
    /// impl std::fmt::Display for Offline {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("the catalogue service is offline")
    ///     }
    /// }
    /// impl std::error::Error for Offline {}
    /// impl Fault for Offline {
    ///     fn kind(&self) -> ErrorKind {
    ///         ErrorKind::Environment
    ///     }
    /// }
    /// let e = TaskError::of(&Offline);
    /// assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Environment, "the catalogue service is offline"));
    /// ```
    pub fn of(e: &(impl crate::Fault + fmt::Display)) -> Self {
        TaskError { kind: e.kind(), ..TaskError::new(e) }
    }
}

/// A message from a user's function: its input's fault.
impl From<String> for TaskError {
    fn from(message: String) -> Self {
        TaskError::new(message)
    }
}

/// A message from a user's function: its input's fault.
impl From<&str> for TaskError {
    fn from(message: &str) -> Self {
        TaskError::new(message)
    }
}

impl From<crate::value::ValueTypeError> for TaskError {
    fn from(e: crate::value::ValueTypeError) -> Self {
        TaskError::new(e)
    }
}

/// What a task function returns.
pub type TaskResult = Result<Value, TaskError>;

/// The signature of a named function: its parameters, then its arguments.
pub type NamedCall = fn(params: &Value, args: Vec<Value>) -> TaskResult;

/// A function with a stable name, so that another process can run it.
///
/// Declare it as a `static` and [`register`] it at start-up in every
/// process that may run it:
///
/// ```
/// use blockwork_graph::{NamedFn, Value, TaskResult};
/// fn add(_params: &Value, args: Vec<Value>) -> TaskResult {
///     let s: i64 = args.iter().map(|v| match v { Value::Int(i) => *i, _ => 0 }).sum();
///     Ok(Value::Int(s))
/// }
/// static ADD: NamedFn = NamedFn::new("example.add", add);
/// blockwork_graph::register(&ADD);
/// ```
pub struct NamedFn {
    /// The stable name, unique in the program (use a `crate.fn` style).
    pub name: &'static str,
    /// The code.
    pub call: NamedCall,
    /// Whether its result is remade in each reader or kept.
    pub remake: Remake,
    /// The layout of its parameters ([`KernelParams::LAYOUT`] and nested
    /// declared types; empty when
    /// they are not declared): peers that registered it with another
    /// layout are refused at the handshake.
    pub layout: Layout,
}

/// Whether a task is run again inside each of its readers instead of
/// having its result kept until the last reader is done (see
/// [`crate::inline_cheap`]). Keeping a result costs memory for as long as
/// readers are still to come; remaking costs the work once per extra
/// reader. Trivial work is always remade, real work always kept, and work
/// in between is weighed per task.
#[derive(Clone, Copy, Debug)]
pub enum Remake {
    /// Keep the result (the default).
    Never,
    /// Trivial work (an alias, taking a list item): remade in every reader.
    Always,
    /// What making the result costs, in nanoseconds per byte of it, from
    /// the task's parameters. A result is remade when the extra work,
    /// `cost × (readers − 1)`, stays within [`REMAKE_BUDGET_NS_PER_BYTE`]:
    /// a block made at memory speed is remade for a few readers and kept
    /// for many; a block that costs more than it weighs is kept.
    ByCost(fn(&Value) -> f64),
}

/// How much extra work per byte of a result is spent remaking it rather
/// than keeping it: about the cost of writing a byte to memory and
/// reading it back a few times, which is what keeping it costs at least.
pub const REMAKE_BUDGET_NS_PER_BYTE: f64 = 1.0;

impl NamedFn {
    /// A named function whose results are kept.
    pub const fn new(name: &'static str, call: NamedCall) -> Self {
        NamedFn { name, call, remake: Remake::Never, layout: Layout::plain("") }
    }

    /// A named function so cheap it is run inside every reader.
    pub const fn cheap(name: &'static str, call: NamedCall) -> Self {
        NamedFn { name, call, remake: Remake::Always, layout: Layout::plain("") }
    }

    /// A named function whose results are remade or kept by their cost
    /// and their number of readers ([`Remake::ByCost`]).
    pub const fn remade_by_cost(name: &'static str, call: NamedCall, ns_per_byte: fn(&Value) -> f64) -> Self {
        NamedFn { name, call, remake: Remake::ByCost(ns_per_byte), layout: Layout::plain("") }
    }

    /// Declares its parameters' type: their layout joins the handshake's
    /// fingerprint (see [`crate::params`]).
    pub const fn params<P: KernelParams>(mut self) -> Self {
        self.layout = Layout { text: P::LAYOUT, nested: P::NESTED };
        self
    }

    /// Declares a parameter that is one plain value rather than a struct
    /// (a literal, an index): `layout` names its type for the fingerprint.
    pub const fn takes(mut self, layout: &'static str) -> Self {
        self.layout = Layout::plain(layout);
        self
    }
}

impl fmt::Debug for NamedFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedFn({})", self.name)
    }
}

type LocalCall = dyn Fn(Vec<Value>) -> TaskResult + Send + Sync;

/// An operation of a task: a cheap, shared handle (one pointer), so the
/// thousands of tasks of one blocked operation share one `Op`.
#[derive(Clone)]
pub struct Op(Arc<OpKind>);

/// What an [`Op`] is.
pub enum OpKind {
    /// A registered function and its parameters.
    Named {
        /// The function.
        func: &'static NamedFn,
        /// Literal parameters, sent along with the name.
        params: Value,
    },
    /// A closure that runs in this process only.
    Local {
        /// A label for progress bars, profiles and errors.
        label: Arc<str>,
        /// The code.
        call: Box<LocalCall>,
        /// Cheap enough to be inlined into dependents.
        cheap: bool,
        /// Holds a process-wide lock while it runs (a Python callable holds
        /// the GIL): see [`Op::local_serial`].
        serial: bool,
        /// Unique in the process for its whole run (its token): an
        /// allocation's address is reused once freed, so two closures made
        /// one after the other could otherwise share a token, and arrays
        /// built from them their keys.
        id: u64,
    },
}

/// The next closure's id.
fn next_local_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Op {
    /// A named operation with parameters.
    pub fn named(func: &'static NamedFn, params: Value) -> Op {
        Op(Arc::new(OpKind::Named { func, params }))
    }

    fn local_with(label: Arc<str>, call: Box<LocalCall>, cheap: bool, serial: bool) -> Op {
        Op(Arc::new(OpKind::Local { label, call, cheap, serial, id: next_local_id() }))
    }

    /// A local closure.
    pub fn local(label: impl Into<Arc<str>>, f: impl Fn(Vec<Value>) -> TaskResult + Send + Sync + 'static) -> Op {
        Op::local_with(label.into(), Box::new(f), false, false)
    }

    /// A local closure that holds a process-wide lock while it runs, as a
    /// Python callable holds the GIL. Two such tasks on two threads mostly
    /// hand the lock back and forth, so the threaded scheduler runs them
    /// one at a time, back to back on one thread, while they are short;
    /// long ones (which release the lock for their heavy part, as NumPy
    /// does on large arrays) run in parallel.
    pub fn local_serial(
        label: impl Into<Arc<str>>,
        f: impl Fn(Vec<Value>) -> TaskResult + Send + Sync + 'static,
    ) -> Op {
        Op::local_with(label.into(), Box::new(f), false, true)
    }

    /// A local closure cheap enough to be inlined into its dependents by
    /// [`crate::inline_cheap`].
    pub fn local_cheap(label: impl Into<Arc<str>>, f: impl Fn(Vec<Value>) -> TaskResult + Send + Sync + 'static) -> Op {
        Op::local_with(label.into(), Box::new(f), true, false)
    }

    /// What the op is.
    pub fn kind(&self) -> &OpKind {
        &self.0
    }

    /// Runs the operation.
    #[inline]
    pub fn call(&self, args: Vec<Value>) -> TaskResult {
        match &*self.0 {
            OpKind::Named { func, params } => (func.call)(params, args),
            OpKind::Local { call, .. } => call(args),
        }
    }

    /// The function's name or the closure's label.
    pub fn name(&self) -> &str {
        match &*self.0 {
            OpKind::Named { func, .. } => func.name,
            OpKind::Local { label, .. } => label,
        }
    }

    /// Whether a result read by `readers` tasks is remade in each of them
    /// rather than kept ([`Remake`]).
    pub fn remade_for(&self, readers: usize) -> bool {
        let remake = match &*self.0 {
            OpKind::Named { func, .. } => func.remake,
            OpKind::Local { cheap: true, .. } => Remake::Always,
            OpKind::Local { cheap: false, .. } => Remake::Never,
        };
        match (remake, &*self.0) {
            (Remake::Never, _) => false,
            (Remake::Always, _) => true,
            (Remake::ByCost(cost), OpKind::Named { params, .. }) => {
                readers <= 1 || cost(params) * (readers - 1) as f64 <= REMAKE_BUDGET_NS_PER_BYTE
            }
            (Remake::ByCost(_), OpKind::Local { .. }) => false,
        }
    }

    /// Whether it holds a process-wide lock while it runs
    /// ([`Op::local_serial`]).
    pub fn is_serial(&self) -> bool {
        matches!(&*self.0, OpKind::Local { serial: true, .. })
    }

    /// Whether it can run in another process.
    pub fn is_serializable(&self) -> bool {
        matches!(&*self.0, OpKind::Named { .. })
    }
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            OpKind::Named { func, params } => write!(f, "{}({params:?})", func.name),
            OpKind::Local { label, .. } => write!(f, "<closure {label}>"),
        }
    }
}

impl Tokenize for Op {
    /// Named ops tokenize by name and parameters; a closure by its id, so
    /// two distinct closures never share a token (not even one made after
    /// the other was freed).
    fn tokenize(&self, t: &mut Tokenizer) {
        match &*self.0 {
            OpKind::Named { func, params } => {
                t.tag(60).add(func.name).add(params);
            }
            OpKind::Local { label, id, .. } => {
                t.tag(61).add(&**label).add(id);
            }
        }
    }
}

fn registry_map() -> &'static RwLock<FxHashMap<&'static str, &'static NamedFn>> {
    static REG: OnceLock<RwLock<FxHashMap<&'static str, &'static NamedFn>>> = OnceLock::new();
    REG.get_or_init(|| {
        let mut m = FxHashMap::default();
        for f in crate::builtins::ALL {
            m.insert(f.name, *f);
        }
        RwLock::new(m)
    })
}

/// Registers a named function so this process can run it when a graph
/// arrives from elsewhere. Registering the same function twice is fine;
/// two different functions under one name is a bug and panics.
pub fn register(f: &'static NamedFn) {
    let mut m = registry_map().write().unwrap_or_else(|e| e.into_inner());
    if let Some(old) = m.insert(f.name, f) {
        assert!(
            std::ptr::eq(old, f) || old.call as usize == f.call as usize,
            "two different functions registered under the name {:?}",
            f.name
        );
    }
}

/// Every function registered in this process, by name, with the layout
/// of its parameters and of the declared types nested in them ([`Layout::describe`];
/// empty where undeclared): what a peer's handshake compares.
pub fn registry_layouts() -> Vec<(&'static str, String)> {
    let m = registry_map().read().unwrap_or_else(|e| e.into_inner());
    let mut v: Vec<_> = m.values().map(|f| (f.name, f.layout.describe())).collect();
    v.sort_unstable();
    v
}

/// Looks a named function up by name.
pub fn registry(name: &str) -> Option<&'static NamedFn> {
    registry_map().read().unwrap_or_else(|e| e.into_inner()).get(name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(_: &Value, args: Vec<Value>) -> TaskResult {
        match args.as_slice() {
            [Value::Int(i)] => Ok(Value::Int(i * 2)),
            _ => Err(TaskError::new("double wants one int")),
        }
    }
    static DOUBLE: NamedFn = NamedFn::new("test.double", double);

    #[test]
    fn named_ops_register_and_run() {
        register(&DOUBLE);
        register(&DOUBLE);
        let f = registry("test.double").unwrap();
        let op = Op::named(f, Value::Unit);
        assert_eq!(op.call(vec![Value::Int(4)]), Ok(Value::Int(8)));
        assert!(op.is_serializable());
        assert!(registry("blockwork.identity").is_some());
        assert!(registry("nope").is_none());
    }

    #[test]
    fn a_closure_made_after_another_is_freed_has_its_own_token() {
        let first = crate::tokenize(&Op::local("f", |_| Ok(Value::Unit)));
        for _ in 0..100 {
            assert_ne!(crate::tokenize(&Op::local("f", |_| Ok(Value::Unit))), first);
        }
    }

    #[test]
    fn closures_have_distinct_tokens() {
        let a = Op::local("f", |_| Ok(Value::Unit));
        let b = Op::local("f", |_| Ok(Value::Unit));
        assert_ne!(crate::tokenize(&a), crate::tokenize(&b));
        assert_eq!(crate::tokenize(&a), crate::tokenize(&a.clone()));
        assert!(!a.is_serializable());
    }
}
