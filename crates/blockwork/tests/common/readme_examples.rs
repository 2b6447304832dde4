//! The README's examples that use no closure, shared by `readme.rs` (on
//! threads) and `default_client.rs` (the same code with a client as the
//! default scheduler): they run the same on a cluster.

use blockwork as bw;
use bw::graph::{NamedFn, TaskError, TaskResult, Value};

fn scale(params: &Value, args: Vec<Value>) -> TaskResult {
    match (params, args.as_slice()) {
        (Value::Float(k), [Value::Float(x)]) => Ok(Value::Float(k * x)),
        _ => Err(TaskError::new("scale wants a float parameter and one float")),
    }
}
pub static SCALE: NamedFn = NamedFn::new("myapp.scale", scale);

pub fn named_functions() -> Result<(), Box<dyn std::error::Error>> {
    let y: bw::Delayed<f64> = bw::delayed::named(&SCALE).params(3.0).call(vec![bw::delayed::arg::<f64, _>(2.0)]);
    assert_eq!(y.compute()?, 6.0);
    Ok(())
}

pub fn arrays() -> Result<(), Box<dyn std::error::Error>> {
    use bw::array::{self as bwa, ReduceOpts};
    let x = bwa::random::random(&[200, 200], [50, 50], 42)?;
    let y = ((&x + &x.t()) - x.mean_axis(0)?).sum();
    let v: f64 = y.compute_scalar()?;
    assert!((v - 200.0 * 200.0 / 2.0).abs() < 500.0, "{v}");
    assert_eq!(
        x.to_string(),
        "blockwork.Array<random, shape=(200, 200), dtype=float64, chunksize=(50, 50), blocks=16, tasks=16>"
    );
    let m = x.mean_with(&ReduceOpts::axes(&[0]).keepdims().split_every(8))?;
    assert_eq!(m.shape(), &[1, 200]);
    let a: ndarray::ArrayD<f64> = x.block(&[0, 1])?.compute()?;
    assert_eq!(a.shape(), &[50, 50]);
    Ok(())
}
