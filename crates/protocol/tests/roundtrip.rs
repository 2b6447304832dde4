//! Every message of every direction, through bytes and back; random
//! messages too.

mod common;

use std::sync::Arc;

use blockwork_graph::{ErrorKind, Key, Value};
use blockwork_protocol::{
    decode_task, ClientToScheduler, FrameDecoder, Handshake, Message, PeerMessage, SchedulerToClient,
    SchedulerToWorker, WorkerToScheduler,
};
use blockwork_scheduler::{GraphUpdate, ToWorker};
use common::*;
use proptest::prelude::*;

#[test]
fn every_variant_round_trips() {
    for m in all_client_to_scheduler() {
        assert_eq!(through_bytes(&m), m);
    }
    for m in all_scheduler_to_client() {
        assert_eq!(through_bytes(&m), m);
    }
    for m in all_worker_to_scheduler() {
        assert_eq!(through_bytes(&m), m);
    }
    for m in all_scheduler_to_worker() {
        assert_eq!(through_bytes(&m), m);
    }
    for m in all_peer() {
        assert_eq!(through_bytes(&m), m);
    }
    for h in all_handshakes() {
        assert_eq!(Handshake::from_frame(h.to_frame()).unwrap(), h);
    }
}

#[test]
fn a_compute_request_carries_a_task_the_worker_can_run() {
    setup();
    let m = all_scheduler_to_worker().swap_remove(1);
    let SchedulerToWorker::Request(ToWorker::Compute(c)) = through_bytes(&m) else { panic!("not a compute") };
    let task = decode_task(&c.key, &c.payload).unwrap();
    let lookup = |k: &Key| Value::Float(f64::from(k.index()[0]) + 1.0);
    let Value::List(out) = task.eval(&lookup).unwrap() else { panic!("not a list") };
    assert_eq!(out[0], Value::Float(2.0));
    assert_eq!(out[2], Value::Float(2.0));
    assert_eq!(out[4], Value::Bytes(vec![5u8; 3000].into()));
}

#[test]
fn objects_arrive_through_their_codec_as_raw_buffers() {
    setup();
    let block = Value::object(Block((0..1000).map(f64::from).collect()));
    let m = PeerMessage::Data { data: vec![(Key::block("x", &[0]), block)], missing: vec![] };
    let f = m.to_frame().unwrap();
    assert_eq!(f.buffers.len(), 1);
    assert_eq!(f.buffers[0].len(), 8000);
    assert!(f.meta.len() < 40, "metadata of {} bytes", f.meta.len());
    let PeerMessage::Data { data, .. } = through_bytes(&m) else { panic!() };
    assert_eq!(data[0].1.downcast_ref::<Block>().unwrap().0[999], 999.0);
}

#[test]
fn a_frame_of_another_direction_is_refused_by_name() {
    let f = PeerMessage::Busy.to_frame().unwrap();
    let e = ClientToScheduler::from_frame(f).unwrap_err();
    assert_eq!(e.to_string(), "unexpected busy message: expected a client → scheduler message");
}

#[test]
fn a_graph_update_of_100_000_tasks_is_compact() {
    let name: Arc<str> = "inc-3fa2c1".into();
    let payload: Arc<[u8]> = Arc::from(&b"small payload"[..]);
    let tasks = (0..100_000u32)
        .map(|i| {
            let deps = if i == 0 { vec![] } else { vec![Key::with_shared_name(&name, &[i - 1])] };
            blockwork_scheduler::TaskSpec::new(Key::with_shared_name(&name, &[i]), deps, i, payload.clone())
        })
        .collect();
    let m = ClientToScheduler::UpdateGraph {
        id: 1,
        update: GraphUpdate { tasks, wanted: vec![Key::with_shared_name(&name, &[99_999])] },
    };
    let bytes = m.encode().unwrap();
    // Per task: key 5, dependency 5, priority 3, payload 15, retries,
    // resources and placement 3 bytes; the name is written once.
    assert!(bytes.len() < 100_000 * 32, "{} bytes", bytes.len());
    assert_eq!(through_bytes(&m), m);
}

