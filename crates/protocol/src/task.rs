//! Tasks on the wire: the scheduler's [`Payload`].
//!
//! The scheduler forwards a task to a worker without looking inside, so a
//! task is encoded once, by the client, into one self-contained byte
//! string: a small frame without magic, version or kind (those are the
//! enclosing frame's), whose metadata is
//!
//! ```text
//!  task := str(function name) value(params) count arg*
//!  arg  := 0x00 key                 reference to another task's result
//!        | 0x01 value               literal
//!        | 0x02 count arg*          list
//!        | 0x03 task                nested task
//!        | 0x04 key task            task fused here, keeping its key for errors
//! ```
//!
//! and whose buffers are those of its literals (a big literal array stays
//! a raw buffer). A closure cannot be encoded: the error names the task
//! and says how to register a named function. Decoding looks each
//! function up in this process's [`blockwork_graph::registry`].

use blockwork_graph::{registry, Arg, Key, Op, OpKind, Task};
use blockwork_scheduler::Payload;

use crate::error::{EncodeError, ProtocolError};
use crate::frame::Buffer;
use crate::value::{read_value, write_value};
use crate::wire::{Reader, Writer, MAX_DEPTH};

const REF: u8 = 0;
const LIT: u8 = 1;
const LIST: u8 = 2;
const TASK: u8 = 3;
const FUSED: u8 = 4;

/// Encodes the task stored under `key` into the payload the scheduler
/// forwards to workers.
pub fn encode_task(key: &Key, task: &Task<Key>) -> Result<Payload, EncodeError> {
    let mut w = Writer::default();
    write_task(&mut w, key, task, 0)?;
    // Self-contained: u32 metadata length, u32 buffer count, u64 lengths,
    // metadata, buffers.
    let total = 8 + 8 * w.buffers.len() + w.meta.len() + w.buffers.iter().map(|b| b.len()).sum::<usize>();
    let meta_len = u32::try_from(w.meta.len()).map_err(|_| EncodeError::TooLarge {
        field: "task metadata length",
        value: w.meta.len() as u64,
        limit: u64::from(u32::MAX),
    })?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&meta_len.to_le_bytes());
    out.extend_from_slice(&(w.buffers.len() as u32).to_le_bytes());
    for b in &w.buffers {
        out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(&w.meta);
    for b in &w.buffers {
        out.extend_from_slice(b);
    }
    Ok(out.into())
}

/// Decodes the payload of the task stored under `key` (the key is only
/// used to name the task in errors).
pub fn decode_task(key: &Key, payload: &[u8]) -> Result<Task<Key>, ProtocolError> {
    let mut at = 0usize;
    let mut take = |n: usize, field: &'static str| -> Result<&[u8], ProtocolError> {
        if n > payload.len() - at {
            return Err(ProtocolError::Truncated { field });
        }
        at += n;
        Ok(&payload[at - n..at])
    };
    let u32_of = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let meta_len = u32_of(take(4, "task metadata length")?) as usize;
    let nbufs = u32_of(take(4, "task buffer count")?) as usize;
    // Each length takes 8 bytes: a count the payload cannot back is
    // refused before anything is reserved for it.
    if nbufs > payload.len() / 8 {
        return Err(ProtocolError::Truncated { field: "task buffer lengths" });
    }
    let mut lens = Vec::with_capacity(nbufs);
    for _ in 0..nbufs {
        let b = take(8, "task buffer length")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        lens.push(u64::from_le_bytes(a));
    }
    let meta = take(meta_len, "task metadata")?;
    let mut buffers = Vec::with_capacity(nbufs);
    for len in lens {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        buffers.push(Buffer::from(take(len, "task buffer")?));
    }
    if at != payload.len() {
        return Err(ProtocolError::TrailingBytes { what: "a task payload", count: (payload.len() - at) as u64 });
    }
    let mut r = Reader::new(meta, buffers);
    let task = read_task(&mut r, key)?;
    r.finish("a task")?;
    Ok(task)
}

