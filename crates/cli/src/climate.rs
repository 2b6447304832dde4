//! `blockwork demo climate`: the seasonal temperature anomaly of one
//! year against a 30-year climatology, on a pile of monthly ERA5-like
//! NetCDF files, written to NetCDF and drawn as a 2×2 map.
//!
//! Without `--glob`, it first makes the pile (once; later runs reuse it):
//! the variable, units, attributes, calendar and grid of the reference
//! generator `gen_netcdf.py` — daily 2 m temperature on a 1° grid, a
//! meridional gradient, a seasonal cycle opposite per hemisphere, a small
//! warming trend and N(0, 2) noise (drawn by blockwork's own generator,
//! so the noise differs from NumPy's).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use blockwork::array as bwa;
use blockwork::labeled::{self as xr, AttrValue, Attrs, Calendar, Coord, Coords, Data, DataArray, DateTime, Index};

/// Flags of `blockwork demo climate`.
#[derive(clap::Args)]
pub struct ClimateArgs {
    /// An existing pile (`era5_t2m_*.nc`); without it, one is made in `--dir`.
    #[arg(long)]
    glob: Option<String>,
    /// Where to make (or find) the synthetic pile.
    #[arg(long, default_value_os_t = std::env::temp_dir().join("blockwork-era5"))]
    dir: PathBuf,
    /// First year of the synthetic pile.
    #[arg(long, default_value_t = 1979)]
    start_year: i32,
    /// Last year of the synthetic pile.
    #[arg(long, default_value_t = 2018)]
    end_year: i32,
    /// Compress the synthetic pile (zlib level 1 + shuffle).
    #[arg(long)]
    zlib: bool,
    #[command(flatten)]
    years: blockwork_cli::Years,
    /// The anomaly, as NetCDF.
    #[arg(long, default_value = "anomaly.nc")]
    out: PathBuf,
    /// The 2×2 map.
    #[arg(long, default_value = "anomaly.png")]
    png: PathBuf,
    /// Workers of the local cluster it runs on (one thread each); 0 runs
    /// on this process's threads instead.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Where the local cluster serves its dashboard (`HOST:PORT`; another
    /// port when that one is taken; `none` for none).
    #[arg(long, default_value = "127.0.0.1:8787")]
    dashboard_address: String,
    /// Seconds to keep the local cluster (and its dashboard) after the
    /// computation, to look at its task stream.
    #[arg(long, default_value_t = 0)]
    keep_dashboard: u64,
}

fn days_in_month(year: i32, month: u8) -> u8 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 1]
}

fn text(attrs: &[(&str, &str)]) -> Attrs {
    attrs.iter().map(|(k, v)| (k.to_string(), AttrValue::from(*v))).collect()
}

/// One month of daily 2 m temperature, as `gen_netcdf.py` makes it.
fn month(year: i32, m: u8, seed: u64) -> anyhow::Result<xr::Dataset> {
    let nd = days_in_month(year, m) as usize;
    let lat: Vec<f64> = (0..181).map(|i| 90.0 - i as f64).collect();
    let lon: Vec<f64> = (0..360).map(f64::from).collect();
    let doy0 = (1..m).map(|k| days_in_month(year, k) as usize).sum::<usize>();
    // Everything but the noise varies along time and latitude only.
    let smooth = ndarray::Array3::from_shape_fn((nd, lat.len(), 1), |(t, j, _)| {
        let slat = lat[j].to_radians().sin();
        let doy = (doy0 + t + 1) as f64;
        let base = 288.0 - 30.0 * slat.abs() + 0.02 * f64::from(year - 1979);
        (base - 12.0 * slat * (2.0 * std::f64::consts::PI * (doy - 15.0) / 365.25).cos()) as f32
    });
    let smooth = bwa::from_ndarray(smooth.into_dyn(), vec![nd, lat.len(), 1])?;
    let shape = [nd, lat.len(), lon.len()];
    let noise = bwa::random::draw::<f32>(
        bwa::random::Dist::Normal { loc: 0.0, scale: 2.0 },
        &shape,
        vec![nd.div_ceil(4), lat.len(), lon.len()],
        seed,
    )?;
    let t2m = smooth.add(&noise)?;
    let times = Index::Time {
        calendar: Calendar::Standard,
        values: (1..=nd as u8).map(|d| DateTime::date(year, m, d)).collect(),
    };
    let mut coords = Coords::new();
    coords.insert("time".into(), Coord { index: times, attrs: text(&[("long_name", "time")]) });
    let lat_attrs = text(&[("units", "degrees_north"), ("long_name", "latitude")]);
    coords.insert("latitude".into(), Coord { index: Index::Float(lat), attrs: lat_attrs });
    let lon_attrs = text(&[("units", "degrees_east"), ("long_name", "longitude")]);
    coords.insert("longitude".into(), Coord { index: Index::Float(lon), attrs: lon_attrs });
    let attrs = text(&[("units", "K"), ("long_name", "2 metre temperature"), ("standard_name", "air_temperature")]);
    let da = DataArray::new(Some("t2m"), &["time", "latitude", "longitude"], Data::F32(t2m), coords, attrs)?;
    let global = text(&[
        ("Conventions", "CF-1.6"),
        ("history", "synthetic ERA5-like daily 2m temperature made by `blockwork demo climate`; not real ECMWF data"),
        ("source", "ECMWF ERA5 look-alike (synthetic)"),
    ]);
    Ok(xr::Dataset::from_vars(vec![da], global)?)
}