#[test]
fn many_messages_in_one_stream_split_anywhere() {
    let frames = all_frames();
    let stream: Vec<u8> = frames.iter().flat_map(bytes_of).collect();
    for chunk in [1, 7, 16, 100, 4096] {
        let mut d = FrameDecoder::default();
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            d.push(c).unwrap();
            while let Some(f) = d.next_frame() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
    }
}

fn arb_key() -> impl Strategy<Value = Key> {
    (prop::sample::select(vec!["x", "y-ab12", "inc-3fa2c1", "", "ünï"]), prop::collection::vec(any::<u32>(), 0..4))
        .prop_map(|(n, i)| Key::block(n, &i))
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Unit),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (-1e300f64..1e300).prop_map(Value::Float),
        ".{0,12}".prop_map(|s: String| Value::Str(s.into())),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Value::Bytes(b.into())),
        (1000usize..3000, any::<u8>()).prop_map(|(n, x)| Value::Bytes(vec![x; n].into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| prop::collection::vec(inner, 0..6).prop_map(|v| Value::List(v.into())))
}

fn arb_payload() -> impl Strategy<Value = Arc<[u8]>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..50).prop_map(Arc::from),
        (1025usize..2000).prop_map(|n| Arc::from(vec![7u8; n])),
    ]
}

fn arb_update() -> impl Strategy<Value = GraphUpdate> {
    let spec = (arb_key(), prop::collection::vec(arb_key(), 0..4), any::<u32>(), arb_payload(), any::<u32>()).prop_map(
        |(k, deps, p, payload, retries)| {
            blockwork_scheduler::TaskSpec::new(k, deps, p, payload).retries(retries).resource("GPU", 1.0)
        },
    );
    (prop::collection::vec(spec, 0..8), prop::collection::vec(arb_key(), 0..4))
        .prop_map(|(tasks, wanted)| GraphUpdate { tasks, wanted })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_client_messages_round_trip(
        u in arb_update(),
        data in prop::collection::vec((arb_key(), arb_value()), 0..6),
        keys in prop::collection::vec(arb_key(), 0..10),
        force in any::<bool>(),
    ) {
        for m in [
            ClientToScheduler::UpdateGraph { id: 2, update: u },
            ClientToScheduler::Scatter { id: 3, data: data.clone() },
            ClientToScheduler::CancelKeys { keys: keys.clone(), force },
        ] {
            prop_assert_eq!(through_bytes(&m), m);
        }
        let m = SchedulerToClient::GatherReply { id: 4, data: data.clone(), missing: keys.clone() };
        prop_assert_eq!(through_bytes(&m), m);
        let m = PeerMessage::Data { data, missing: keys };
        prop_assert_eq!(through_bytes(&m), m);
    }

    #[test]
    fn random_worker_messages_round_trip(
        key in arb_key(),
        dep in arb_key(),
        nbytes in any::<u64>(),
        secs in any::<u64>(),
        nanos in 0u32..1_000_000_000,
        message in ".{0,40}",
        holder in any::<u32>(),
    ) {
        use blockwork_worker::ToScheduler;
        for r in [
            ToScheduler::TaskFinished(Finished { key: key.clone(), nbytes, duration: std::time::Duration::new(secs, nanos) }),
            ToScheduler::TaskErred(Erred { key: key.clone(), message: message.as_str().into(), origin: None, kind: ErrorKind::User }),
            ToScheduler::TaskErred(Erred { key: key.clone(), message: message.into(), origin: Some(key.clone()), kind: ErrorKind::Internal }),
            ToScheduler::FetchFailed { key: key.clone(), dep, holder: blockwork_scheduler::WorkerId(holder) },
        ] {
            let m = WorkerToScheduler::Report(r);
            prop_assert_eq!(through_bytes(&m), m);
        }
    }
}
