//! `wordfreq`: the ten most frequent words of a text pile, as dask.bag
//! writes it — `read_text(glob).map(str.split).flatten().frequencies()
//! .topk(10, key=1)` — on the local threads with closures, or on a
//! cluster with the splitting as a registered step (`WORDS`);
//! result = the top count. The check counts every word of every file in
//! one plain pass.

use std::collections::HashMap;

use blockwork::bag::{Emit, ItemFn};
use serde_json::{json, Value as Json};

use crate::check::{Check, Verdict};
use crate::overhead::Target;

/// The ten most frequent words and their counts: with closures on this
/// machine's threads; on a cluster the words of each partition come from
/// [`WORDS`] and the counts, sorted most frequent first, are taken.
fn once(glob: &str, blocksize: Option<u64>, emit: bool, target: &Target) -> anyhow::Result<Vec<(String, u64)>> {
    use blockwork::bag::{read_text, TextOptions};
    let lines = read_text(glob, &TextOptions { blocksize })?;
    match target {
        Target::Local(config) => {
            // `--style emit`: the words handed on one by one, no Vec per line.
            let words = if emit {
                lines.flat_map_with(|l: &String, out| l.split_whitespace().for_each(|w| out.push_str(w)))
            } else {
                lines.flat_map(|l: &String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            };
            // As a user computes it: with the graph optimized (a read and
            // its partial fused into one task).
            Ok(words.frequencies().topk(10, |(_, n)| *n).compute_with(&config.clone().optimize(true))?)
        }
        Target::Cluster { client, .. } => {
            let on = blockwork::Config::with_scheduler(client.scheduler());
            let words = lines.flat_map_named(&WORDS);
            Ok(words.frequencies().take_with(10, &on)?)
        }
    }
}

/// The words of a line, split at whitespace: `str.split` as a registered
/// step, so that it runs on a cluster's workers (fused there with the
/// counting, as a closure is on threads).
fn words(line: &str, out: &mut Emit<'_, String>) {
    line.split_whitespace().for_each(|w| out.push_str(w));
}

/// [`words`], registered by the bench's worker processes.
pub static WORDS: ItemFn<String, String> = ItemFn::text("bench.wordfreq.words", words);

/// Runs the workload `repeats` times; the record of the contract. On a
/// cluster the first run is on fresh worker processes (`cold_seconds`).
pub fn run(
    glob: &str,
    blocksize: Option<u64>,
    style: &str,
    target: &Target,
    repeats: usize,
    check: Option<&Check>,
) -> anyhow::Result<Json> {
    let emit = match style {
        "collect" => false,
        "emit" => true,
        other => anyhow::bail!("--style {other:?}: collect (a Vec of words per line) or emit (flat_map_with)"),
    };
    let mut walls = Vec::new();
    let mut tops = Vec::new();
    for _ in 0..repeats.max(1) {
        let t0 = std::time::Instant::now();
        let top = once(glob, blocksize, emit, target)?;
        walls.push(t0.elapsed().as_secs_f64());
        eprintln!("wordfreq: {:.3} s, top {:?}", walls.last().unwrap_or(&0.0), top.first());
        tops.push(top);
    }
    let last = tops.last().cloned().unwrap_or_default();
    let mut sorted = walls.clone();
    sorted.sort_by(f64::total_cmp);
    // On a cluster the words come from the registered step, whatever the style.
    let style = if matches!(target, Target::Cluster { .. }) { "flat_map_named" } else { style };
    let mut record = json!({
        "workload": "wordfreq",
        "params": {"glob": glob, "blocksize": blocksize, "style": style},
        "seconds": sorted[sorted.len() / 2],
        "cold_seconds": walls[0],
        "warm_seconds": if walls.len() > 1 { median(&walls[1..]) } else { walls[0] },
        "runs_seconds": walls,
        "result": last.first().map_or(0, |(_, n)| *n),
        "top10": last,
    });
    match check {
        None => {}
        Some(Check::Auto) => record["check"] = verify(glob, &tops)?.to_json(),
        Some(Check::Value(v)) => {
            let got: Vec<f64> = tops.iter().map(|t| t.first().map_or(0.0, |(_, n)| *n as f64)).collect();
            record["check"] = Verdict::of(&got, *v, 0.0, "the given top count").to_json();
        }
        Some(other) => anyhow::bail!("wordfreq checks against a plain pass or a count: not {other:?}"),
    }
    Ok(record)
}

/// The median of some timings.
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Every repeat's top ten against one plain pass over the files (whole
/// files read and split at whitespace, counted in a hash map): the same
/// counts, in order.
fn verify(glob: &str, tops: &[Vec<(String, u64)>]) -> anyhow::Result<Verdict> {
    let files = blockwork::store::list(glob).map_err(|e| anyhow::anyhow!("{glob}: {e}"))?;
    anyhow::ensure!(!files.is_empty(), "{glob}: no file");
    let mut counts: HashMap<String, u64> = HashMap::new();
    for f in &files {
        let text = String::from_utf8(blockwork::store::read_all(f)?)?;
        for w in text.split_whitespace() {
            match counts.get_mut(w) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(w.to_string(), 1);
                }
            }
        }
    }
    let mut want: Vec<u64> = counts.values().copied().collect();
    want.sort_unstable_by(|a, b| b.cmp(a));
    want.truncate(10);
    let mut worst = 0.0f64;
    for top in tops {
        let same =
            top.len() == want.len() && top.iter().zip(&want).all(|((w, n), m)| n == m && counts.get(w) == Some(n));
        if !same {
            worst = f64::INFINITY;
        }
    }
    Ok(Verdict::of_difference(worst, 0.0, "a plain pass over the files (split at whitespace, counted per word)"))
}
