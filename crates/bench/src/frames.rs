//! `groupby`: the hourly mean of `value` over a pile of CSV files, as
//! `../reference/dataframe.py` does it with dask.dataframe and Polars.

use std::time::Instant;

use blockwork::dataframe::{col, read_csv, CsvOptions};
use serde_json::{json, Value as Json};

use crate::check::{Check, Verdict};
use crate::overhead::Target;

/// One run: read, group, compute; returns timings and `[[hour, mean]]`.
fn once(glob: &str, target: &Target) -> anyhow::Result<(Json, Json)> {
    let t0 = Instant::now();
    let df = read_csv(glob, &CsvOptions::parse_dates(&["timestamp"]))?;
    let means = df.groupby(&[col("timestamp").dt().hour()])?.mean(&["value"])?;
    let t1 = Instant::now();
    let out = match target {
        Target::Local(c) => means.compute_with(&c.clone().optimize(true))?,
        Target::Cluster { client, .. } => means.assemble(client.compute(means.graph()?, &means.keys())?)?,
    };
    let t2 = Instant::now();
    let hours = out.column("timestamp")?.cast(&polars_i64())?;
    let values = out.column("value")?;
    let result: Vec<Json> = (0..out.height())
        .map(|i| {
            let h = hours.get(i).ok().and_then(|v| v.extract::<i64>());
            let v = values.get(i).ok().and_then(|v| v.extract::<f64>());
            json!([h, v.map(|v| (v * 1e12).round() / 1e12)])
        })
        .collect();
    let rec = json!({
        "build_s": (t1 - t0).as_secs_f64(),
        "compute_s": (t2 - t1).as_secs_f64(),
        "wall_s": (t2 - t0).as_secs_f64(),
        "npartitions": df.npartitions(),
    });
    Ok((rec, Json::Array(result)))
}

fn polars_i64() -> blockwork::dataframe::polars::prelude::DataType {
    blockwork::dataframe::polars::prelude::DataType::Int64
}

/// Runs the workload `repeats` times; reports the median wall time and
/// the 24 means, checked (with `check`) on every repeat against a plain
/// pass over the files.
pub fn run(glob: &str, target: &Target, repeats: usize, check: Option<&Check>) -> anyhow::Result<Json> {
    blockwork::register_builtins();
    let mut walls = Vec::new();
    let mut results = Vec::new();
    let mut last = Json::Null;
    for _ in 0..repeats.max(1) {
        let (rec, result) = once(glob, target)?;
        eprintln!("groupby: wall {:.3} s (compute {:.3})", rec["wall_s"], rec["compute_s"]);
        walls.push(rec["wall_s"].as_f64().unwrap_or(f64::NAN));
        results.push(result);
        last = rec;
    }
    let result = results.last().cloned().unwrap_or(Json::Null);
    let mut record = json!({
        "workload": "groupby",
        "params": {"glob": glob, "npartitions": last["npartitions"]},
        "last": last,
        "result": result,
    });
    record["seconds"] = json!(crate::arrays::seconds_of(&walls, target, &mut record));
    match check {
        None => {}
        Some(Check::Auto) => record["check"] = verify(glob, &results)?.to_json(),
        Some(other) => anyhow::bail!("groupby checks against its own plain pass: use --check alone, not {other:?}"),
    }
    Ok(record)
}

/// Every repeat's means against a plain pass: each line split at commas,
/// the hour taken from characters 11–12 of the timestamp, the value
/// parsed, sums and counts per hour.
fn verify(glob: &str, results: &[Json]) -> anyhow::Result<Verdict> {
    let mut sums = [0.0f64; 24];
    let mut counts = [0u64; 24];
    let paths: Vec<std::path::PathBuf> =
        blockwork::store::list(glob).map_err(|e| anyhow::anyhow!("{glob}: {e}"))?.into_iter().map(Into::into).collect();
    anyhow::ensure!(!paths.is_empty(), "{glob}: no file");
    for path in &paths {
        let text = std::fs::read_to_string(path)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name);
        let (Some(ts), Some(val)) = (at("timestamp"), at("value")) else {
            anyhow::bail!("{}: no timestamp or value column", path.display())
        };
        for line in lines.filter(|l| !l.is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            let hour: usize = fields[ts].get(11..13).and_then(|h| h.parse().ok()).unwrap_or(usize::MAX);
            anyhow::ensure!(hour < 24, "{}: bad timestamp in {line:?}", path.display());
            sums[hour] += fields[val].parse::<f64>()?;
            counts[hour] += 1;
        }
    }
    let want: Vec<Option<f64>> = (0..24).map(|h| (counts[h] > 0).then(|| sums[h] / counts[h] as f64)).collect();
    let mut worst = 0.0f64;
    for result in results {
        let got: Vec<(i64, f64)> =
            result.as_array().into_iter().flatten().filter_map(|p| Some((p[0].as_i64()?, p[1].as_f64()?))).collect();
        let expected = want.iter().filter(|w| w.is_some()).count();
        if got.len() != expected {
            worst = f64::INFINITY;
        }
        for (h, v) in got {
            let w = usize::try_from(h).ok().and_then(|h| want.get(h).copied().flatten()).unwrap_or(f64::NAN);
            let d = (v - w).abs() / w.abs().max(1.0);
            worst = if d.is_nan() { f64::INFINITY } else { worst.max(d) };
        }
    }
    Ok(Verdict::of_difference(
        worst,
        1e-9,
        "a plain pass over the files (split lines, hour from the text, sums per hour)",
    ))
}
