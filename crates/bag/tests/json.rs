//! JSON lines: random record piles parsed, plucked and summarized against
//! the same records in plain Rust; the errors name the line or field.

use std::io::Write;

use blockwork_bag::{read_json_lines, Json, TextOptions};
use blockwork_local::{Config, Scheduler};
use blockwork_testkit::Rng;

fn record(rng: &mut Rng, i: usize) -> Json {
    let level = ["info", "warn", "error"][rng.below(3) as usize];
    let mut r = serde_json::json!({"id": i, "level": level, "ms": rng.below(1000) as f64 / 10.0});
    if rng.pct(30) {
        r["user"] = Json::from(format!("u{}", rng.below(5)));
    }
    r
}

#[test]
fn json_lines_pluck_and_count_as_plain_rust() {
    let dir = std::env::temp_dir().join(format!("bw-bag-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(5);
    for case in 0..6 {
        let files = 1 + rng.below(4) as usize;
        let mut all = Vec::new();
        for f in 0..files {
            let n = rng.below(200) as usize;
            let path = dir.join(format!("c{case}-{f}.jsonl"));
            let mut out = std::fs::File::create(&path).unwrap();
            for _ in 0..n {
                let r = record(&mut rng, all.len());
                writeln!(out, "{r}").unwrap();
                if rng.pct(5) {
                    writeln!(out).unwrap(); // blank lines are skipped
                }
                all.push(r);
            }
        }
        let options = TextOptions { blocksize: if case % 2 == 0 { None } else { Some(1000) } };
        let bag = read_json_lines(dir.join(format!("c{case}-*.jsonl")).to_str().unwrap(), &options).unwrap();
        let config = Config::with_scheduler(if case % 2 == 0 { Scheduler::Sync } else { Scheduler::Threads(2) });
        let mut got = bag.compute_with(&config).unwrap();
        got.sort_by_key(|r| r["id"].as_u64());
        assert_eq!(got, all, "case {case}");
        let mut levels =
            bag.pluck("level").map(|v| v.as_str().unwrap().to_string()).frequencies().compute_with(&config).unwrap();
        levels.sort();
        let mut want: Vec<(String, u64)> = ["error", "info", "warn"]
            .iter()
            .map(|l| (l.to_string(), all.iter().filter(|r| r["level"] == *l).count() as u64))
            .filter(|(_, n)| *n > 0)
            .collect();
        want.sort();
        assert_eq!(levels, want, "case {case}");
        let users = bag.pluck_or("user", Json::Null).filter(|u| !u.is_null()).count().compute_with(&config).unwrap();
        assert_eq!(users, all.iter().filter(|r| r.get("user").is_some()).count() as u64);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_lines_and_missing_fields_are_named() {
    let dir = std::env::temp_dir().join(format!("bw-bag-json-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.jsonl");
    std::fs::write(&path, "{\"a\": 1}\n{\"a\": 2,,}\n").unwrap();
    let bag = read_json_lines(path.to_str().unwrap(), &TextOptions::default()).unwrap();
    let err = bag.compute().unwrap_err().to_string();
    assert!(err.contains("not JSON") && err.contains("{\\\"a\\\": 2,,}"), "{err}");
    std::fs::write(&path, "{\"a\": 1}\n{\"b\": 2}\n[5, 6]\n").unwrap();
    let bag = read_json_lines(path.to_str().unwrap(), &TextOptions::default()).unwrap();
    let err = bag.pluck("a").compute().unwrap_err().to_string();
    assert!(err.contains("no field \"a\"") && err.contains("\"b\""), "{err}");
    // Arrays are plucked by index.
    let second = bag.filter(|r| r.is_array()).pluck("1").compute().unwrap();
    assert_eq!(second, [Json::from(6)]);
    let _ = std::fs::remove_dir_all(&dir);
}
