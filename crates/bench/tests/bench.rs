//! The bench binary keeps its contract: one JSON line on stdout per run.

use std::process::Command;

fn run(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_blockwork-bench")).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stdout: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn overhead_prints_one_json_record_per_run() {
    for pattern in ["chain", "fan", "tree"] {
        for mode in ["raw", "delayed"] {
            for sched in ["sync", "threads"] {
                let v = run(&[
                    "overhead",
                    "--n",
                    "1000",
                    "--pattern",
                    pattern,
                    "--mode",
                    mode,
                    "--scheduler",
                    sched,
                    "--repeats",
                    "1",
                ]);
                assert_eq!(v["workload"], "overhead");
                assert_eq!(v["result"], 1000);
                assert_eq!(v["impl"], format!("blockwork-{sched}"));
                assert!(v["seconds"].as_f64().unwrap() > 0.0);
                assert!(v["peak_rss_mib"].as_f64().unwrap() > 0.0);
            }
        }
    }
}

#[test]
fn overhead_runs_on_a_local_cluster() {
    for pattern in ["chain", "fan", "tree"] {
        let v =
            run(&["overhead", "--n", "300", "--pattern", pattern, "--scheduler", "local-cluster", "--repeats", "1"]);
        assert_eq!(v["impl"], "blockwork-distributed");
        assert_eq!(v["result"], 300);
    }
}

#[test]
fn bad_flags_are_errors() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_blockwork-bench")).args(["overhead", "--pattern", "spiral"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown pattern \"spiral\""));
}

