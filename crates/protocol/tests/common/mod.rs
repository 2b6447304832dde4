//! Shared by the integration tests: a sample of every message, a test
//! block type with a codec, and decoding a frame as anything.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{builtins, lit, r, Arg, Data, ErrorKind, Key, NamedFn, Op, Task, TaskResult, Value};
use blockwork_protocol::{
    decode_task, encode_frame, task_spec, Buffer, ClientToScheduler, ClusterInfo, CodecError, Frame, FrameDecoder,
    Handshake, Hello, InfoRequest, Message, PeerMessage, Refused, Role, SchedulerInfo, SchedulerToClient,
    SchedulerToWorker, Welcome, WorkerToScheduler, RELEASE,
};
use blockwork_scheduler::{
    ComputeTask, CoordOp, CoordReply, DepInfo, FailureKind, GraphUpdate, Held, Holder, MemoryReport, Priority, StealId,
    StealOutcome, TaskFailure, ToClient, ToWorker, WorkerId, WorkerInfo, WorkerSpec,
};
pub use blockwork_worker::{Erred, Finished, ToScheduler};
use smallvec::smallvec;

/// A block of floats, sent as one raw buffer.
#[derive(Debug, PartialEq)]
pub struct Block(pub Vec<f64>);

impl Data for Block {
    fn nbytes(&self) -> usize {
        self.0.len() * 8
    }
    fn type_name(&self) -> &'static str {
        "tests.block"
    }
}

fn encode_block(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let b = (d as &dyn std::any::Any).downcast_ref::<Block>()?;
    let bytes: Vec<u8> = b.0.iter().flat_map(|x| x.to_le_bytes()).collect();
    Some((b"f8".to_vec(), vec![bytes.into()]))
}

fn decode_block(meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    match buffers.as_slice() {
        [b] if meta == b"f8" && b.len() % 8 == 0 => Ok(Value::object(Block(
            b.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect(),
        ))),
        _ => Err(CodecError::new("a block is metadata \"f8\" and one buffer of whole f64s")),
    }
}

fn scale(params: &Value, args: Vec<Value>) -> TaskResult {
    match (params, args.as_slice()) {
        (Value::Float(k), [Value::Float(x)]) => Ok(Value::Float(k * x)),
        _ => Ok(Value::Unit),
    }
}

/// A named function the tests register.
pub static SCALE: NamedFn = NamedFn::new("tests.scale", scale);

/// Registers the test codec and function (idempotent).
pub fn setup() {
    blockwork_protocol::register_codec("tests.block", encode_block, decode_block);
    blockwork_graph::register(&SCALE);
}

pub fn key(name: &str, idx: &[u32]) -> Key {
    Key::block(name, idx)
}

pub fn sample_task() -> Task<Key> {
    let inner = Task::new(Op::named(&SCALE, Value::Float(2.0)), vec![r(key("x", &[0]))]);
    Task::new(
        Op::named(&builtins::LIST, Value::Unit),
        vec![
            r(key("x", &[1])),
            Arg::List(vec![lit(1i64), lit("s")]),
            Arg::Task(Box::new(inner.clone())),
            Arg::Fused(Box::new((key("y", &[3]), inner))),
            Arg::Lit(Value::Bytes(vec![5u8; 3000].into())),
        ],
    )
}

pub fn sample_values() -> Vec<(Key, Value)> {
    vec![
        (key("a", &[0]), Value::Int(-3)),
        (key("a", &[1]), Value::Bytes(vec![1u8; 2048].into())),
        (key("a", &[2]), Value::List(vec![Value::Float(1.5), Value::Str("x".into()), Value::Unit].into())),
        (Key::new("b"), Value::Bool(true)),
    ]
}

