//! `inflate`: the bound of the climate job on a compressed pile. The
//! chunks the job reads, their stored bytes already in memory, inflated
//! on every thread and nothing else done: by libdeflate (what the job's
//! reader uses) and by zlib-rs (what the NetCDF reader under it uses).
//! The job reading chunks at this speed would be "at inflate throughput".
//!
//! Every chunk is inflated once by both before the timed runs: both must
//! give its decoded size and the same bytes (each checks the stream's
//! checksum too). Every timed run is checked to inflate the pile's total.

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::readfold::{self, Located};
use blockwork::labeled as xr;
use serde_json::{json, Value as Json};

/// Parameters of the workload.
pub struct Params<'a> {
    pub glob: &'a str,
    pub var: &'a str,
    pub years: &'a blockwork_cli::Years,
    pub threads: usize,
}

/// A chunk's stored bytes and the size it inflates to.
struct Stored {
    bytes: Vec<u8>,
    decoded: usize,
}

/// An inflater's state, as each thread holds one.
enum Inflater {
    Libdeflate(libdeflater::Decompressor),
    ZlibRs(Box<flate2::Decompress>),
}

/// Makes an inflater's state.
type NewInflater = fn() -> Inflater;

/// The inflaters compared, by name.
const INFLATERS: [(&str, NewInflater); 2] = [
    ("libdeflate", || Inflater::Libdeflate(libdeflater::Decompressor::new())),
    ("zlib-rs", || Inflater::ZlibRs(Box::new(flate2::Decompress::new(true)))),
];

impl Inflater {
    /// Inflates chunk `c` into the start of `out`: its decoded size, or
    /// an error when the stream is bad or inflates to another size.
    fn inflate(&mut self, c: &Stored, out: &mut [u8]) -> anyhow::Result<usize> {
        let out = &mut out[..c.decoded];
        let n = match self {
            Inflater::Libdeflate(d) => d.zlib_decompress(&c.bytes, out)?,
            Inflater::ZlibRs(z) => {
                z.reset(true);
                let status = z.decompress(&c.bytes, out, flate2::FlushDecompress::Finish)?;
                anyhow::ensure!(status == flate2::Status::StreamEnd, "zlib-rs: the stream did not end");
                z.total_out() as usize
            }
        };
        anyhow::ensure!(n == c.decoded, "inflated to {n} bytes, not {}", c.decoded);
        Ok(n)
    }
}

/// Time steps of `t` in the job's selection (`sel` of a label absent
/// from a file selects nothing).
fn selected(t: &xr::DataArray, years: &blockwork_cli::Years) -> anyhow::Result<usize> {
    let (cs, ce, y) = (years.clim_start.to_string(), years.clim_end.to_string(), years.year.to_string());
    let size = |a: xr::Result<xr::DataArray>| match a {
        Ok(a) => Ok(a.shape().iter().product::<usize>()),
        Err(xr::LabeledError::Label(_)) => Ok(0),
        Err(e) => Err(e),
    };
    Ok(size(t.sel("time", cs.as_str()..=ce.as_str()))? + size(t.sel("time", y.as_str()))?)
}

/// The stored chunks of `var` in the files of the glob the job reads,
/// and where they are when every one is a shuffled float32 chunk (what
/// `readfold` takes).
fn chunks(p: &Params<'_>) -> anyhow::Result<(Vec<Stored>, Option<Vec<Located>>)> {
    let (mut chunks, mut located) = (Vec::new(), Some(Vec::new()));
    for path in xr::glob(p.glob)? {
        let t = xr::open_dataset(&path, &[])?.get(p.var)?;
        if selected(&t, p.years)? == 0 {
            continue;
        }
        let Some(stored) = xr::io::netcdf::stored_chunks(&path, p.var)? else {
            anyhow::bail!("{}: `{}` is not stored in chunks blockwork reads one by one", path.display(), p.var);
        };
        let file = std::fs::File::open(&path)?;
        let f32 = t.data().dtype() == blockwork::array::DType::F32;
        for c in stored {
            anyhow::ensure!(c.deflated, "{}: a chunk of `{}` is not deflated", path.display(), p.var);
            let mut bytes = vec![0u8; c.size];
            file.read_exact_at(&mut bytes, c.offset)?;
            chunks.push(Stored { bytes, decoded: c.decoded_size });
            if !(f32 && c.shuffled) {
                located = None;
            }
            if let Some(l) = &mut located {
                let map = c.shape[1..].iter().product::<u64>() as usize;
                let (offset, size, decoded) = (c.offset, c.size, c.decoded_size);
                l.push(Located { path: path.clone(), offset, size, decoded, map });
            }
        }
    }
    anyhow::ensure!(!chunks.is_empty(), "no chunk of `{}` in the selected years of {}", p.var, p.glob);
    Ok((chunks, located))
}

/// Inflates every chunk on `threads` threads: the seconds and the bytes
/// inflated.
fn timed(new: NewInflater, chunks: &[Stored], threads: usize) -> anyhow::Result<(f64, usize)> {
    let largest = chunks.iter().map(|c| c.decoded).max().unwrap_or(0);
    let mut states: Vec<(Inflater, Vec<u8>, usize)> =
        (0..threads.max(1)).map(|_| (new(), vec![0xa5u8; largest], 0)).collect();
    let seconds = on_threads(&mut states, chunks, |(inflater, out, total), c| {
        *total += inflater.inflate(c, out)?;
        Ok(())
    })?;
    Ok((seconds, states.iter().map(|s| s.2).sum()))
}

