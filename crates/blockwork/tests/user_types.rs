//! A type of the user's own travels between workers and back to the
//! client, once its codec is registered through the facade
//! (`blockwork::distributed::register_codec`) in every process.

use blockwork as bw;
use bw::distributed::{register_codec, Buffer, CodecError, LocalCluster};
use bw::graph::{lit, Arg, Data, NamedFn, TaskError, TaskResult, Value};

/// Counts of values per bucket.
#[derive(Debug, PartialEq)]
struct Histogram(Vec<u64>);

impl Data for Histogram {
    fn nbytes(&self) -> usize {
        self.0.len() * 8
    }
    fn type_name(&self) -> &'static str {
        "tests.histogram"
    }
}

fn encode(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let h = (d as &dyn std::any::Any).downcast_ref::<Histogram>()?;
    Some((Vec::new(), vec![h.0.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>().into()]))
}

fn decode(_: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    match buffers.as_slice() {
        [b] if b.len() % 8 == 0 => Ok(Value::object(Histogram(
            b.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(),
        ))),
        _ => Err(CodecError::new("a histogram is one buffer of whole u64s")),
    }
}

/// The histogram of 0..n in 4 buckets of n/4.
fn histogram(_: &Value, args: Vec<Value>) -> TaskResult {
    let Some(Value::Int(n)) = args.first() else { return Err(TaskError::new("histogram takes n")) };
    let mut h = vec![0u64; 4];
    for i in 0..*n {
        h[(i * 4 / n) as usize] += 1;
    }
    Ok(Value::object(Histogram(h)))
}

/// The sum of histograms, bucket by bucket.
fn merge(_: &Value, args: Vec<Value>) -> TaskResult {
    let mut out = vec![0u64; 4];
    for a in &args {
        let h = a.downcast_ref::<Histogram>().ok_or_else(|| TaskError::new("merge takes histograms"))?;
        out.iter_mut().zip(&h.0).for_each(|(o, x)| *o += x);
    }
    Ok(Value::object(Histogram(out)))
}

static HISTOGRAM: NamedFn = NamedFn::new("tests.histogram", histogram);
static MERGE: NamedFn = NamedFn::new("tests.merge", merge);

#[test]
fn a_user_type_with_a_registered_codec_goes_anywhere() {
    bw::register_builtins();
    register_codec("tests.histogram", encode, decode);
    bw::graph::register(&HISTOGRAM);
    bw::graph::register(&MERGE);
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let address = |i: usize| cluster.workers()[i].address().to_string();
    // One histogram on each worker, merged on the first: one crosses.
    let on = |i| bw::distributed::TaskOptions::default().workers(&[address(i).as_str()], false);
    let a = client.submit_with(&HISTOGRAM, vec![lit(8i64)], &on(0)).unwrap();
    let b = client.submit_with(&HISTOGRAM, vec![lit(400i64)], &on(1)).unwrap();
    let m = client.submit_with(&MERGE, vec![Arg::from(&a), Arg::from(&b)], &on(0)).unwrap();
    let v = m.result().unwrap();
    assert_eq!(v.downcast_ref::<Histogram>(), Some(&Histogram(vec![102, 102, 102, 102])));
}