pub fn all_client_to_scheduler() -> Vec<ClientToScheduler> {
    setup();
    let spec = task_spec(&key("t", &[0]), &sample_task(), 3)
        .unwrap()
        .retries(2)
        .resource("GPU", 0.5)
        .user_priority(-7)
        .on_workers(&["tcp://10.0.0.7:1", "job-7"], true);
    let small = blockwork_scheduler::TaskSpec::new(key("t", &[1]), vec![key("t", &[0])], 4, Arc::from(&b"tiny"[..]));
    vec![
        ClientToScheduler::UpdateGraph {
            id: 7,
            update: GraphUpdate { tasks: vec![spec, small], wanted: vec![key("t", &[1])] },
        },
        ClientToScheduler::UpdateGraph { id: 0, update: GraphUpdate::default() },
        ClientToScheduler::ReleaseKeys(vec![key("t", &[0]), key("t", &[1]), Key::new("u")]),
        ClientToScheduler::CancelKeys { keys: vec![key("t", &[0])], force: true },
        ClientToScheduler::Gather { id: 1 << 40, keys: vec![] },
        ClientToScheduler::Scatter { id: 3, data: sample_values() },
        ClientToScheduler::Heartbeat,
        ClientToScheduler::Close,
        ClientToScheduler::AdaptiveTarget { id: 9, target_duration: std::time::Duration::from_secs(5) },
        ClientToScheduler::RetireWorkers { id: 4, workers: vec!["job-7".into(), "tcp://10.0.0.8:1".into()], n: 0 },
        ClientToScheduler::RetireWorkers { id: 5, workers: vec![], n: 2 },
    ]
    .into_iter()
    .chain(all_coord_ops().into_iter().enumerate().map(|(i, op)| ClientToScheduler::Coordinate { id: i as u64, op }))
    .chain([
        ClientToScheduler::Info { id: 1, question: InfoRequest::WhoHas(vec![key("t", &[0]), Key::new("u")]) },
        ClientToScheduler::Info { id: 2, question: InfoRequest::WhoHas(vec![]) },
        ClientToScheduler::Info { id: 3, question: InfoRequest::HasWhat(vec!["job-7".into()]) },
        ClientToScheduler::Info { id: 4, question: InfoRequest::Scheduler },
        ClientToScheduler::Replicate { id: 5, keys: vec![key("t", &[0])], n: 3 },
        ClientToScheduler::Restart { id: 6 },
        ClientToScheduler::Rebalance { id: 7, keys: vec![key("t", &[0])], workers: vec!["job-7".into()] },
        ClientToScheduler::Rebalance { id: 8, keys: vec![], workers: vec![] },
    ])
    .collect()
}

/// One of each coordination request, with and without timeouts.
pub fn all_coord_ops() -> Vec<CoordOp> {
    let n = || "prim-1".to_string();
    let t = Some(Duration::new(2, 500));
    vec![
        CoordOp::SetVariable { name: n(), value: Held::Value(Value::Bytes(vec![7u8; 2048].into())) },
        CoordOp::SetVariable { name: n(), value: Held::Key(key("t", &[1])) },
        CoordOp::GetVariable { name: n(), timeout: None },
        CoordOp::GetVariable { name: n(), timeout: t },
        CoordOp::DeleteVariable { name: n() },
        CoordOp::Put { name: n(), item: Held::Value(Value::Int(3)), maxsize: 4, timeout: t },
        CoordOp::Get { name: n(), count: 0, timeout: None },
        CoordOp::QueueSize { name: n() },
        CoordOp::Acquire { name: n(), handle: u64::MAX, timeout: Some(Duration::ZERO) },
        CoordOp::Release { name: n(), handle: 1 },
        CoordOp::Locked { name: n() },
        CoordOp::SetEvent { name: n() },
        CoordOp::ClearEvent { name: n() },
        CoordOp::WaitEvent { name: "".into(), timeout: t },
        CoordOp::IsSet { name: n() },
        CoordOp::AcquireLease { name: n(), max_leases: 3, handle: 2, timeout: None },
        CoordOp::ReleaseLease { name: n(), handle: 2 },
        CoordOp::Leases { name: n() },
        CoordOp::Publish {
            name: n(),
            items: vec![Held::Value(Value::Bytes(vec![1u8; 100].into())), Held::Key(key("t", &[0]))],
            replace: true,
        },
        CoordOp::Publish { name: n(), items: vec![], replace: false },
        CoordOp::GetDataset { name: n() },
        CoordOp::Unpublish { name: n() },
        CoordOp::ListDatasets,
    ]
}

