//! A bag of JSON records as a dataframe: random records in random
//! partitions against the columns built by hand, with nulls, missing
//! fields and integers widened to floats; and the errors that name the
//! field at fault.

use blockwork_bag::{from_sequence, Json};
use blockwork_dataframe::{col, from_records};
use blockwork_local::{Config, Scheduler};
use blockwork_testkit::Rng;

#[test]
fn records_become_columns_as_built_by_hand() {
    blockwork_dataframe::register();
    let mut rng = Rng::new(3);
    for case in 0..12 {
        let n = 1 + rng.below(300) as usize;
        let records: Vec<Json> = (0..n)
            .map(|i| {
                let mut r = serde_json::json!({"id": i, "ok": rng.pct(50)});
                // The first record fixes the columns: it has every field.
                if i == 0 || rng.pct(80) {
                    r["level"] = Json::from(["info", "warn"][rng.below(2) as usize]);
                }
                if i == 0 || rng.pct(70) {
                    // Integers and floats mixed: the column is Float64.
                    r["ms"] =
                        if rng.pct(50) { Json::from(rng.below(100)) } else { Json::from(rng.below(100) as f64 + 0.5) };
                }
                r
            })
            .collect();
        let parts = 1 + rng.below(6) as usize;
        let bag = from_sequence(records.clone(), parts).unwrap();
        let config = Config::with_scheduler(if case % 2 == 0 { Scheduler::Sync } else { Scheduler::Threads(2) });
        let df = from_records(&bag, &config).unwrap();
        assert_eq!(df.columns(), ["id", "ok", "level", "ms"], "case {case}: in order of first appearance");
        let got = df.compute_with(&config).unwrap();
        assert_eq!(got.height(), n);
        let ids: Vec<Option<i64>> = got.column("id").unwrap().i64().unwrap().iter().collect();
        assert_eq!(ids, (0..n as i64).map(Some).collect::<Vec<_>>());
        let ms: Vec<Option<f64>> = got.column("ms").unwrap().f64().unwrap().iter().collect();
        let want_ms: Vec<Option<f64>> = records.iter().map(|r| r.get("ms").and_then(Json::as_f64)).collect();
        assert_eq!(ms, want_ms, "case {case}");
        let levels: Vec<Option<String>> =
            got.column("level").unwrap().str().unwrap().iter().map(|s| s.map(str::to_string)).collect();
        let want_levels: Vec<Option<String>> =
            records.iter().map(|r| r.get("level").and_then(Json::as_str).map(str::to_string)).collect();
        assert_eq!(levels, want_levels, "case {case}");
        // And on from there as any dataframe.
        let oks = df.filter(col("ok")).unwrap().compute_with(&config).unwrap().height();
        assert_eq!(oks, records.iter().filter(|r| r["ok"] == true).count());
    }
}

#[test]
fn records_of_the_wrong_shape_are_named() {
    blockwork_dataframe::register();
    let config = Config::with_scheduler(Scheduler::Sync);
    let nested = from_sequence(vec![serde_json::json!({"a": {"b": 1}})], 1).unwrap();
    let err = from_records(&nested, &config).unwrap_err().to_string();
    assert!(err.contains("\"a\" is an object"), "{err}");
    let mixed = from_sequence(vec![serde_json::json!({"a": 1}), serde_json::json!({"a": "x"})], 2).unwrap();
    let df = from_records(&mixed, &config).unwrap();
    let err = df.compute_with(&config).unwrap_err().to_string();
    assert!(err.contains("\"a\"") && err.contains("not of type int"), "{err}");
}