/// The scheduler's view of a task: its key, its inputs (each once, in the
/// order the task first refers to them), its place in the static order,
/// and the encoded task.
pub fn task_spec(key: &Key, task: &Task<Key>, priority: u32) -> Result<blockwork_scheduler::TaskSpec, EncodeError> {
    let payload = encode_task(key, task)?;
    let mut deps: Vec<Key> = Vec::new();
    let mut seen: rustc_hash::FxHashSet<&Key> = rustc_hash::FxHashSet::default();
    task.visit_refs(&mut |k| {
        if seen.insert(k) {
            deps.push(k.clone());
        }
    });
    Ok(blockwork_scheduler::TaskSpec::new(key.clone(), deps, priority, payload))
}

fn write_task(w: &mut Writer, key: &Key, task: &Task<Key>, depth: u32) -> Result<(), EncodeError> {
    if depth >= MAX_DEPTH {
        return Err(EncodeError::TooDeep { what: format!("the arguments of task {key}"), limit: MAX_DEPTH });
    }
    match task.op.kind() {
        OpKind::Named { func, params } => {
            w.str(func.name);
            write_value(w, params)?;
        }
        OpKind::Local { label, .. } => {
            return Err(EncodeError::LocalOp { key: key.clone(), label: label.to_string() });
        }
    }
    w.len(task.args.len());
    for a in task.args.iter() {
        write_arg(w, key, a, depth + 1)?;
    }
    Ok(())
}

fn write_arg(w: &mut Writer, key: &Key, a: &Arg<Key>, depth: u32) -> Result<(), EncodeError> {
    if depth >= MAX_DEPTH {
        return Err(EncodeError::TooDeep { what: format!("the arguments of task {key}"), limit: MAX_DEPTH });
    }
    match a {
        Arg::Ref(k) => {
            w.u8(REF);
            w.key(k);
        }
        Arg::Lit(v) => {
            w.u8(LIT);
            write_value(w, v)?;
        }
        Arg::List(xs) => {
            w.u8(LIST);
            w.len(xs.len());
            for x in xs {
                write_arg(w, key, x, depth + 1)?;
            }
        }
        Arg::Task(t) => {
            w.u8(TASK);
            write_task(w, key, t, depth + 1)?;
        }
        Arg::Fused(kt) => {
            w.u8(FUSED);
            w.key(&kt.0);
            write_task(w, &kt.0, &kt.1, depth + 1)?;
        }
    }
    Ok(())
}

fn read_task(r: &mut Reader<'_>, key: &Key) -> Result<Task<Key>, ProtocolError> {
    r.enter("task arguments")?;
    let name = r.str("function name")?;
    let func = registry(name).ok_or_else(|| ProtocolError::UnknownFunction { key: key.clone(), name: name.into() })?;
    let params = read_value(r)?;
    let n = r.count("task arguments")?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        args.push(read_arg(r, key)?);
    }
    r.leave();
    Ok(Task::new(Op::named(func, params), args))
}

fn read_arg(r: &mut Reader<'_>, key: &Key) -> Result<Arg<Key>, ProtocolError> {
    Ok(match r.u8("argument tag")? {
        REF => Arg::Ref(r.key()?),
        LIT => Arg::Lit(read_value(r)?),
        LIST => {
            r.enter("task arguments")?;
            let n = r.count("argument list")?;
            let mut xs = Vec::with_capacity(n);
            for _ in 0..n {
                xs.push(read_arg(r, key)?);
            }
            r.leave();
            Arg::List(xs)
        }
        TASK => Arg::Task(Box::new(read_task(r, key)?)),
        FUSED => {
            let inner = r.key()?;
            let t = read_task(r, &inner)?;
            Arg::Fused(Box::new((inner, t)))
        }
        x => return Err(ProtocolError::Invalid { field: "argument tag", value: u64::from(x) }),
    })
}

