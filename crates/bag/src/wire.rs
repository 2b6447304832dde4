//! Bags on a cluster: partitions that cross to other processes, and the
//! named tasks of the operations that run there.
//!
//! A closure cannot travel to a worker process, and neither can a
//! partition of a type no process knows how to encode. An item type
//! registered with [`register_items`] gets a codec for its partitions
//! (the built-ins are registered by [`register`]: `String`, [`Json`],
//! `i64`, `u64`, `f64`, `bool`, and `(T, u64)` pairs of the hashable
//! ones), and the bag's built-in operations on it become named tasks:
//! reading text, parsing JSON lines, plucking fields, `count`,
//! `frequencies`, `distinct`. A user's own step is a registered
//! [`crate::ItemFn`] given to [`crate::Bag::flat_map_named`] (item-wise,
//! fused), or a `NamedFn` given to [`crate::Bag::map_partitions_named`]
//! (a partition at a time). Such a bag
//! computes on a cluster (a default client, or `Scheduler::Client`) as on
//! threads; a closure step in it is refused there with an error that says
//! to register a function.
//!
//! The named kernels find the item type from the partition's own type
//! (its `TypeId`), in the table that registration fills.

use std::any::{Any, TypeId};
use std::hash::Hash;
use std::sync::{Arc, OnceLock, RwLock};

use blockwork_graph::{kernel_params, Data, KernelParams, NamedFn, NoParams, TaskError, TaskResult, Value};
use blockwork_graph::{register_codec, Buffer, CodecError};
use rustc_hash::FxHashMap;

use crate::counts::Counts;
use crate::lines::TextFile;
use crate::part::{self, Elem, Part};
use crate::{Json, Stream};

/// An item type whose partitions can cross to other processes: a name
/// that is the same in every process, and a byte form. Implemented for
/// `String`, [`Json`], `i64`, `u64`, `f64`, `bool`, pairs, `Vec` and
/// `Option` of them; implement it for a type of your own and call
/// [`register_items`] (or [`register_counted`]) in every process.
pub trait Wire: Elem {
    /// The type's name on the wire (`"String"`, `"my.LogLine"`).
    fn name() -> String;
    /// Appends the item's bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one item from the front of `bytes`, advancing it.
    fn decode(bytes: &mut &[u8]) -> Result<Self, String>;
}

/// The first `n` bytes of `bytes`, advancing it.
fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if bytes.len() < n {
        return Err(format!("{n} bytes wanted, {} left", bytes.len()));
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn take_u64(bytes: &mut &[u8]) -> Result<u64, String> {
    let b = take(bytes, 8)?;
    Ok(u64::from_le_bytes(b.try_into().map_err(|_| "a short number".to_string())?))
}

macro_rules! wire_number {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn name() -> String {
                stringify!($t).to_string()
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
                let b = take(bytes, std::mem::size_of::<$t>())?;
                Ok(<$t>::from_le_bytes(b.try_into().map_err(|_| "a short number".to_string())?))
            }
        }
    )*};
}
wire_number!(i64, u64, f64);

impl Wire for bool {
    fn name() -> String {
        "bool".into()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
        Ok(take(bytes, 1)?[0] != 0)
    }
}

impl Wire for String {
    fn name() -> String {
        "String".into()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
        let n = take_u64(bytes)? as usize;
        String::from_utf8(take(bytes, n)?.to_vec()).map_err(|e| format!("text that is not UTF-8: {e}"))
    }
}