/// Makes the pile in `dir` unless every file is already there.
fn make_pile(a: &ClimateArgs) -> anyhow::Result<String> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    let path = |y: i32, m: u8| a.dir.join(format!("era5_t2m_{y:04}_{m:02}.nc"));
    let months: Vec<(i32, u8)> = (a.start_year..=a.end_year).flat_map(|y| (1..=12).map(move |m| (y, m))).collect();
    let missing: Vec<&(i32, u8)> = months.iter().filter(|(y, m)| !path(*y, *m).exists()).collect();
    if !missing.is_empty() {
        let t = Instant::now();
        eprintln!("making {} monthly files in {} ...", missing.len(), a.dir.display());
        let opts = xr::NetcdfOptions { netcdf4: true, zlib: a.zlib.then_some(1) };
        for (i, &&(y, m)) in missing.iter().enumerate() {
            let seed = (y as u64) * 12 + u64::from(m) - 1;
            // Written under a temporary name, so an interrupted run leaves no half file.
            let tmp = path(y, m).with_extension("nc.part");
            month(y, m, seed)?.to_netcdf_with(&tmp, opts)?;
            std::fs::rename(&tmp, path(y, m))?;
            if (i + 1) % 60 == 0 {
                eprintln!("  {} / {} files", i + 1, missing.len());
            }
        }
        eprintln!("made the pile in {:.1} s", t.elapsed().as_secs_f64());
    }
    Ok(a.dir.join("era5_t2m_*.nc").display().to_string())
}

/// Runs the demo.
pub fn run(a: ClimateArgs) -> anyhow::Result<()> {
    blockwork::register_builtins();
    let glob = match &a.glob {
        Some(g) => g.clone(),
        None => make_pile(&a)?,
    };
    // As a Dask user writes it: with a client as the default scheduler,
    // the same code below computes on the cluster instead of on threads.
    let cluster = start_cluster(&a)?;
    let client = cluster.as_ref().map(|c| c.client()).transpose()?;
    let _default = client.as_ref().map(|c| c.as_default());

    let t0 = Instant::now();
    let tas = xr::open_mfdataset(glob.as_str(), &[("time", 31)])?.get("t2m")?;
    let t1 = Instant::now();
    println!("{tas}");
    let mut anom = a.years.anomaly(&tas)?;
    anom.attrs_mut().extend(tas.attrs().clone());
    // Computed once (on the workers of a cluster, which keep it), then
    // written, drawn and summarized from the held blocks.
    let anom = anom.persist()?;
    let t2 = Instant::now();
    anom.to_netcdf(&a.out)?;
    anom.plot_facets(&a.png, "season", 2, None)?;
    let values = anom.values()?;
    let t3 = Instant::now();
    let seasons = &anom.coord("season")?.index;
    let y = a.years;
    println!("{} anomaly against {}–{}, mean per season:", y.year, y.clim_start, y.clim_end);
    for k in 0..seasons.len() {
        let s = values.index_axis(ndarray::Axis(0), k);
        println!("  {}  {:+.4} K", seasons.label(k), s.iter().sum::<f64>() / s.len() as f64);
    }
    println!(
        "open {:.2} s · compute {:.2} s · write {} and {} {:.2} s",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        show(&a.out),
        show(&a.png),
        (t3 - t2).as_secs_f64()
    );
    if let Some(c) = &cluster {
        if a.keep_dashboard > 0 && c.dashboard_link().is_some() {
            eprintln!("keeping the cluster and its dashboard for {} s", a.keep_dashboard);
            std::thread::sleep(std::time::Duration::from_secs(a.keep_dashboard));
        }
    }
    Ok(())
}

/// A local cluster of `a.workers` workers (in this process, one thread
/// each), or none when 0: the demo then runs on threads.
fn start_cluster(a: &ClimateArgs) -> anyhow::Result<Option<blockwork::distributed::LocalCluster>> {
    use blockwork::distributed::{LocalCluster, SchedulerOptions, WorkerOptions};
    if a.workers == 0 {
        return Ok(None);
    }
    let http = (a.dashboard_address != "none").then(|| a.dashboard_address.clone());
    let options = SchedulerOptions { http, ..SchedulerOptions::default() };
    let cluster = LocalCluster::start_with(a.workers, WorkerOptions::new(1, "worker"), options)?;
    eprintln!("local cluster at {} with {} workers", cluster.address(), a.workers);
    if let Some(link) = cluster.dashboard_link() {
        eprintln!("dashboard at {link}");
    }
    Ok(Some(cluster))
}

fn show(p: &Path) -> String {
    p.display().to_string()
}