fn checked(args: &[&str]) -> serde_json::Value {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--repeats", "2", "--check"]);
    let v = run(&all);
    assert_eq!(v["check"]["ok"], true, "{v}");
    assert!(v["seconds"].as_f64().unwrap() > 0.0, "{v}");
    assert!(!v["result"].is_null(), "{v}");
    v
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bw-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A square f64 `.npy` file of the pattern fill, written by hand.
fn npy(path: &std::path::Path, n: usize) {
    let header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, {n}), }}");
    let pad = 64 - (10 + header.len() + 1) % 64;
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend(((header.len() + pad + 1) as u16).to_le_bytes());
    bytes.extend(header.bytes().chain(std::iter::repeat_n(b' ', pad)).chain([b'\n']));
    for k in 0..n * n {
        bytes.extend((((7 * (k / n) + 13 * (k % n)) % 101) as f64 / 101.0).to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn every_array_workload_checks_its_result() {
    let dir = scratch("arrays");
    let file = dir.join("x.npy");
    npy(&file, 130);
    let npy_fill = format!("npy:{}", file.display());
    assert_eq!(checked(&["ones-sum", "--n", "100000", "--chunk", "7000"])["result"], 100000.0);
    for fill in ["random", "pattern", "ones", npy_fill.as_str()] {
        for workload in ["xxt", "dot-std"] {
            let v = checked(&[workload, "--n", "130", "--chunk", "40", "--fill", fill]);
            assert_eq!(v["params"]["n"], 130, "{v}");
        }
    }
    checked(&["big-sum", "--n", "3000", "--chunk", "700"]);
    checked(&["overhead", "--n", "500"]);
    let k = run(&["kernel", "--n", "300", "--repeats", "1"]);
    assert_eq!(k["check"]["ok"], true, "{k}");
    let g = run(&["gemm", "--n", "200", "--chunk", "64", "--repeats", "1"]);
    assert_eq!(g["check"]["ok"], true, "{g}");
    // A wrong reference fails the run, and says by how much.
    let out = Command::new(env!("CARGO_BIN_EXE_blockwork-bench"))
        .args(["ones-sum", "--n", "1000", "--chunk", "100", "--repeats", "1", "--check", "999"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("result check failed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad =
        Command::new(env!("CARGO_BIN_EXE_blockwork-bench")).args(["xxt", "--fill", "npy:/nonexistent.npy"]).output();
    assert!(!bad.unwrap().status.success());
}

#[test]
fn groupby_checks_its_means_against_a_plain_pass() {
    let dir = scratch("csv");
    for f in 0..3 {
        let mut text = String::from("timestamp,value,id,name\n");
        for r in 0..500 {
            let minute = f * 500 + r;
            let (day, hour, min) = (1 + minute / 1440, (minute / 60) % 24, minute % 60);
            text += &format!("2000-01-{day:02} {hour:02}:{min:02}:00,{:.6},{},Bob\n", (r as f64 * 0.37).sin(), r % 7);
        }
        std::fs::write(dir.join(format!("part-{f}.csv")), text).unwrap();
    }
    let glob = format!("{}/part-*.csv", dir.display());
    let v = checked(&["groupby", "--glob", &glob]);
    assert_eq!(v["result"].as_array().unwrap().len(), 24, "{v}");
}

#[test]
fn climate_checks_every_repeat_against_a_reference_file() {
    let pile = concat!(env!("CARGO_MANIFEST_DIR"), "/../labeled/tests/fixtures/pile/era5_t2m_*.nc");
    let dir = scratch("climate");
    let out = dir.join("anomaly.nc");
    let base = ["climate", "--glob", pile, "--clim-start", "1979", "--clim-end", "1981", "--year", "1982"];
    let first = run(&[&base[..], &["--repeats", "1", "--out", out.to_str().unwrap()]].concat());
    assert!(first["seconds"].as_f64().unwrap() > 0.0 && first["result"].is_object(), "{first}");
    let v = run(&[&base[..], &["--repeats", "2", "--check", out.to_str().unwrap()]].concat());
    assert_eq!(v["check"]["ok"], true, "{v}");
    assert_eq!(v["result"], first["result"]);
}

#[test]
fn inflate_checks_the_bytes_of_the_chunks_the_climate_job_reads() {
    let zlib = concat!(env!("CARGO_MANIFEST_DIR"), "/../labeled/tests/fixtures/pile_zlib/era5_t2m_*.nc");
    // 1981-1982, a chunk of 7 × 8 float32 maps per month.
    let years = |clim: &str, year: &str| ["--clim-start", "1981", "--clim-end", clim, "--year", year].map(String::from);
    let inflate = |years: [String; 6]| {
        let mut args = vec!["inflate".to_string(), "--glob".into(), zlib.into(), "--repeats".into(), "2".into()];
        args.extend(years);
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let both = inflate(years("1981", "1982"));
    assert_eq!(both["check"]["ok"], true, "{both}");
    assert!(both["seconds"].as_f64().unwrap() > 0.0, "{both}");
    assert_eq!(both["result"]["chunks"], 24, "{both}");
    assert_eq!(both["result"]["inflated_bytes"], (365 + 365) * 7 * 8 * 4, "{both}");
    for imp in ["libdeflate", "zlib-rs"] {
        assert_eq!(both["impls"][imp]["runs_seconds"].as_array().unwrap().len(), 2, "{both}");
    }
    // The plain loops of the job's work (shuffled float32: both orders),
    // their sums checked by the record's check.
    let loops = both["pipelines"].as_object().unwrap();
    assert_eq!(loops.len(), 2, "{both}");
    assert!(loops.values().all(|l| l["runs_seconds"].as_array().unwrap().len() == 2), "{both}");
    // Only the files with a time step in the job's years.
    let one = inflate(years("1981", "1981"));
    assert_eq!(one["result"]["chunks"], 12, "{one}");
    // A pile stored without deflate has no inflate bound: an error naming the file.
    let raw = concat!(env!("CARGO_MANIFEST_DIR"), "/../labeled/tests/fixtures/pile/era5_t2m_*.nc");
    let out = Command::new(env!("CARGO_BIN_EXE_blockwork-bench"))
        .args(["inflate", "--glob", raw, "--clim-start", "1979", "--clim-end", "1979", "--year", "1979"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("era5_t2m_1979"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn wordfreq_checks_its_top_ten_on_threads_and_on_a_cluster() {
    let dir = scratch("wordfreq");
    let words = ["sea", "ice", "the", "melt", "ärctic", "a"];
    for f in 0..3 {
        let text: String = (0..200)
            .map(|i| {
                (0..1 + (i * 7 + f) % 9).map(|j| words[(i * 3 + j * 5 + f) % 6]).collect::<Vec<_>>().join(" ") + "\n"
            })
            .collect();
        std::fs::write(dir.join(format!("part-{f}.txt")), text).unwrap();
    }
    let glob = format!("{}/part-*.txt", dir.display());
    let mut tops = Vec::new();
    for extra in
        [&["--style", "collect"][..], &["--style", "emit"], &["--scheduler", "local-cluster", "--workers", "2"]]
    {
        let v = checked(&[&["wordfreq", "--glob", &glob, "--blocksize", "700"][..], extra].concat());
        assert_eq!(v["workload"], "wordfreq", "{v}");
        assert!(v["cold_seconds"].as_f64().unwrap() > 0.0 && v["warm_seconds"].as_f64().unwrap() > 0.0, "{v}");
        tops.push(v["top10"].clone());
    }
    assert!(tops.iter().all(|t| t == &tops[0]), "{tops:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_decompositions_check_their_singular_values() {
    let v = checked(&["svd", "--m", "4000", "--k", "8", "--rows", "500"]);
    assert_eq!(v["workload"], "svd", "{v}");
    // The randomized one on the pattern, against its residue matrix's.
    let v = checked(&["svd-compressed", "--n", "300", "--chunk", "75", "--k", "5", "--fill", "pattern"]);
    assert!(v["check"]["worst_rel_diff"].as_f64().unwrap() < 1e-5, "{v}");
    // On random and constant inputs, against the same algorithm on the whole matrix.
    for fill in ["random", "ones"] {
        let v = checked(&["svd-compressed", "--n", "300", "--chunk", "70", "--k", "5", "--fill", fill]);
        assert!(v["check"]["worst_rel_diff"].as_f64().unwrap() < 1e-8, "{v}");
    }
}