impl Wire for Json {
    fn name() -> String {
        "Json".into()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.to_string().encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
        serde_json::from_str(&String::decode(bytes)?).map_err(|e| format!("not JSON: {e}"))
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn name() -> String {
        format!("({}, {})", A::name(), B::name())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
        Ok((A::decode(bytes)?, B::decode(bytes)?))
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn name() -> String {
        format!("Vec<{}>", T::name())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        self.iter().for_each(|x| x.encode(out));
    }
    fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
        let n = take_u64(bytes)? as usize;
        // Each item takes at least a byte: a length beyond what is left is corrupt.
        if n > bytes.len() {
            return Err(format!("{n} items in {} bytes", bytes.len()));
        }
        (0..n).map(|_| T::decode(bytes)).collect()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn name() -> String {
        format!("Option<{}>", T::name())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(x) => {
                out.push(1);
                x.encode(out);
            }
        }
    }
    fn decode(bytes: &mut &[u8]) -> Result<Self, String> {
        match take(bytes, 1)?[0] {
            0 => Ok(None),
            _ => Ok(Some(T::decode(bytes)?)),
        }
    }
}

/// A kernel of one partition value.
type Kernel = fn(&Value) -> TaskResult;

/// A consumer of a stream of items (a boxed `Stream<T>`) from a
/// partition value.
pub(crate) type Consumer = fn(&dyn Any, &Value) -> TaskResult;

/// [`Consumer`] of a stream into the file at a path.
pub(crate) type Writer = fn(&dyn Any, &Value, &str) -> TaskResult;

/// What registration knows of one partition type (`Part<T>`).
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    /// `Part<T>`'s type.
    pub(crate) ty: TypeId,
    /// `T`'s wire name, and the codec's type name, `blockwork.bag.part<NAME>`.
    pub(crate) items: &'static str,
    pub(crate) codec: &'static str,
    /// The stream of a partition's own items (a boxed `Stream<T>`).
    pub(crate) source: fn() -> Box<dyn Any>,
    /// A stream's items as a partition, and how many there are.
    pub(crate) collect: Consumer,
    pub(crate) count: Consumer,
    /// `frequencies`' partial of a stream (`T: Hash + Eq`).
    pub(crate) counts: Option<Consumer>,
    /// A stream's items written to a text file, one a line (`T: Display`).
    pub(crate) write: Option<Writer>,
    /// Of a partition of `(T, u64)` counts: partials merged, the last
    /// sorted (most frequent first), and the items alone (`distinct`).
    merge: Option<fn(&[Value]) -> TaskResult>,
    finish: Option<Kernel>,
    firsts: Option<Kernel>,
}

fn table() -> &'static RwLock<FxHashMap<TypeId, Entry>> {
    static TABLE: OnceLock<RwLock<FxHashMap<TypeId, Entry>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

pub(crate) fn entry_of_type(t: TypeId) -> Option<Entry> {
    table().read().unwrap_or_else(|p| p.into_inner()).get(&t).copied()
}

/// The codec name of `Part<T>`'s type, when `T` is registered.
pub(crate) fn codec_name(t: TypeId) -> Option<&'static str> {
    entry_of_type(t).map(|e| e.codec)
}

/// Whether partitions of `T` can cross to other processes.
pub fn is_registered<T: Elem>() -> bool {
    entry_of_type(TypeId::of::<Part<T>>()).is_some()
}

/// Whether `frequencies` of `T` runs as named tasks.
pub(crate) fn is_counted<T: Elem>() -> bool {
    entry_of_type(TypeId::of::<Part<T>>()).is_some_and(|e| e.counts.is_some())
}

/// Whether `to_textfiles` of `T` runs as named tasks.
pub(crate) fn is_written<T: Elem>() -> bool {
    entry_of_type(TypeId::of::<Part<T>>()).is_some_and(|e| e.write.is_some())
}

/// The entry of a partition value's type; an error names the type when
/// it was not registered.
pub(crate) fn entry_of(v: &Value, what: &str) -> Result<Entry, TaskError> {
    let Value::Object(o) = v else {
        return Err(TaskError::new(format!("{what}: expected a bag partition, got {v:?}")));
    };
    let any: &dyn Any = &**o;
    // The lines of a text file are a partition of `String`s.
    let ty = if any.is::<TextFile>() { TypeId::of::<Part<String>>() } else { any.type_id() };
    entry_of_type(ty).ok_or_else(|| {
        TaskError::new(format!(
            "{what}: the items of {} are not registered (blockwork_bag::register_items) in this process",
            o.type_name()
        ))
    })
}

fn encode_part<T: Wire>(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let d = d as &dyn Any;
    let items = match d.downcast_ref::<Part<T>>() {
        Some(p) => &p.0[..],
        // A text file's lines are made to cross (a file that cannot be
        // read cannot be encoded, and the codec says so).
        None => crate::lines::as_items::<T>(d.downcast_ref::<TextFile>()?).ok()??,
    };
    let mut out = Vec::with_capacity(8 + std::mem::size_of_val(items));
    out.extend_from_slice(&(items.len() as u64).to_le_bytes());
    items.iter().for_each(|x| x.encode(&mut out));
    Some((Vec::new(), vec![Buffer::from(out)]))
}

