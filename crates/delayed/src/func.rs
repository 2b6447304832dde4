//! Typed Rust functions as delayed calls.
//!
//! [`func`] wraps a closure of up to six arguments; calling the wrapper
//! with a tuple of inputs (literals, `Delayed`s, or `Vec`s of `Delayed`s)
//! records a node instead of running it. Arguments and results cross the
//! graph as [`Value`]s and are converted back with [`FromValue`], so a
//! type mismatch is a task error naming the key, never undefined behaviour.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use blockwork_graph::{
    tokenize, FromValue, IntoValue, KernelParams, Key, NamedFn, NoParams, Obj, Op, TaskError, TaskResult, Tokenize,
    Tokenizer, Value,
};

use crate::node::{Node, NodeArg};
use crate::Delayed;

/// What a delayed function may return: a value, or a `Result` whose error
/// becomes the task's error.
pub trait TaskOutput {
    /// The type the delayed result computes to.
    type Output;
    /// Into a task result.
    fn into_task_result(self) -> TaskResult;
}

macro_rules! plain_output {
    ($($t:ty),*) => {$(
        impl TaskOutput for $t {
            type Output = $t;
            fn into_task_result(self) -> TaskResult {
                Ok(self.into_value())
            }
        }
    )*};
}
plain_output!(i64, i32, u32, u64, usize, f64, f32, bool, (), String, Value);

impl<T: IntoValue> TaskOutput for Vec<T> {
    type Output = Vec<T>;
    fn into_task_result(self) -> TaskResult {
        Ok(self.into_value())
    }
}

impl<T: blockwork_graph::Data> TaskOutput for Obj<T> {
    type Output = Obj<T>;
    fn into_task_result(self) -> TaskResult {
        Ok(self.into_value())
    }
}

impl<A: IntoValue, B: IntoValue> TaskOutput for (A, B) {
    type Output = (A, B);
    fn into_task_result(self) -> TaskResult {
        Ok(self.into_value())
    }
}

impl<T: IntoValue, E: std::fmt::Display> TaskOutput for Result<T, E> {
    type Output = T;
    fn into_task_result(self) -> TaskResult {
        self.map(IntoValue::into_value).map_err(TaskError::new)
    }
}

/// A Rust function callable on task values, for argument tuples `Args`.
pub trait TaskFn<Args>: Send + Sync + 'static {
    /// What the result computes to.
    type Output;
    /// Converts the values, calls, converts the result.
    fn call_values(&self, args: Vec<Value>) -> TaskResult;
}

/// One input of a delayed call that computes to a `T`.
pub trait IntoArg<T> {
    /// The node argument.
    fn into_arg(self) -> NodeArg;
}

impl<T: IntoValue> IntoArg<T> for T {
    fn into_arg(self) -> NodeArg {
        NodeArg::Lit(self.into_value())
    }
}

impl<T> IntoArg<T> for &Delayed<T> {
    fn into_arg(self) -> NodeArg {
        NodeArg::Node(Arc::clone(&self.node))
    }
}

impl<T> IntoArg<T> for Delayed<T> {
    fn into_arg(self) -> NodeArg {
        NodeArg::Node(self.node)
    }
}

impl<T> IntoArg<Vec<T>> for &[Delayed<T>] {
    fn into_arg(self) -> NodeArg {
        NodeArg::List(self.iter().map(|d| NodeArg::Node(Arc::clone(&d.node))).collect())
    }
}

impl<T> IntoArg<Vec<T>> for &Vec<Delayed<T>> {
    fn into_arg(self) -> NodeArg {
        self.as_slice().into_arg()
    }
}

impl<T> IntoArg<Vec<T>> for Vec<Delayed<T>> {
    fn into_arg(self) -> NodeArg {
        NodeArg::List(self.into_iter().map(|d| NodeArg::Node(d.node)).collect())
    }
}

/// A tuple of inputs for a function taking `Args`.
pub trait Inputs<Args> {
    /// The node arguments, in order.
    fn into_args(self) -> Vec<NodeArg>;
}

fn next_arg<T: FromValue>(it: &mut std::vec::IntoIter<Value>, pos: usize) -> Result<T, TaskError> {
    let v = it.next().ok_or_else(|| TaskError::new(format!("missing argument {pos}")))?;
    T::from_value(v).map_err(|e| TaskError::new(format!("argument {pos}: {e}")))
}

macro_rules! arity {
    ($($A:ident $I:ident $v:ident $i:tt),*) => {
        impl<F, R, $($A: FromValue),*> TaskFn<($($A,)*)> for F
        where
            F: Fn($($A),*) -> R + Send + Sync + 'static,
            R: TaskOutput,
        {
            type Output = R::Output;
            #[allow(unused_mut, unused_variables)]
            fn call_values(&self, args: Vec<Value>) -> TaskResult {
                let n = args.len();
                let mut it = args.into_iter();
                $(let $v: $A = next_arg(&mut it, $i)?;)*
                if it.next().is_some() {
                    return Err(TaskError::new(format!("too many arguments: {n}")));
                }
                (self)($($v),*).into_task_result()
            }
        }

        impl<$($A, $I: IntoArg<$A>),*> Inputs<($($A,)*)> for ($($I,)*) {
            #[allow(unused_variables, clippy::unused_unit)]
            fn into_args(self) -> Vec<NodeArg> {
                let ($($v,)*) = self;
                vec![$($v.into_arg()),*]
            }
        }
    };
}
arity!();
arity!(A IA a 0);
arity!(A IA a 0, B IB b 1);
arity!(A IA a 0, B IB b 1, C IC c 2);
arity!(A IA a 0, B IB b 1, C IC c 2, D ID d 3);
arity!(A IA a 0, B IB b 1, C IC c 2, D ID d 3, E IE e 4);
arity!(A IA a 0, B IB b 1, C IC c 2, D ID d 3, E IE e 4, G IG g 5);

