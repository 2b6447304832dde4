//! Item-wise steps: what `map`, `filter` and `flat_map` become, fused
//! into the task that next needs the items; and registered steps
//! ([`ItemFn`]), which fuse the same way on a cluster's workers.
//!
//! A closure step is a `Stream` built on this machine and runs only
//! here. A registered step is known by name in every process that calls
//! [`register_step`]: a bag whose pending steps are all registered sends
//! their names with the task that consumes its items (a count, the
//! partial counts of `frequencies`, or the bag's own partitions), and
//! that task — on any worker — rebuilds the same stream from the names
//! (`PIPELINE`). No intermediate bag's partition is built anywhere.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock, RwLock};

use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, TaskError, TaskResult, Value};
use rustc_hash::FxHashMap;

use crate::part::{Elem, Part};
use crate::wire::{entry_of, entry_of_type, register_items, Wire};
use crate::{Bag, Stream};

/// Where a step hands its outputs: [`Emit::push`] an owned item,
/// [`Emit::push_ref`] a borrowed one (copied only by whatever keeps it),
/// and, for text, [`Emit::push_str`] a borrowed `&str` (no `String` is
/// made for each: a `frequencies` that has seen the word already only
/// looks it up).
pub struct Emit<'a, U: Clone> {
    sink: &'a mut dyn FnMut(Cow<'_, U>),
    /// The one buffer `push_str` reuses.
    text: String,
}

impl<'a, U: Clone> Emit<'a, U> {
    pub(crate) fn new(sink: &'a mut dyn FnMut(Cow<'_, U>)) -> Self {
        Emit { sink, text: String::new() }
    }

    /// Hands on `item`.
    pub fn push(&mut self, item: U) {
        (self.sink)(Cow::Owned(item))
    }

    /// Hands on a borrowed `item`: whatever keeps it copies it.
    pub fn push_ref(&mut self, item: &U) {
        (self.sink)(Cow::Borrowed(item))
    }
}

impl Emit<'_, String> {
    /// Hands on `text` as a `String` item, copied only by whatever keeps it.
    pub fn push_str(&mut self, text: &str) {
        self.text.clear();
        self.text.push_str(text);
        (self.sink)(Cow::Borrowed(&self.text))
    }
}