fn decode_part<T: Wire>(_meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let [b] = buffers.as_slice() else { return Err(CodecError::new("a bag partition is one buffer")) };
    let mut bytes: &[u8] = b;
    let items =
        Vec::<T>::decode(&mut bytes).map_err(|e| CodecError::new(format!("a bag partition of {}: {e}", T::name())))?;
    if !bytes.is_empty() {
        return Err(CodecError::new(format!(
            "a bag partition of {}: {} bytes after its items",
            T::name(),
            bytes.len()
        )));
    }
    Ok(part::value(items))
}

/// The stream boxed as `Any` (a registered step's or a consumer's
/// input).
pub(crate) fn stream<T: Elem>(s: &dyn Any) -> Result<&Stream<T>, TaskError> {
    s.downcast_ref::<Stream<T>>()
        .ok_or_else(|| TaskError::new(format!("bag steps: not a stream of {}", std::any::type_name::<T>())))
}

fn collect_of<T: Elem>(s: &dyn Any, v: &Value) -> TaskResult {
    let mut items = Vec::new();
    stream::<T>(s)?(v, &mut |x| items.push(x.into_owned()))?;
    Ok(part::value(items))
}

fn count_of<T: Elem>(s: &dyn Any, v: &Value) -> TaskResult {
    let mut n = 0u64;
    stream::<T>(s)?(v, &mut |_| n += 1)?;
    Ok(part::value(vec![n]))
}

fn write_of<T: Elem + std::fmt::Display>(s: &dyn Any, v: &Value, path: &str) -> TaskResult {
    let mut text = String::new();
    stream::<T>(s)?(v, &mut |x| crate::ops::push_line(&mut text, &*x))?;
    crate::read::write_text_file(path, text).map_err(|e| TaskError::environment(format!("writing {path}: {e}")))?;
    Ok(Value::Unit)
}

/// [`register_items`], and `to_textfiles` of `T` (one item a line) as
/// named tasks.
pub fn register_text<T: Wire + std::fmt::Display>() {
    add::<T>(|e| e.write = Some(write_of::<T>));
}

fn counts_of<T: Wire + Hash + Eq>(s: &dyn Any, v: &Value) -> TaskResult {
    let mut c = Counts::default();
    stream::<T>(s)?(v, &mut |x| c.add_cow(x, 1))?;
    Ok(part::value(c.into_pairs()))
}

/// Registers the partitions of `T` in this process: their codec, and the
/// named tasks of `count`, `from_sequence` and item-wise built-ins on
/// them. Call it at start-up in every process (client and workers) that
/// computes bags of `T` on a cluster; registering twice is fine.
pub fn register_items<T: Wire>() {
    add::<T>(|_| {});
}

/// [`register_items`], and `frequencies` and `distinct` of `T` as named
/// tasks (their partials are partitions of `(T, u64)`, registered too).
pub fn register_counted<T: Wire + Hash + Eq>() {
    add::<T>(|e| e.counts = Some(counts_of::<T>));
    add::<(T, u64)>(|e| {
        e.merge = Some(merge_counts::<T>);
        e.finish = Some(sort_counts::<T>);
        e.firsts = Some(firsts_of::<T>);
    });
}

/// Adds (or completes) the entry of `Part<T>`.
fn add<T: Wire>(fill: impl FnOnce(&mut Entry)) {
    let mut table = table().write().unwrap_or_else(|p| p.into_inner());
    let entry = table.entry(TypeId::of::<Part<T>>()).or_insert_with(|| {
        // Leaked once per registered type: codec names are 'static.
        let items: &'static str = Box::leak(T::name().into_boxed_str());
        let codec: &'static str = Box::leak(format!("blockwork.bag.part<{items}>").into_boxed_str());
        register_codec(codec, encode_part::<T>, decode_part::<T>);
        Entry {
            ty: TypeId::of::<Part<T>>(),
            items,
            codec,
            source: || Box::new(crate::direct::<T>()),
            collect: collect_of::<T>,
            count: count_of::<T>,
            counts: None,
            write: None,
            merge: None,
            finish: None,
            firsts: None,
        }
    });
    fill(entry);
}

