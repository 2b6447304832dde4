//! `groupby`: the hourly mean of `value` over a pile of CSV files, as
//! `../reference/dataframe.py` does it with dask.dataframe and Polars.

use std::time::Instant;

use blockwork::dataframe::{col, read_csv, CsvOptions};
use serde_json::{json, Value as Json};

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
/// the 24 means.
pub fn run(glob: &str, target: &Target, repeats: usize) -> anyhow::Result<Json> {
    blockwork::register_builtins();
    let mut walls = Vec::new();
    let mut last = (Json::Null, Json::Null);
    for _ in 0..repeats.max(1) {
        let (rec, result) = once(glob, target)?;
        eprintln!("groupby: wall {:.3} s (compute {:.3})", rec["wall_s"], rec["compute_s"]);
        walls.push(rec["wall_s"].as_f64().unwrap_or(f64::NAN));
        last = (rec, result);
    }
    walls.sort_by(f64::total_cmp);
    let (rec, result) = last;
    Ok(json!({
        "workload": "groupby",
        "params": {"glob": glob, "npartitions": rec["npartitions"]},
        "seconds": walls[walls.len() / 2],
        "runs": walls,
        "last": rec,
        "result": result,
    }))
}