/// A Rust function wrapped so that calling it builds a graph node.
pub struct DelayedFn<F, Args> {
    name: Arc<str>,
    op: Op,
    pure: bool,
    type_token: u64,
    _f: PhantomData<fn(Args) -> F>,
}

impl<F, Args> Clone for DelayedFn<F, Args> {
    fn clone(&self) -> Self {
        DelayedFn {
            name: self.name.clone(),
            op: self.op.clone(),
            pure: self.pure,
            type_token: self.type_token,
            _f: PhantomData,
        }
    }
}

/// Wraps a closure or function: `func("add", |a: i64, b: i64| a + b)`.
///
/// Calls are *impure* by default, as in `dask.delayed`: every call is a
/// new task with a fresh key. Use [`DelayedFn::pure`] for functions whose
/// result depends only on their inputs, so equal calls share one key.
/// The closure runs only in this process; for a cluster, use [`named`].
pub fn func<Args, F: TaskFn<Args>>(name: &str, f: F) -> DelayedFn<F, Args> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::any::TypeId::of::<F>().hash(&mut h);
    let f = Arc::new(f);
    let op = Op::local(name, move |args| f.call_values(args));
    DelayedFn { name: name.into(), op, pure: false, type_token: h.finish(), _f: PhantomData }
}

static CALLS: AtomicU64 = AtomicU64::new(0);

fn nonce() -> u64 {
    use std::sync::OnceLock;
    static NONCE: OnceLock<u64> = OnceLock::new();
    *NONCE.get_or_init(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        tokenize(&(t.as_nanos(), u64::from(std::process::id()))).0 as u64
    })
}

/// A fresh key for an impure call.
pub(crate) fn unique_key(name: &str) -> Key {
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    Key::new(format!("{name}-{}", tokenize(&(nonce(), n))))
}

pub(crate) fn pure_key(name: &str, op_token: &dyn Fn(&mut Tokenizer), args: &[NodeArg]) -> Key {
    let mut t = Tokenizer::new();
    t.add(name);
    op_token(&mut t);
    t.add(&(args.len() as u64));
    args.iter().for_each(|a| a.tokenize(&mut t));
    Key::new(format!("{name}-{}", t.finish()))
}

impl<F: TaskFn<Args>, Args> DelayedFn<F, Args> {
    /// Marks the function pure: equal calls share one key and are
    /// computed once.
    pub fn pure(mut self) -> Self {
        self.pure = true;
        self
    }

    /// Records a call. `inputs` is a tuple: `(&x, 2)`, `(vec_of_delayed,)`.
    pub fn call<I: Inputs<Args>>(&self, inputs: I) -> Delayed<F::Output> {
        let args = inputs.into_args();
        let key = if self.pure {
            let tt = self.type_token;
            pure_key(
                &self.name,
                &|t: &mut Tokenizer| {
                    t.add(&tt);
                },
                &args,
            )
        } else {
            unique_key(&self.name)
        };
        Delayed::from_node(Node { key, op: self.op.clone(), args })
    }
}

/// A registered [`NamedFn`] as a delayed function: the calls it records
/// can run on any process that registered the same function. Named calls
/// are pure: the key is a token of the name, parameters and inputs.
#[derive(Clone)]
pub struct NamedDelayed {
    func: &'static NamedFn,
    params: Value,
}

/// Wraps a registered function (see [`blockwork_graph::NamedFn`]). Its
/// calls pass [`NoParams`] until [`NamedDelayed::params`] sets others.
pub fn named(func: &'static NamedFn) -> NamedDelayed {
    blockwork_graph::register(func);
    NamedDelayed { func, params: NoParams {}.to_value() }
}

impl NamedDelayed {
    /// Sets the literal parameters passed to every call: the value of the
    /// parameters the function declared (`P { .. }.to_value()` for
    /// `NamedFn::params::<P>()`, see [`blockwork_graph::kernel_params!`]),
    /// or the one plain value of `NamedFn::takes`.
    pub fn params(mut self, params: impl IntoValue) -> Self {
        self.params = params.into_value();
        self
    }

    /// Records a call on untyped inputs; `T` is what the result computes to.
    pub fn call<T>(&self, args: Vec<NodeArg>) -> Delayed<T> {
        let op = Op::named(self.func, self.params.clone());
        let key = pure_key(self.func.name, &|t: &mut Tokenizer| op.tokenize(t), &args);
        Delayed::from_node(Node { key, op, args })
    }
}

/// An input for [`NamedDelayed::call`]: a delayed value or a literal.
pub fn arg<T, I: IntoArg<T>>(x: I) -> NodeArg {
    x.into_arg()
}