pub fn all_scheduler_to_client() -> Vec<SchedulerToClient> {
    let failure = Arc::new(TaskFailure {
        key: key("x", &[9]),
        message: "boom".into(),
        kind: FailureKind::KilledWorker,
        fault: ErrorKind::Environment,
    });
    vec![
        SchedulerToClient::KeyState(ToClient::KeyInMemory { key: key("t", &[1]), nbytes: 1 << 40 }),
        SchedulerToClient::KeyState(ToClient::KeyErred { key: key("t", &[1]), failure }),
        SchedulerToClient::KeyState(ToClient::KeyLost(key("t", &[1]))),
        SchedulerToClient::KeyState(ToClient::KeyCancelled(Key::new("z"))),
        SchedulerToClient::UpdateRefused { id: 7, message: "the graph update has a cycle through t".into() },
        SchedulerToClient::GatherReply { id: 1, data: sample_values(), missing: vec![key("gone", &[])] },
        SchedulerToClient::ScatterDone { id: 3, keys: vec![key("a", &[0])] },
        SchedulerToClient::AdaptiveTarget { id: 9, workers: 3, to_close: vec!["tcp://10.0.0.7:40123".into()] },
        SchedulerToClient::AdaptiveTarget { id: 10, workers: 0, to_close: vec![] },
        SchedulerToClient::Retired {
            id: 4,
            retired: vec!["10.0.0.7:40123".into()],
            refused: vec![("10.0.0.8:1".into(), "no running worker can take its results".into())],
        },
        SchedulerToClient::Coordinated { id: 1, reply: CoordReply::Done },
        SchedulerToClient::Coordinated {
            id: 2,
            reply: CoordReply::Held(vec![Held::Key(key("t", &[1])), Held::Value(Value::Str("x".into()))]),
        },
        SchedulerToClient::Coordinated { id: 3, reply: CoordReply::Held(vec![]) },
        SchedulerToClient::Coordinated { id: 4, reply: CoordReply::Bool(true) },
        SchedulerToClient::Coordinated { id: 5, reply: CoordReply::Count(1 << 33) },
        SchedulerToClient::Coordinated { id: 6, reply: CoordReply::TimedOut },
        SchedulerToClient::Coordinated { id: 7, reply: CoordReply::Refused("lock \"a\" is not held".into()) },
        SchedulerToClient::Info {
            id: 8,
            info: ClusterInfo::WhoHas(vec![
                (key("t", &[0]), vec!["10.0.0.7:1".into(), "10.0.0.8:2".into()]),
                (Key::new("u"), vec![]),
            ]),
        },
        SchedulerToClient::Info {
            id: 9,
            info: ClusterInfo::HasWhat(vec![
                ("10.0.0.7:1".into(), vec![key("t", &[0])]),
                ("10.0.0.8:2".into(), vec![]),
            ]),
        },
        SchedulerToClient::Info {
            id: 11,
            info: ClusterInfo::Moves(vec![(key("t", &[0]), "10.0.0.7:1".into(), "10.0.0.8:2".into())]),
        },
        SchedulerToClient::Info {
            id: 10,
            info: ClusterInfo::Scheduler(SchedulerInfo {
                tasks: 12,
                clients: 2,
                workers: vec![WorkerInfo {
                    id: WorkerId(3),
                    address: "10.0.0.7:1".into(),
                    name: "job-7".into(),
                    retiring: true,
                    nthreads: 24,
                    memory_limit: 100 << 30,
                    processing: 1 << 33,
                    occupancy: Duration::new(1, 5),
                    keys_held: 1 << 40,
                    nbytes: 1 << 35,
                    memory: MemoryReport { managed: 1, spilled: 2, unmanaged: 3 },
                }],
            }),
        },
    ]
}

