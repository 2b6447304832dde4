//! `.npy` files written by NumPy (fixtures from `scripts/golden/npy.py`),
//! read lazily block by block, and written back byte for byte.

use blockwork_array::{self as bwa, ArrayError};
use ndarray::{ArrayD, IxDyn};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn reads_numpy_files_in_any_chunks() {
    for chunk in [1usize, 4, 100] {
        let x = bwa::from_npy::<f64>(fixture("pattern_f8.npy"), chunk).unwrap();
        let want = ArrayD::from_shape_fn(IxDyn(&[13, 9]), |i| ((7 * i[0] + 13 * i[1]) % 101) as f64 / 101.0);
        assert_eq!(x.compute().unwrap(), want);
        let r = bwa::from_npy::<i32>(fixture("range_i4.npy"), chunk).unwrap();
        assert_eq!(r.compute().unwrap().iter().copied().collect::<Vec<_>>(), (-20..17).collect::<Vec<i32>>());
        let m = bwa::from_npy::<bool>(fixture("mask_b1.npy"), chunk).unwrap().compute().unwrap();
        assert_eq!(m, ArrayD::from_shape_fn(IxDyn(&[13, 9]), |i| (i[0] * i[1]) % 3 == 0));
        let c = bwa::from_npy::<u8>(fixture("cube_u1.npy"), [chunk, 2, 5]).unwrap().compute().unwrap();
        assert_eq!(c.iter().copied().collect::<Vec<_>>(), (0..120).map(|v| (v % 251) as u8).collect::<Vec<_>>());
    }
    let s = bwa::from_npy::<f32>(fixture("scalar_f4.npy"), 1).unwrap();
    assert_eq!(s.compute_scalar().unwrap(), 2.5);
}

#[test]
fn writes_what_numpy_writes() {
    let dir = std::env::temp_dir().join(format!("bw-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["pattern_f8.npy", "mask_b1.npy", "cube_u1.npy"] {
        let out = dir.join(name);
        match name {
            "pattern_f8.npy" => bwa::from_npy::<f64>(fixture(name), 4).unwrap().to_npy(&out).unwrap(),
            "mask_b1.npy" => bwa::from_npy::<bool>(fixture(name), 4).unwrap().to_npy(&out).unwrap(),
            _ => bwa::from_npy::<u8>(fixture(name), 2).unwrap().to_npy(&out).unwrap(),
        }
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(fixture(name)).unwrap(), "{name}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_files_are_named() {
    let e = bwa::from_npy::<f64>(fixture("truncated.npy"), 4).unwrap_err();
    assert!(matches!(e, ArrayError::File { .. }), "a malformed file is the input's fault: {e:?}");
    assert_eq!(blockwork_graph::Fault::kind(&e), blockwork_graph::ErrorKind::User);
    assert!(e.to_string().contains("truncated.npy: truncated .npy file"), "{e}");
    let e = bwa::from_npy::<f64>(fixture("range_i4.npy"), 4).unwrap_err().to_string();
    assert!(e.contains("range_i4.npy: holds <i4 elements, not <f8 (float64)"), "{e}");
    let e = bwa::from_npy::<f64>(fixture("nope.npy"), 4).unwrap_err();
    // The system's error is kept as the source; a path that does not
    // exist is the user's.
    assert!(matches!(&e, ArrayError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound), "{e:?}");
    assert_eq!(blockwork_graph::Fault::kind(&e), blockwork_graph::ErrorKind::User);
    assert!(std::error::Error::source(&e).is_some());
    assert!(e.to_string().contains("nope.npy"), "{e}");
    let e = bwa::from_npy::<f64>(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"), 4).unwrap_err().to_string();
    assert!(e.contains("bad magic bytes"), "{e}");
}

#[test]
fn transposed_and_bool_arrays_round_trip() {
    let dir = std::env::temp_dir().join(format!("bw-npy-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = ArrayD::from_shape_fn(IxDyn(&[5, 7]), |i| (i[0] * 7 + i[1]) as f64);
    let x = bwa::from_ndarray(a.clone(), [2, 3]).unwrap().t();
    x.to_npy(dir.join("t.npy")).unwrap();
    let back = bwa::from_npy::<f64>(dir.join("t.npy"), [4, 4]).unwrap().compute().unwrap();
    assert_eq!(back, a.t().to_owned().into_dyn());
    let m = a.mapv(|v| v as i64 % 3 == 0);
    bwa::from_ndarray(m.clone(), 3).unwrap().to_npy(dir.join("b.npy")).unwrap();
    assert_eq!(bwa::from_npy::<bool>(dir.join("b.npy"), 2).unwrap().compute().unwrap(), m);
    std::fs::remove_dir_all(&dir).unwrap();
}
