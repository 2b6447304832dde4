//! Results on the benchmark's pattern fill against NumPy's, from golden
//! values made by `scripts/golden/arrays.py` (committed in tests/golden).

use blockwork_array::{self as bwa, Array};
use ndarray::s;
use serde_json::Value as Json;

fn golden() -> serde_json::Map<String, Json> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/pattern.json")).unwrap();
    let v: Json = serde_json::from_str(&text).unwrap();
    v["cases"].as_object().unwrap().clone()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn ints(v: &Json) -> Vec<i64> {
    v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect()
}

fn vec_of(a: &Array<f64>) -> Vec<f64> {
    a.compute().unwrap().iter().copied().collect()
}

#[test]
fn pattern_results_match_numpy() {
    let g = golden();
    for n in [7usize, 50, 123] {
        for chunk in [3usize, 16, 50] {
            let x = bwa::pattern::<f64>(&[n, n], [chunk, chunk]).unwrap();
            let at = |name: &str| &g[&format!("{name}_{n}")];
            let scalar = |a: Array<f64>| a.compute_scalar().unwrap();
            let xxt = scalar(x.add(x.t()).unwrap().sub(x.mean_axis(0).unwrap()).unwrap().sum());
            assert!(close(xxt, at("xxt").as_f64().unwrap()), "xxt n={n} c={chunk}: {xxt}");
            let ds = scalar(x.dot(&(&x.t() + 1.0)).unwrap().sub(x.mean()).unwrap().std(0));
            assert!(close(ds, at("dot_std").as_f64().unwrap()), "dot-std n={n} c={chunk}: {ds}");
            let m = vec_of(&x.mean_axis(0).unwrap());
            assert!(m.iter().zip(floats(at("mean_axis0"))).all(|(a, b)| close(*a, b)));
            let v = vec_of(&x.var_with(&bwa::ReduceOpts::axis(1).ddof(1)).unwrap());
            assert!(v.iter().zip(floats(at("var_axis1_ddof1"))).all(|(a, b)| close(*a, b)));
            assert!(close(scalar(x.std(0)), at("std_all").as_f64().unwrap()));
            let cs = x.cumsum(1).unwrap().slice(s![-1, ..]).unwrap();
            assert!(vec_of(&cs).iter().zip(floats(at("cumsum_axis1_last_row"))).all(|(a, b)| close(*a, b)));
            let e = scalar((x.exp() - (&x + 1.0).sqrt()).sum());
            assert!(close(e, at("exp_minus_sqrt_sum").as_f64().unwrap()));
            let mm = floats(at("max_min"));
            assert_eq!((scalar(x.max()), scalar(x.min())), (mm[0], mm[1]));
            let am = at("argmax_argmin_axis0").as_array().unwrap();
            let got_max: Vec<i64> = x.argmax_axis(0).unwrap().compute().unwrap().iter().copied().collect();
            let got_min: Vec<i64> = x.argmin_axis(0).unwrap().compute().unwrap().iter().copied().collect();
            assert_eq!(got_max, ints(&am[0]), "argmax n={n} c={chunk}");
            assert_eq!(got_min, ints(&am[1]), "argmin n={n} c={chunk}");
            let sl = scalar(x.slice(s![1..;3, ..;-2]).unwrap().sum());
            assert!(close(sl, at("slice_sum").as_f64().unwrap()), "slice n={n} c={chunk}: {sl}");
            let v1 = bwa::pattern::<f64>(&[n], chunk).unwrap();
            let want = floats(at("vector"));
            assert!(close(scalar(v1.sum()), want[0]));
            assert!(close(scalar((&v1 * &v1).mean()), want[1]));
            assert!(close(scalar((&v1 * 10.0).round().sum()), want[2]));
        }
    }
}

#[test]
fn flat_argmax_matches_numpy_semantics() {
    let x = bwa::pattern::<f64>(&[9, 11], [4, 3]).unwrap();
    let a = x.compute().unwrap();
    let (mut best, mut at) = (f64::NEG_INFINITY, 0);
    for (i, &v) in a.iter().enumerate() {
        if v > best {
            best = v;
            at = i;
        }
    }
    assert_eq!(x.argmax().compute_scalar().unwrap(), at as i64);
    assert!(x.argmax_with(&bwa::ReduceOpts::axes(&[0, 1])).is_ok());
    let y = bwa::ones::<f64>(&[3, 4, 5], 2).unwrap();
    assert!(y.argmax_with(&bwa::ReduceOpts::axes(&[0, 1])).is_err());
}
