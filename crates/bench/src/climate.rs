//! `climate`: the seasonal anomaly of one year against a climatology, on a
//! pile of ERA5-like NetCDF files, as `../reference/climate.py` does it
//! with xarray and Dask.

use std::path::Path;
use std::time::Instant;

use blockwork::labeled as xr;
use blockwork::labeled::io::stages;
use serde_json::{json, Value as Json};

use crate::check::{Check, Verdict};

/// Parameters of the workload.
pub struct Params<'a> {
    pub glob: &'a str,
    pub time_chunk: usize,
    pub years: blockwork_cli::Years,
    pub png: Option<&'a Path>,
    pub out: Option<&'a Path>,
    pub check: Option<&'a Check>,
}

/// One run: open, build, compute; returns timings and the result.
fn once(
    p: &Params<'_>,
    target: &crate::overhead::Target,
) -> anyhow::Result<(Json, ndarray::ArrayD<f64>, xr::DataArray)> {
    let t0 = Instant::now();
    let tas = xr::open_mfdataset(p.glob, &[("time", p.time_chunk)])?.get("t2m")?;
    let t1 = Instant::now();
    let anom = p.years.anomaly(&tas)?;
    let t2 = Instant::now();
    let before = (stages::READ.totals(), stages::INFLATE.totals());
    let values = target.compute_array(&anom.data().cast::<f64>())?;
    let t3 = Instant::now();
    let (read, inflate) = (stages::READ.totals().since(before.0), stages::INFLATE.totals().since(before.1));
    let mut rec = json!({
        "open_s": (t1 - t0).as_secs_f64(),
        "build_s": (t2 - t1).as_secs_f64(),
        "compute_s": (t3 - t2).as_secs_f64(),
        "wall_s": (t3 - t0).as_secs_f64(),
        "tas_shape": tas.shape(),
        "tas_chunks_time_n": tas.data().chunks()[0].len(),
        "n_tasks": anom.data().ntasks(),
    });
    if read.calls > 0 {
        // Read in this process (not on a cluster's workers): the
        // threads' time by stage.
        let thread_s = (t3 - t2).as_secs_f64() * target.threads() as f64;
        let stage = |t: stages::Totals| {
            json!({
                "thread_s": t.time.as_secs_f64(),
                "share_of_thread_time": t.time.as_secs_f64() / thread_s,
                "bytes": t.bytes,
                "calls": t.calls,
                "gb_per_s_per_thread": t.throughput() / 1e9,
            })
        };
        rec["stages"] =
            json!({"threads": target.threads(), "thread_s": thread_s, "read": stage(read), "inflate": stage(inflate)});
    }
    let mut anom = anom;
    anom.attrs_mut().extend(tas.attrs().clone());
    Ok((rec, values, anom))
}

/// Runs the workload `repeats` times; reports the median wall time, the
/// mean anomaly per season, and (with `check`) the largest difference of
/// any repeat from the result xarray wrote.
pub fn run(p: &Params<'_>, target: &crate::overhead::Target, repeats: usize) -> anyhow::Result<Json> {
    blockwork::register_builtins();
    let reference = match p.check {
        None => None,
        Some(Check::File(path)) => {
            let r = xr::open_dataset(path, &[])?;
            let name = r.data_vars().first().map(|s| s.to_string()).unwrap_or_default();
            Some(r.get(&name)?.values()?)
        }
        Some(other) => anyhow::bail!("climate checks against the file xarray wrote (climate.py --out), not {other:?}"),
    };
    let mut runs = Vec::new();
    let mut last = None;
    let mut worst = 0.0f64;
    for _ in 0..repeats.max(1) {
        let (rec, values, anom) = once(p, target)?;
        eprintln!("climate: wall {:.3} s (open {:.3}, compute {:.3})", rec["wall_s"], rec["open_s"], rec["compute_s"]);
        if let Some(want) = &reference {
            anyhow::ensure!(
                want.shape() == values.shape(),
                "reference shape {:?} vs {:?}",
                want.shape(),
                values.shape()
            );
            let diff = values.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, |m: f64, d| {
                if d.is_nan() {
                    f64::INFINITY
                } else {
                    m.max(d)
                }
            });
            worst = worst.max(diff);
        }
        runs.push(rec);
        last = Some((values, anom));
    }
    let (values, anom) = last.ok_or_else(|| anyhow::anyhow!("no run"))?;
    let walls: Vec<f64> = runs.iter().map(|r| r["wall_s"].as_f64().unwrap_or(0.0)).collect();
    let mut timing = json!({});
    let median = crate::arrays::seconds_of(&walls, target, &mut timing);
    let mid = runs.iter().find(|r| r["wall_s"].as_f64() == Some(median)).cloned().unwrap_or(json!({}));
    let seasons = anom.coord("season")?.index.clone();
    let per_season: serde_json::Map<String, Json> = (0..seasons.len())
        .map(|k| {
            let s = values.index_axis(ndarray::Axis(0), k);
            let m = s.iter().sum::<f64>() / s.len() as f64;
            (seasons.label(k), json!((m * 1e6).round() / 1e6))
        })
        .collect();
    let mut rec = json!({
        "workload": "climate",
        "params": {"glob": p.glob, "time_chunk": p.time_chunk, "clim_start": p.years.clim_start, "clim_end": p.years.clim_end, "year": p.years.year},
        "seconds": median,
        "result": per_season.clone(),
        "result_shape": values.shape(),
        "result_dims": anom.dims(),
        "season_mean_anomaly_K": per_season,
        "runs_wall_s": runs.iter().map(|r| r["wall_s"].clone()).collect::<Vec<_>>(),
    });
    if let (Some(r), Some(m), Some(t)) = (rec.as_object_mut(), mid.as_object(), timing.as_object()) {
        r.extend(m.clone());
        r.extend(t.clone());
    }
    if let Some(out) = p.out {
        anom.to_netcdf(out)?;
        rec["wrote_netcdf"] = json!(out.display().to_string());
    }
    if let Some(png) = p.png {
        anom.plot_facets(png, "season", 2, None)?;
        rec["wrote_png"] = json!(png.display().to_string());
    }
    if reference.is_some() {
        // Anomalies are a few kelvin, computed from float32 data: agree
        // with xarray's to 1e-4 K.
        rec["check"] =
            Verdict::of_difference(worst, 1e-4, "largest |difference| in K from the anomaly xarray wrote").to_json();
        rec["max_abs_diff_vs_reference"] = json!(worst);
    }
    Ok(rec)
}