/// Registers the built-in item types and the bag's named tasks: what a
/// worker process needs to compute bags (the facade's
/// `register_builtins` calls it).
pub fn register() {
    register_counted::<String>();
    register_counted::<i64>();
    register_counted::<u64>();
    register_counted::<bool>();
    register_items::<Json>();
    register_items::<f64>();
    register_text::<String>();
    register_text::<Json>();
    register_text::<i64>();
    register_text::<u64>();
    register_text::<f64>();
    register_text::<bool>();
    crate::named::register_numbers::<i64>();
    crate::named::register_numbers::<u64>();
    crate::named::register_numbers::<f64>();
    crate::named::register_extremes::<String>();
    crate::named::register_extremes::<bool>();
    for f in NAMED {
        blockwork_graph::register(f);
    }
}

fn merge_counts<T: Wire + Hash + Eq>(vs: &[Value]) -> TaskResult {
    let mut c = Counts::default();
    for v in vs {
        for (x, n) in part::items::<(T, u64)>(v)? {
            c.add_cow(std::borrow::Cow::Borrowed(x), *n);
        }
    }
    Ok(part::value(c.into_pairs()))
}

fn sort_counts<T: Wire + Hash + Eq>(v: &Value) -> TaskResult {
    let mut pairs = part::items::<(T, u64)>(v)?.to_vec();
    pairs.sort_by_key(|p| std::cmp::Reverse(p.1));
    Ok(part::value(pairs))
}

fn firsts_of<T: Wire + Hash + Eq>(v: &Value) -> TaskResult {
    Ok(part::value(part::items::<(T, u64)>(v)?.iter().map(|(x, _)| x.clone()).collect::<Vec<T>>()))
}

/// The one input of a per-partition task.
fn one<'a>(args: &'a [Value], what: &str) -> Result<&'a Value, TaskError> {
    match args {
        [v] => Ok(v),
        _ => Err(TaskError::new(format!("{what} takes one partition, got {} inputs", args.len()))),
    }
}

fn sum_u64_kernel(_: &Value, args: Vec<Value>) -> TaskResult {
    let mut total = 0u64;
    for v in &args {
        total += part::items::<u64>(v)?.iter().sum::<u64>();
    }
    Ok(part::value(vec![total]))
}

/// The `(T, u64)` entry's function `pick` of the first input.
fn of_counts(args: &[Value], what: &str, pick: fn(&Entry) -> Option<Kernel>) -> TaskResult {
    let v = args.first().ok_or_else(|| TaskError::new(format!("{what} without input")))?;
    let f = pick(&entry_of(v, what)?).ok_or_else(|| TaskError::new(format!("{what}: not a partition of counts")))?;
    f(v)
}

fn merge_kernel(_: &Value, args: Vec<Value>) -> TaskResult {
    let v = args.first().ok_or_else(|| TaskError::new("frequencies-combine without input"))?;
    let f = entry_of(v, "frequencies-combine")?
        .merge
        .ok_or_else(|| TaskError::new("frequencies-combine: not a partition of counts"))?;
    f(&args)
}

fn finish_kernel(_: &Value, args: Vec<Value>) -> TaskResult {
    of_counts(&args, "frequencies", |e| e.finish)
}

fn firsts_kernel(_: &Value, args: Vec<Value>) -> TaskResult {
    of_counts(&args, "distinct", |e| e.firsts)
}

/// Each line of a partition of `String`s parsed as JSON, blank lines
/// skipped (what `Bag<String>::json` does).
fn json_kernel(_: &Value, args: Vec<Value>) -> TaskResult {
    let lines = part::items::<String>(one(&args, "json")?)?;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        out.push(crate::json::parse(line).map_err(TaskError::new)?);
    }
    Ok(part::value(out))
}

kernel_params! {
    /// A field of each record.
    pub(crate) struct PluckParams {
        /// The field's name.
        pub(crate) key: Arc<str>,
        /// The JSON text of the value for records without it; none: such
        /// a record is an error naming the field and the record.
        pub(crate) default: Option<String>,
    }
}

/// Field `key` of each record, or `default` where a record lacks it.
fn pluck_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let PluckParams { key, default } = PluckParams::from_value(params)?;
    // Written from a `Json` by `Bag::pluck_or`: text that does not parse is a bug.
    let default = default
        .map(|d| serde_json::from_str::<Json>(&d))
        .transpose()
        .map_err(|e| TaskError::internal(format!("pluck: the default's JSON: {e}")))?;
    let records = part::items::<Json>(one(&args, "pluck")?)?;
    let out = records
        .iter()
        .map(|rec| crate::json::pluck_one(rec, &key, default.as_ref()))
        .collect::<Result<Vec<Json>, String>>()
        .map_err(TaskError::new)?;
    Ok(part::value(out))
}