/// Runs `f` on every item, one thread per state, each thread taking the
/// next item not yet taken: the seconds from the first item to the last.
/// The states are made (their buffers' pages touched) before the clock
/// starts, as the job's are by its first read.
pub(crate) fn on_threads<S: Send, C: Sync>(
    states: &mut [S],
    items: &[C],
    f: impl Fn(&mut S, &C) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<f64> {
    let (next, f) = (&AtomicUsize::new(0), &f);
    let t0 = Instant::now();
    let done: Vec<anyhow::Result<()>> = std::thread::scope(|s| {
        let workers: Vec<_> = states
            .iter_mut()
            .map(|state| {
                s.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { return Ok(()) };
                    f(state, item)?;
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a benchmark thread panicked")).collect()
    });
    let seconds = t0.elapsed().as_secs_f64();
    done.into_iter().collect::<anyhow::Result<()>>()?;
    Ok(seconds)
}

/// Runs the workload: `repeats` timed runs of each inflater.
pub fn run(p: &Params<'_>, repeats: usize) -> anyhow::Result<Json> {
    let (chunks, located) = chunks(p)?;
    let want: usize = chunks.iter().map(|c| c.decoded).sum();
    let stored: usize = chunks.iter().map(|c| c.bytes.len()).sum();
    // Both inflaters give every chunk the same bytes; the sum of its
    // elements, were they shuffled float32, checks `readfold`.
    let mut total = 0.0;
    let largest = chunks.iter().map(|c| c.decoded).max().unwrap_or(0);
    let (mut a, mut b) = (vec![0u8; largest], vec![0u8; largest]);
    let [(_, libdeflate), (_, zlib)] = INFLATERS;
    let (mut la, mut zb) = (libdeflate(), zlib());
    for (i, c) in chunks.iter().enumerate() {
        let n = la.inflate(c, &mut a).map_err(|e| anyhow::anyhow!("libdeflate, chunk {i}: {e}"))?;
        zb.inflate(c, &mut b).map_err(|e| anyhow::anyhow!("zlib-rs, chunk {i}: {e}"))?;
        anyhow::ensure!(a[..n] == b[..n], "chunk {i}: libdeflate and zlib-rs inflate to different bytes");
        total += shuffled_f32_sum(&a[..n]);
    }
    let mut impls = serde_json::Map::new();
    let mut totals = Vec::new();
    for (name, new) in INFLATERS {
        let mut runs = Vec::new();
        for _ in 0..repeats.max(1) {
            let (seconds, total) = timed(new, &chunks, p.threads)?;
            eprintln!("inflate: {name} {seconds:.3} s");
            runs.push(seconds);
            totals.push(total as f64);
        }
        let seconds = crate::overhead::median(runs.clone());
        impls.insert(
            name.into(),
            json!({"runs_seconds": runs, "seconds": seconds, "inflated_gb_s": want as f64 / seconds / 1e9}),
        );
    }
    let sizes = crate::check::Verdict::of(&totals, want as f64, 0.0, "the chunks' decoded sizes, summed");
    let mut pipelines = serde_json::Map::new();
    let mut sums = Vec::new();
    for order in [readfold::Order::Block, readfold::Order::Map] {
        let Some(located) = &located else { break };
        let mut runs = Vec::new();
        for _ in 0..repeats.max(1) {
            let (seconds, sum) = readfold::run(order, located, p.threads)?;
            eprintln!("inflate: {} {seconds:.3} s", order.name());
            runs.push(seconds);
            sums.push(sum);
        }
        let seconds = crate::overhead::median(runs.clone());
        pipelines.insert(
            order.name().into(),
            json!({"runs_seconds": runs, "seconds": seconds, "inflated_gb_s": want as f64 / seconds / 1e9}),
        );
    }
    // Sums of 10^8 terms in another order agree to far better than 1e-7;
    // a map missed or taken twice moves the sum by more than 1e-4.
    let folded = crate::check::Verdict::of(&sums, total, 1e-7, "");
    let check = crate::check::Verdict::of_difference(
        sizes.worst.max(folded.worst),
        1e-7,
        "each inflate run's bytes against the chunks' decoded sizes; each read-and-fold run's sum against the sum of the inflated elements",
    );
    Ok(json!({
        "workload": "inflate",
        "params": {
            "glob": p.glob, "var": p.var, "clim_start": p.years.clim_start, "clim_end": p.years.clim_end,
            "year": p.years.year, "threads": p.threads,
        },
        "seconds": impls["libdeflate"]["seconds"],
        "result": {"chunks": chunks.len(), "stored_bytes": stored, "inflated_bytes": want, "sum": total},
        "impls": impls,
        "pipelines": pipelines,
        "check": check.to_json(),
    }))
}

/// The sum of the float32 elements whose bytes are shuffled into `bytes`
/// (NaN as 0), plainly.
fn shuffled_f32_sum(bytes: &[u8]) -> f64 {
    let n = bytes.len() / 4;
    (0..n)
        .map(|i| f64::from(f32::from_le_bytes(std::array::from_fn(|b| bytes[b * n + i]))))
        .filter(|x| !x.is_nan())
        .sum()
}