/// `each`'s items through `f`: the stream of what `f` emits.
pub(crate) fn then<T: Elem, U: Elem>(
    each: Stream<T>,
    f: impl Fn(&T, &mut Emit<'_, U>) + Send + Sync + 'static,
) -> Stream<U> {
    Arc::new(move |v, sink: &mut dyn FnMut(Cow<'_, U>)| {
        let mut out = Emit::new(sink);
        each(v, &mut |x| f(&x, &mut out))
    })
}

/// An item-wise step known by name in every process, so that it runs on
/// a cluster's workers (fused there as closures are here):
///
/// ```
/// use blockwork_bag::{Emit, ItemFn};
/// fn words(line: &str, out: &mut Emit<'_, String>) {
///     line.split_whitespace().for_each(|w| out.push_str(w));
/// }
/// static WORDS: ItemFn<String, String> = ItemFn::text("myapp.words", words);
///
/// fn doubled(x: &i64, out: &mut Emit<'_, i64>) {
///     out.push(2 * x);
/// }
/// static DOUBLED: ItemFn<i64, i64> = ItemFn::new("myapp.doubled", doubled);
/// ```
///
/// A map pushes one output per item, a filter zero or one. Call
/// [`register_step`] with it at start-up in every worker process
/// ([`Bag::flat_map_named`] registers it in the calling one).
pub struct ItemFn<T, U: Clone> {
    /// Its name, the same in every process (`"myapp.words"`).
    pub name: &'static str,
    body: Body<T, U>,
}

/// The function of a step: of the items, or of text items as `&str`.
enum Body<T, U: Clone> {
    Items(fn(&T, &mut Emit<'_, U>)),
    Text(fn(&str, &mut Emit<'_, U>)),
}

impl<T, U: Clone> Clone for Body<T, U> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, U: Clone> Copy for Body<T, U> {}

impl<T, U: Clone> ItemFn<T, U> {
    /// The step `f`, known as `name`.
    pub const fn new(name: &'static str, f: fn(&T, &mut Emit<'_, U>)) -> Self {
        ItemFn { name, body: Body::Items(f) }
    }
}

impl<U: Clone> ItemFn<String, U> {
    /// A step of text items whose function takes `&str`, as most text
    /// functions do.
    pub const fn text(name: &'static str, f: fn(&str, &mut Emit<'_, U>)) -> Self {
        ItemFn { name, body: Body::Text(f) }
    }
}

impl<T: Elem, U: Elem> ItemFn<T, U> {
    /// `each`'s items through the step.
    fn stream(&self, each: Stream<T>) -> Stream<U> {
        match self.body {
            Body::Items(f) => then(each, f),
            // Made by `ItemFn::<String, _>::text` only: the items are `String`s.
            Body::Text(f) => then(each, move |x, out| {
                if let Some(text) = (x as &dyn Any).downcast_ref::<String>() {
                    f(text, out)
                }
            }),
        }
    }
}

/// A registered step, its types erased: the stream of its inputs (a
/// boxed `Stream<T>`) becomes the stream of its outputs.
struct StepEntry {
    input: TypeId,
    output: TypeId,
    names: (String, String),
    compose: Compose,
}

/// A boxed `Stream<T>` to a boxed `Stream<U>` (`None`: not a `Stream<T>`).
type Compose = Box<dyn Fn(Box<dyn Any>) -> Option<Box<dyn Any>> + Send + Sync>;

fn steps() -> &'static RwLock<FxHashMap<&'static str, Arc<StepEntry>>> {
    static STEPS: OnceLock<RwLock<FxHashMap<&'static str, Arc<StepEntry>>>> = OnceLock::new();
    STEPS.get_or_init(Default::default)
}

/// Makes `step` known in this process by its name, with its item types
/// (whose partitions it registers too). Call it at start-up in every
/// worker process; registering twice is fine.
pub fn register_step<T: Wire, U: Wire>(step: &'static ItemFn<T, U>) {
    register_items::<T>();
    register_items::<U>();
    let entry = StepEntry {
        input: TypeId::of::<Part<T>>(),
        output: TypeId::of::<Part<U>>(),
        names: (T::name(), U::name()),
        compose: Box::new(move |input| {
            let each = *input.downcast::<Stream<T>>().ok()?;
            Some(Box::new(step.stream(each)) as Box<dyn Any>)
        }),
    };
    steps().write().unwrap_or_else(|p| p.into_inner()).insert(step.name, Arc::new(entry));
}

impl<T: Elem> Bag<T> {
    /// The items `step` emits for every item, in order: as
    /// [`Bag::flat_map_with`], with a registered step, so that the bag
    /// still computes on a cluster (where the step runs fused into the
    /// task that consumes the items, as a closure does here).
    pub fn flat_map_named<U: Wire>(&self, step: &'static ItemFn<T, U>) -> Bag<U>
    where
        T: Wire,
    {
        register_step(step);
        let mut bag = self.with_stream(step.stream(self.each()));
        bag.steps = self.steps.as_ref().map(|s| s.iter().copied().chain([step.name]).collect());
        bag
    }

    /// The named task that runs the pending registered steps on a
    /// partition and then a consumer on their items (`consumer` makes its
    /// parameters of the steps' names); `None` after a closure step, or
    /// when the items' type is not registered.
    pub(crate) fn pipeline(&self, consumer: impl FnOnce(Vec<Arc<str>>) -> PipelineParams) -> Option<Op> {
        let steps = self.steps.as_ref()?;
        crate::wire::is_registered::<T>()
            .then(|| Op::named(&PIPELINE, consumer(steps.iter().map(|s| (*s).into()).collect()).to_value()))
    }
}

kernel_params! {
    /// A partition's items through registered steps (`steps`, their
    /// names in order), then to a consumer: the variant.
    pub(crate) enum PipelineParams {
        /// The items, as a partition.
        Items { steps: Vec<Arc<str>> },
        /// How many there are.
        Count { steps: Vec<Arc<str>> },
        /// `frequencies`' partial: each distinct item and its count.
        Frequencies { steps: Vec<Arc<str>> },
        /// Written to the text file `path`, one a line.
        Write { path: Arc<str>, steps: Vec<Arc<str>> },
        /// The partial of the registered reducer `reducer`, with its
        /// argument (see `ReduceParams`).
        Reduce { reducer: Arc<str>, arg: Option<usize>, steps: Vec<Arc<str>> },
    }
}

impl PipelineParams {
    /// The names of the steps, in order.
    fn steps(&self) -> &[Arc<str>] {
        match self {
            PipelineParams::Items { steps }
            | PipelineParams::Count { steps }
            | PipelineParams::Frequencies { steps }
            | PipelineParams::Write { steps, .. }
            | PipelineParams::Reduce { steps, .. } => steps,
        }
    }
}

/// Runs the steps of [`PipelineParams`] on the partition `args[0]`, then
/// its consumer on their items.
fn pipeline_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = PipelineParams::from_value(params)?;
    let [v] = args.as_slice() else { return Err(TaskError::new("bag steps: one partition is wanted")) };
    let source = entry_of(v, "bag steps")?;
    let (mut stream, mut ty, mut at) = ((source.source)(), source.ty, source.items.to_string());
    for name in p.steps() {
        let name = &**name;
        let step = steps().read().unwrap_or_else(|p| p.into_inner()).get(name).cloned().ok_or_else(|| {
            TaskError::new(format!(
                "bag step {name:?} is not registered in this process: call blockwork_bag::register_step \
                 with it at start-up in every worker process"
            ))
        })?;
        if step.input != ty {
            return Err(TaskError::new(format!(
                "bag step {name:?} takes items of {}, but is given items of {at}",
                step.names.0
            )));
        }
        stream = (step.compose)(stream).ok_or_else(|| TaskError::new(format!("bag step {name:?}: stream type")))?;
        (ty, at) = (step.output, step.names.1.clone());
    }
    let last =
        entry_of_type(ty).ok_or_else(|| TaskError::new(format!("bag steps: items of {at} are not registered")))?;
    let unknown = |consumer: &str| TaskError::new(format!("bag steps: no {consumer} of items of {at}"));
    match &p {
        PipelineParams::Items { .. } => (last.collect)(&*stream, v),
        PipelineParams::Count { .. } => (last.count)(&*stream, v),
        PipelineParams::Frequencies { .. } => last.counts.ok_or_else(|| unknown("frequencies"))?(&*stream, v),
        PipelineParams::Write { path, .. } => last.write.ok_or_else(|| unknown("write"))?(&*stream, v, path),
        PipelineParams::Reduce { reducer: name, arg, .. } => {
            let reducer = crate::named::reducer(name)?;
            if reducer.input != ty {
                return Err(TaskError::new(format!(
                    "bag reduction {name:?} takes items of {}, but is given items of {at}",
                    reducer.input_name
                )));
            }
            (reducer.partial)(*arg, &*stream, v)
        }
    }
}

/// Registered steps and a consumer, fused in one task.
pub(crate) static PIPELINE: NamedFn = NamedFn::new("blockwork.bag.steps", pipeline_kernel).params::<PipelineParams>();

#[cfg(test)]
mod tests {
    use super::*;

    fn length(word: &str, out: &mut Emit<'_, u64>) {
        out.push(word.len() as u64);
    }
    static LENGTH: ItemFn<String, u64> = ItemFn::text("test.step.length", length);

    fn steps(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|s| (*s).into()).collect()
    }

    fn run(params: &Value, partition: Value) -> Result<Value, String> {
        pipeline_kernel(params, vec![partition]).map_err(|e| e.message)
    }

    #[test]
    fn wrong_steps_are_named() {
        crate::register();
        register_step(&LENGTH);
        let words = crate::part::value(vec!["sea".to_string(), "ice".into()]);
        let items = |names: &[&str]| PipelineParams::Items { steps: steps(names) }.to_value();
        let n = run(&PipelineParams::Count { steps: steps(&["test.step.length"]) }.to_value(), words.clone()).unwrap();
        assert_eq!(crate::part::items::<u64>(&n).unwrap(), &[2]);
        let err = run(&items(&["test.step.nope"]), words.clone()).unwrap_err();
        assert!(err.contains("\"test.step.nope\" is not registered") && err.contains("register_step"), "{err}");
        let err = run(&items(&["test.step.length", "test.step.length"]), words.clone()).unwrap_err();
        assert!(err.contains("takes items of String, but is given items of u64"), "{err}");
        let err = run(&items(&["test.step.length"]), crate::part::value(vec![1i64])).unwrap_err();
        assert!(err.contains("given items of i64"), "{err}");
        let freqs = PipelineParams::Frequencies { steps: vec![] }.to_value();
        let err = run(&freqs, crate::part::value(vec![1.5f64])).unwrap_err();
        assert!(err.contains("no frequencies of items of f64"), "{err}");
        let median = Value::List(vec![Value::Str("Median".into()), Value::List(Vec::new().into())].into());
        let err = run(&median, words).unwrap_err();
        assert!(err.contains("no variant \"Median\""), "{err}");
    }
}