pub fn all_worker_to_scheduler() -> Vec<WorkerToScheduler> {
    vec![
        WorkerToScheduler::Register(WorkerSpec {
            address: "tcp://10.0.0.7:40123".into(),
            name: "job-7".into(),
            nthreads: 8,
            memory_limit: 64 << 30,
            resources: vec![("GPU".into(), 2.0), ("MEM".into(), 1e9)],
        }),
        WorkerToScheduler::Heartbeat(MemoryReport { managed: 1, spilled: 2, unmanaged: u64::MAX }),
        WorkerToScheduler::Report(ToScheduler::TaskFinished(Finished {
            key: key("t", &[0]),
            nbytes: 800,
            duration: Duration::new(3, 999_999_999),
        })),
        WorkerToScheduler::Report(ToScheduler::TaskErred(Erred {
            key: key("t", &[0]),
            message: "division by zero".into(),
            origin: Some(key("inner", &[0])),
            kind: ErrorKind::Internal,
        })),
        WorkerToScheduler::Report(ToScheduler::FetchFailed {
            key: key("t", &[0]),
            dep: key("x", &[0]),
            holder: WorkerId(u32::MAX),
        }),
        WorkerToScheduler::Report(ToScheduler::StealResponse {
            key: key("t", &[0]),
            id: StealId(u64::MAX),
            outcome: StealOutcome::Released,
        }),
        WorkerToScheduler::Report(ToScheduler::StealResponse {
            key: key("t", &[0]),
            id: StealId(0),
            outcome: StealOutcome::Refused,
        }),
        WorkerToScheduler::Report(ToScheduler::AddKeys(vec![key("x", &[0, 1, 2, 3])])),
        WorkerToScheduler::RetireMe,
        WorkerToScheduler::Events(blockwork_protocol::WorkerActivity {
            cpu: 1.5,
            events: vec![
                blockwork_protocol::WorkerEvent {
                    kind: blockwork_protocol::WorkerEventKind::Transfer,
                    peer: 3,
                    nbytes: 1 << 30,
                    ago: Duration::from_micros(1500),
                    took: Duration::from_millis(20),
                },
                blockwork_protocol::WorkerEvent {
                    kind: blockwork_protocol::WorkerEventKind::Spill,
                    peer: 0,
                    nbytes: 0,
                    ago: Duration::ZERO,
                    took: Duration::from_micros(1),
                },
            ],
            logs: vec![
                blockwork_protocol::LogLine { at: 1.8e9, text: "task x-0 failed: boom".into() },
                blockwork_protocol::LogLine { at: 0.0, text: String::new() },
            ],
        }),
        WorkerToScheduler::Events(blockwork_protocol::WorkerActivity::default()),
    ]
}

pub fn all_scheduler_to_worker() -> Vec<SchedulerToWorker> {
    setup();
    let payload = blockwork_protocol::encode_task(&key("t", &[0]), &sample_task()).unwrap();
    let holder = |w: u32| Holder { worker: WorkerId(w), address: format!("tcp://h{w}:1").into() };
    vec![
        SchedulerToWorker::Registered { id: WorkerId(7) },
        SchedulerToWorker::Request(ToWorker::Compute(Box::new(ComputeTask {
            key: key("t", &[0]),
            payload,
            priority: Priority::new(2, 5),
            deps: vec![
                DepInfo { key: key("x", &[1]), nbytes: 80, who_has: smallvec![holder(1)] },
                DepInfo { key: key("x", &[0]), nbytes: 0, who_has: smallvec![holder(1), holder(2), holder(3)] },
            ],
        }))),
        SchedulerToWorker::Request(ToWorker::FreeKeys(vec![key("x", &[0]), key("x", &[1])])),
        SchedulerToWorker::Request(ToWorker::CancelCompute(key("t", &[0]))),
        SchedulerToWorker::Request(ToWorker::StealRequest { key: key("t", &[0]), id: StealId(12) }),
        SchedulerToWorker::Request(ToWorker::AcquireReplicas(vec![
            DepInfo { key: key("x", &[2]), nbytes: 8, who_has: smallvec![holder(4)] },
            DepInfo { key: key("x", &[3]), nbytes: 0, who_has: smallvec![] },
        ])),
        SchedulerToWorker::Close { reason: "retired: its results moved to other workers".into() },
    ]
}

