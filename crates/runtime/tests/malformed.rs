//! Hundreds of malformed connections at the scheduler's port and at every
//! worker's data port: garbage, bad magic, oversized length fields,
//! unknown kinds, truncated frames, frames of the wrong direction, and
//! metadata that does not parse after a valid handshake. Each closes only
//! its own connection; nothing panics; the cluster then computes.
//!
//! In a file of its own: it counts panics with a process-wide hook.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use blockwork_graph::{lit, r, Graph, Key, NamedFn, Op, Task, TaskResult, Value};
use blockwork_protocol::{encode_frame, Handshake, Hello, Kind, Role, PROTOCOL_VERSION};
use blockwork_runtime::LocalCluster;

static PANICS: AtomicU64 = AtomicU64::new(0);

fn add(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(Value::Int(args.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum()))
}

static ADD: NamedFn = NamedFn::new("malformed.add", add);

fn header(version: u16, kind: u16, meta: u32, nbuf: u32, lens: &[u64]) -> Vec<u8> {
    let mut h = b"BWRK".to_vec();
    h.extend_from_slice(&version.to_le_bytes());
    h.extend_from_slice(&kind.to_le_bytes());
    h.extend_from_slice(&meta.to_le_bytes());
    h.extend_from_slice(&nbuf.to_le_bytes());
    for l in lens {
        h.extend_from_slice(&l.to_le_bytes());
    }
    h
}

fn hello(role: Role) -> Vec<u8> {
    encode_frame(Handshake::Hello(Hello::new(role, "fuzz", None)).to_frame()).unwrap().to_vec()
}

/// The malformed inputs, each sent on a fresh connection.
fn inputs(seed: u64) -> Vec<Vec<u8>> {
    let mut s = seed;
    let mut rand = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s >> 33
    };
    let v = PROTOCOL_VERSION;
    let mut out: Vec<Vec<u8>> = vec![
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        b"BWRX".to_vec(),
        header(v, 0x0001, u32::MAX, 0, &[]),  // metadata length over the limit
        header(v, 0x0001, 0, u32::MAX, &[]),  // buffer count over the limit
        header(v, 0x0001, 0, 1, &[u64::MAX]), // one buffer over the limit
        header(v, 0x0001, 0, 2, &[8 << 30, 9 << 30]), // buffers together over the limit
        header(v, 0x7777, 0, 0, &[]),         // unknown kind
        header(9, 0x0010, 0, 0, &[]),         // another version, not a handshake
        header(v, 0x0001, 100, 0, &[]),       // a hello cut short
        header(v, 0x0001, 3, 0, &[]).into_iter().chain([0xff, 0xff, 0xff]).collect(), // a hello that does not parse
    ];
    for role in [Role::Client, Role::Worker, Role::Scheduler] {
        // A valid hello, then each kind with metadata that does not parse,
        // then a truncated frame.
        for kind in Kind::ALL {
            let mut m = hello(role);
            let junk: Vec<u8> = (0..(rand() % 40)).map(|_| rand() as u8).collect();
            m.extend(header(v, *kind as u16, junk.len() as u32, 0, &[]));
            m.extend(junk);
            out.push(m);
        }
        let mut m = hello(role);
        m.extend(header(v, Kind::UpdateGraph as u16, 1000, 0, &[]));
        m.extend([1, 2, 3]);
        out.push(m);
    }
    for _ in 0..100 {
        let n = rand() % 200;
        let mut m: Vec<u8> = (0..n).map(|_| rand() as u8).collect();
        if rand() % 2 == 0 {
            // Random bytes after a valid magic and version.
            let mut h = b"BWRK".to_vec();
            h.extend_from_slice(&v.to_le_bytes());
            h.append(&mut m);
            m = h;
        }
        out.push(m);
    }
    out
}

/// Sends `bytes` and reads until the server closes (or a short timeout:
/// a peer may wait for more bytes of a frame that never completes).
fn poke(addr: &str, bytes: &[u8]) {
    let Ok(mut s) = TcpStream::connect(addr) else { panic!("{addr} refuses connections") };
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
}

#[test]
fn malformed_frames_close_only_their_connection() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    blockwork_graph::register(&ADD);
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let mut ports: Vec<String> = vec![cluster.address()];
    ports.extend(cluster.workers().iter().map(|w| w.address().to_string()));
    let mut sent = 0;
    for (i, port) in ports.iter().enumerate() {
        for bytes in inputs(i as u64 + 1) {
            poke(port, &bytes);
            sent += 1;
        }
    }
    assert!(sent > 300, "{sent} malformed connections");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "nothing panicked");
    assert_eq!(cluster.workers().len(), 2);
    // The client connected before the barrage, and a new one, compute.
    let tasks: Vec<(Key, Task<Key>)> = (0..20)
        .map(|i| (Key::block("x", &[i]), Task::new(Op::named(&ADD, Value::Unit), vec![lit(i64::from(i))])))
        .chain([(
            Key::new("sum"),
            Task::new(Op::named(&ADD, Value::Unit), (0..20).map(|i| r(Key::block("x", &[i]))).collect()),
        )])
        .collect();
    let got = client.compute(Graph::from_tasks(tasks.clone()).unwrap(), &[Key::new("sum")]).unwrap();
    assert_eq!(got, vec![Value::Int(190)]);
    let other = cluster.client().unwrap();
    assert_eq!(other.compute(Graph::from_tasks(tasks).unwrap(), &[Key::new("sum")]).unwrap(), vec![Value::Int(190)]);
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "nothing panicked");
}