pub(crate) static SUM_U64: NamedFn = NamedFn::new("blockwork.bag.sum_u64", sum_u64_kernel).params::<NoParams>();
pub(crate) static FIRST: NamedFn = NamedFn::new("blockwork.bag.first", first_kernel).params::<NoParams>();
pub(crate) static MERGE: NamedFn = NamedFn::new("blockwork.bag.frequencies_combine", merge_kernel).params::<NoParams>();
pub(crate) static SORT: NamedFn = NamedFn::new("blockwork.bag.frequencies", finish_kernel).params::<NoParams>();
pub(crate) static FIRSTS: NamedFn = NamedFn::new("blockwork.bag.distinct", firsts_kernel).params::<NoParams>();
pub(crate) static JSON: NamedFn = NamedFn::new("blockwork.bag.json", json_kernel).params::<NoParams>();
pub(crate) static PLUCK: NamedFn = NamedFn::new("blockwork.bag.pluck", pluck_kernel).params::<PluckParams>();
pub(crate) static READ_TEXT: NamedFn =
    NamedFn::new("blockwork.bag.read_text", crate::read::read_kernel).params::<crate::read::ReadTextParams>();

/// A reduction's last step when the combined partial is the value: the
/// partition as it is.
fn first_kernel(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(one(&args, "reduction")?.clone())
}

const NAMED: &[&NamedFn] = &[
    &crate::step::PIPELINE,
    &crate::named::COMBINE,
    &crate::named::FINISH,
    &SUM_U64,
    &FIRST,
    &MERGE,
    &SORT,
    &FIRSTS,
    &JSON,
    &PLUCK,
    &READ_TEXT,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire + PartialEq>(items: Vec<T>) {
        register_items::<T>();
        let v = part::value(items.clone());
        let Value::Object(o) = &v else { panic!() };
        let name = codec_name(TypeId::of::<Part<T>>()).unwrap();
        assert_eq!(o.type_name(), name);
        let (meta, bufs) = encode_part::<T>(&**o).unwrap();
        let back = decode_part::<T>(&meta, bufs).unwrap();
        assert_eq!(part::items::<T>(&back).unwrap(), items.as_slice());
    }

    #[test]
    fn partitions_round_trip() {
        round_trip(vec!["a\n".to_string(), String::new(), "ünï\r\n".into()]);
        round_trip(vec![1i64, -5, i64::MIN]);
        round_trip(vec![-0.0f64, f64::INFINITY, 1.5, f64::MIN_POSITIVE]);
        round_trip(vec![("x".to_string(), 3u64), ("".into(), 0)]);
        round_trip(vec![serde_json::json!({"a": [1, 2.5, null], "b": "c"}), Json::Null]);
        round_trip(vec![Some(vec![true, false]), None]);
        round_trip(Vec::<u64>::new());
    }

    #[test]
    fn nan_crosses_as_nan() {
        register_items::<f64>();
        let Value::Object(o) = part::value(vec![f64::NAN]) else { panic!() };
        let (meta, bufs) = encode_part::<f64>(&*o).unwrap();
        assert!(part::items::<f64>(&decode_part::<f64>(&meta, bufs).unwrap()).unwrap()[0].is_nan());
    }

    #[test]
    fn corrupt_bytes_are_errors_not_panics() {
        register_items::<String>();
        let mut out = Vec::new();
        vec!["hello".to_string()].encode(&mut out);
        for cut in 0..out.len() {
            assert!(decode_part::<String>(&[], vec![Buffer::from(&out[..cut])]).is_err(), "cut at {cut}");
        }
        let mut long = out.clone();
        long.push(0);
        assert!(decode_part::<String>(&[], vec![Buffer::from(long)]).unwrap_err().to_string().contains("after"));
        let huge = u64::MAX.to_le_bytes();
        assert!(decode_part::<String>(&[], vec![Buffer::from(&huge[..])]).is_err());
        assert!(decode_part::<String>(&[], vec![]).is_err());
    }
}