#[cfg(test)]
mod tests {
    use blockwork_graph::{builtins, lit, r, NamedFn, TaskError, TaskResult, Value};

    use super::*;

    fn add(_: &Value, args: Vec<Value>) -> TaskResult {
        args.iter()
            .map(|v| match v {
                Value::Int(i) => Ok(*i),
                _ => Err(TaskError::new("ints only")),
            })
            .sum::<Result<i64, _>>()
            .map(Value::Int)
    }
    static ADD: NamedFn = NamedFn::new("test.protocol.add", add);

    fn sample() -> Task<Key> {
        blockwork_graph::register(&ADD);
        let inner = Task::new(Op::named(&ADD, Value::Unit), vec![r(Key::block("x", &[0])), lit(2i64)]);
        Task::new(
            Op::named(&builtins::LIST, Value::Str("p".into())),
            vec![
                r(Key::block("x", &[1])),
                Arg::List(vec![lit(1i64), r(Key::block("x", &[0]))]),
                Arg::Task(Box::new(inner.clone())),
                Arg::Fused(Box::new((Key::block("y", &[3]), inner))),
                Arg::Lit(Value::Bytes(vec![9u8; 4000].into())),
            ],
        )
    }

    #[test]
    fn a_task_round_trips_and_still_runs() {
        let t = sample();
        let k = Key::new("out");
        let p = encode_task(&k, &t).unwrap();
        let back = decode_task(&k, &p).unwrap();
        assert_eq!(format!("{back:?}"), format!("{t:?}"));
        let lookup = |k: &Key| Value::Int(i64::from(k.index()[0]) + 10);
        assert_eq!(back.eval(&lookup), t.eval(&lookup));
    }

    #[test]
    fn task_spec_lists_each_input_once_in_order() {
        let spec = task_spec(&Key::new("out"), &sample(), 7).unwrap();
        assert_eq!(spec.deps, vec![Key::block("x", &[1]), Key::block("x", &[0])]);
        assert_eq!(spec.priority, 7);
    }

    #[test]
    fn a_closure_is_an_error_naming_the_key_and_the_fix() {
        let local = Task::new(Op::local("my-closure", |_| Ok(Value::Unit)), vec![]);
        let t = Task::new(
            Op::named(&builtins::IDENTITY, Value::Unit),
            vec![Arg::Fused(Box::new((Key::block("f", &[2]), local)))],
        );
        let e = encode_task(&Key::new("top"), &t).unwrap_err();
        assert_eq!(e, EncodeError::LocalOp { key: Key::block("f", &[2]), label: "my-closure".into() });
        let msg = e.to_string();
        assert!(
            msg.contains("(\"f\", 2)") && msg.contains("NamedFn") && msg.contains("blockwork_graph::register"),
            "{msg}"
        );
    }

    #[test]
    fn an_unknown_function_is_an_error_naming_it_and_the_key() {
        static NOT_REGISTERED: NamedFn = NamedFn::new("test.protocol.nowhere", add);
        let t = Task::new(Op::named(&NOT_REGISTERED, Value::Unit), vec![]);
        let k = Key::block("z", &[4]);
        let p = encode_task(&k, &t).unwrap();
        let e = decode_task(&k, &p).unwrap_err();
        assert_eq!(e, ProtocolError::UnknownFunction { key: k, name: "test.protocol.nowhere".into() });
        assert!(e.to_string().contains("blockwork_graph::register"));
        let python = ProtocolError::UnknownFunction { key: Key::new("f-1"), name: "blockwork.python.call".into() };
        assert!(python.to_string().contains("python -m blockwork worker"), "{python}");
    }

    #[test]
    fn truncated_payloads_are_errors() {
        let k = Key::new("out");
        let p = encode_task(&k, &sample()).unwrap();
        for cut in 0..p.len() {
            assert!(decode_task(&k, &p[..cut]).is_err(), "cut at {cut}");
        }
    }
}