pub fn all_peer() -> Vec<PeerMessage> {
    vec![
        PeerMessage::GetData { keys: vec![key("x", &[0])], requester: Some(WorkerId(3)) },
        PeerMessage::GetData { keys: vec![], requester: None },
        PeerMessage::Data { data: sample_values(), missing: vec![key("x", &[5])] },
        PeerMessage::Busy,
        PeerMessage::PutData { data: sample_values() },
        PeerMessage::Stored { keys: vec![key("x", &[0])] },
        PeerMessage::Run {
            function: "setup.env".into(),
            params: Value::Str("HOME".into()),
            args: sample_values().into_iter().map(|(_, v)| v).collect(),
        },
        PeerMessage::Run { function: "noop".into(), params: Value::Unit, args: vec![] },
        PeerMessage::Ran { result: Ok(Value::Bytes(vec![7u8; 4096].into())) },
        PeerMessage::Ran { result: Err("setup.env failed: no HOME".into()) },
    ]
}

pub fn all_handshakes() -> Vec<Handshake> {
    vec![
        Handshake::Hello(Hello {
            functions: vec![
                ("blockwork.array.fft".into(), "FftParams { axes: Vec<usize> }".into()),
                ("f".into(), "".into()),
            ],
            ..Hello::new(Role::Worker, "tcp://10.0.0.7:40123", Some("token".into()))
        }),
        Handshake::Welcome(Welcome {
            role: Role::Scheduler,
            version: 1,
            name: "sched".into(),
            release: RELEASE.into(),
        }),
        Handshake::Refused(Refused { reason: "no".into() }),
    ]
}

/// A valid frame of every message variant.
pub fn all_frames() -> Vec<Frame> {
    let mut v: Vec<Frame> = all_handshakes().iter().map(Handshake::to_frame).collect();
    v.extend(all_client_to_scheduler().iter().map(|m| m.to_frame().unwrap()));
    v.extend(all_scheduler_to_client().iter().map(|m| m.to_frame().unwrap()));
    v.extend(all_worker_to_scheduler().iter().map(|m| m.to_frame().unwrap()));
    v.extend(all_scheduler_to_worker().iter().map(|m| m.to_frame().unwrap()));
    v.extend(all_peer().iter().map(|m| m.to_frame().unwrap()));
    v
}

/// Encodes, feeds the bytes to a fresh decoder, and decodes.
pub fn through_bytes<M: Message>(m: &M) -> M {
    let bytes = m.encode().unwrap().to_vec();
    let mut d = FrameDecoder::default();
    d.push(&bytes).unwrap();
    let f = d.next_frame().expect("one frame");
    assert!(d.next_frame().is_none());
    M::from_frame(f).unwrap()
}

/// Tries every way of reading a frame; whether any succeeded. Also runs
/// task payloads found in compute requests through the task decoder.
pub fn decode_any(f: &Frame) -> bool {
    let mut ok = false;
    ok |= Handshake::from_frame(f.clone()).is_ok();
    ok |= ClientToScheduler::from_frame(f.clone()).is_ok();
    ok |= SchedulerToClient::from_frame(f.clone()).is_ok();
    ok |= WorkerToScheduler::from_frame(f.clone()).is_ok();
    ok |= PeerMessage::from_frame(f.clone()).is_ok();
    if let Ok(m) = SchedulerToWorker::from_frame(f.clone()) {
        ok = true;
        if let SchedulerToWorker::Request(ToWorker::Compute(c)) = m {
            let _ = decode_task(&c.key, &c.payload);
        }
    }
    ok
}

/// The bytes of a frame.
pub fn bytes_of(f: &Frame) -> Vec<u8> {
    encode_frame(f.clone()).unwrap().to_vec()
}
