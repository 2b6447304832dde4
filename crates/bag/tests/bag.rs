//! Every bag operation against a plain Rust computation of the same
//! items, on random inputs and partitionings; text piles (plain, .gz,
//! .zst, cut into blocks of lines) against the files' own lines; and the
//! errors that name what is wrong.

use std::collections::HashMap;

use blockwork_bag::{from_sequence, read_text, Bag, BagError, TextOptions};
use blockwork_local::{Config, Scheduler};
use blockwork_testkit::Rng;

fn configs() -> [Config; 2] {
    [Config::with_scheduler(Scheduler::Sync), Config::with_scheduler(Scheduler::Threads(3))]
}

#[test]
fn item_operations_and_reductions_match_plain_rust() {
    let mut rng = Rng::new(11);
    for case in 0..30 {
        let n = rng.below(300) as usize;
        let items: Vec<i64> = (0..n).map(|_| rng.below(40) as i64 - 10).collect();
        let parts = 1 + rng.below(12) as usize;
        let bag = from_sequence(items.clone(), parts).unwrap();
        assert_eq!(bag.npartitions(), parts.min(n).max(1), "case {case}");
        let config = &configs()[case % 2];
        let what = format!("case {case}: {n} items in {parts} partitions");

        let mapped = bag.map(|x| x * 3).filter(|x| x % 2 == 0).flat_map(|&x| vec![x; (x.rem_euclid(3)) as usize]);
        let want: Vec<i64> = items
            .iter()
            .map(|x| x * 3)
            .filter(|x| x % 2 == 0)
            .flat_map(|x| vec![x; (x.rem_euclid(3)) as usize])
            .collect();
        assert_eq!(mapped.compute_with(config).unwrap(), want, "{what}");
        // The same through an emitting closure, no Vec per item.
        let emitted = bag.map(|x| x * 3).filter(|x| x % 2 == 0).flat_map_with(|x, out| {
            for i in 0..x.rem_euclid(3) {
                if i % 2 == 0 {
                    out.push(*x)
                } else {
                    out.push_ref(x)
                }
            }
        });
        assert_eq!(emitted.compute_with(config).unwrap(), want, "{what}: flat_map_with");
        assert_eq!(
            emitted.frequencies().compute_with(config).unwrap(),
            mapped.frequencies().compute_with(config).unwrap()
        );
        // Reductions read fused item-wise steps item by item.
        assert_eq!(mapped.count().compute_with(config).unwrap(), want.len() as u64, "{what}");
        assert_eq!(mapped.sum().compute_with(config).unwrap(), want.iter().sum::<i64>(), "{what}");
        assert_eq!(mapped.max().compute_with(config).unwrap(), want.iter().max().copied(), "{what}");
        let want_top: Vec<i64> = {
            let mut w = want.clone();
            w.sort_by_key(|x| std::cmp::Reverse(*x));
            w.truncate(70);
            w
        };
        assert_eq!(mapped.topk(70, |x| *x).compute_with(config).unwrap(), want_top, "{what}");
        let sums = bag.map_partitions(|xs| vec![xs.iter().sum::<i64>()]).compute_with(config).unwrap();
        assert_eq!(sums.iter().sum::<i64>(), items.iter().sum::<i64>(), "{what}");

        assert_eq!(bag.count().compute_with(config).unwrap(), n as u64, "{what}");
        assert_eq!(bag.sum().compute_with(config).unwrap(), items.iter().sum::<i64>(), "{what}");
        let mean = bag.mean().compute_with(config).unwrap();
        if n == 0 {
            assert!(mean.is_nan());
        } else {
            assert!((mean - items.iter().sum::<i64>() as f64 / n as f64).abs() < 1e-9, "{what}");
        }
        assert_eq!(bag.min().compute_with(config).unwrap(), items.iter().min().copied(), "{what}");
        assert_eq!(bag.max().compute_with(config).unwrap(), items.iter().max().copied(), "{what}");
        let folded = bag.fold(0i64, |a, &x| a + x * x, |a, b| a + b).compute_with(config).unwrap();
        assert_eq!(folded, items.iter().map(|x| x * x).sum::<i64>(), "{what}");

        // frequencies: each distinct item once with its count, most
        // frequent first, ties in first-seen order.
        let mut order: Vec<i64> = Vec::new();
        let mut counts: HashMap<i64, u64> = HashMap::new();
        for &x in &items {
            if !counts.contains_key(&x) {
                order.push(x);
            }
            *counts.entry(x).or_default() += 1;
        }
        let mut want: Vec<(i64, u64)> = order.iter().map(|x| (*x, counts[x])).collect();
        want.sort_by_key(|p| std::cmp::Reverse(p.1));
        let freq = bag.frequencies();
        assert_eq!(freq.npartitions(), 1);
        assert_eq!(freq.compute_with(config).unwrap(), want, "{what}");
        let mut distinct = bag.distinct().compute_with(config).unwrap();
        distinct.sort_unstable();
        let mut want_distinct = order.clone();
        want_distinct.sort_unstable();
        assert_eq!(distinct, want_distinct, "{what}");

        let k = rng.below(8) as usize;
        let mut top = items.clone();
        top.sort_by_key(|x| std::cmp::Reverse(x.abs()));
        top.truncate(k);
        assert_eq!(bag.topk(k, |x| x.abs()).compute_with(config).unwrap(), top, "{what}");

        let by = bag.foldby(|x| x.rem_euclid(5), 0i64, |a, &x| a + x, |a, b| a + b).compute_with(config).unwrap();
        let mut want_by: HashMap<i64, i64> = HashMap::new();
        for &x in &items {
            *want_by.entry(x.rem_euclid(5)).or_default() += x;
        }
        assert_eq!(by.iter().cloned().collect::<HashMap<_, _>>(), want_by, "{what}");
        assert_eq!(by.len(), want_by.len(), "{what}: a key twice");

        let groups_n = 1 + rng.below(5) as usize;
        let grouped = bag.groupby(|x| x.rem_euclid(7), groups_n).unwrap();
        assert_eq!(grouped.npartitions(), groups_n);
        let grouped = grouped.compute_with(config).unwrap();
        let mut want_groups: HashMap<i64, Vec<i64>> = HashMap::new();
        for &x in &items {
            want_groups.entry(x.rem_euclid(7)).or_default().push(x);
        }
        assert_eq!(grouped.len(), want_groups.len(), "{what}: a key in two partitions");
        assert_eq!(grouped.into_iter().collect::<HashMap<_, _>>(), want_groups, "{what}");

        let t = rng.below(n as u64 + 5) as usize;
        assert_eq!(bag.take_with(t, config).unwrap(), items[..t.min(n)].to_vec(), "{what}");
    }
}

/// Random lines; some files end without a newline; one line is long.
fn pile(dir: &std::path::Path, rng: &mut Rng) -> Vec<String> {
    let words = ["alpha", "beta", "gamma", "delta", "ε", "zeta", "eta"];
    let mut all = Vec::new();
    for (f, ext) in ["", "", ".gz", ".zst", ""].iter().enumerate() {
        let mut lines = Vec::new();
        for i in 0..rng.below(200) {
            let n = if i == 7 { 3000 } else { rng.below(12) };
            let line: Vec<&str> = (0..n).map(|_| words[rng.below(words.len() as u64) as usize]).collect();
            lines.push(format!("{}\n", line.join(" ")));
        }
        if f == 1 {
            if let Some(last) = lines.last_mut() {
                last.pop(); // no newline at the end of the file
            }
        }
        let text = lines.concat();
        let path = dir.join(format!("part-{f}.txt{ext}"));
        let bytes = match *ext {
            ".gz" => {
                use std::io::Write;
                let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(text.as_bytes()).unwrap();
                enc.finish().unwrap()
            }
            ".zst" => zstd::stream::encode_all(text.as_bytes(), 1).unwrap(),
            _ => text.into_bytes(),
        };
        std::fs::write(path, bytes).unwrap();
        all.extend(lines);
    }
    all
}

#[test]
fn text_piles_read_as_their_lines_in_any_blocksize() {
    let dir = std::env::temp_dir().join(format!("bw-bag-text-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(5);
    let want = pile(&dir, &mut rng);
    let pattern = format!("{}/part-*", dir.display());
    for blocksize in [None, Some(1), Some(7), Some(100), Some(4096), Some(1 << 20)] {
        let bag = read_text(&pattern, &TextOptions { blocksize }).unwrap();
        for config in &configs() {
            assert_eq!(bag.compute_with(config).unwrap(), want, "blocksize {blocksize:?}");
            // Streamed from the files into a consumer, not made as a partition first.
            assert_eq!(bag.count().compute_with(config).unwrap(), want.len() as u64, "blocksize {blocksize:?}");
            let copied = bag.map(|l: &String| l.clone()).compute_with(config).unwrap();
            assert_eq!(copied, want, "streamed, blocksize {blocksize:?}");
        }
        if blocksize == Some(100) {
            assert!(bag.npartitions() > 5, "uncompressed files are cut into blocks");
        }
    }
    // Word frequencies, as the bench's wordfreq.
    let bag = read_text(&pattern, &TextOptions { blocksize: Some(512) }).unwrap();
    let words = bag.flat_map(|l: &String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>());
    let top = words.frequencies().topk(3, |(_, n)| *n).compute().unwrap();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for l in &want {
        for w in l.split_whitespace() {
            *counts.entry(w.to_string()).or_default() += 1;
        }
    }
    let mut by_count: Vec<u64> = counts.values().copied().collect();
    by_count.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(top.iter().map(|(_, n)| *n).collect::<Vec<_>>(), by_count[..3.min(by_count.len())].to_vec());
    assert!(top.iter().all(|(w, n)| counts[w] == *n));

    // Written back, compressed or not, and read again.
    for ext in ["txt", "txt.gz", "txt.zst"] {
        let out = format!("{}/out-{ext}/part-*.{ext}", dir.display());
        let written = bag.to_textfiles(&out).unwrap();
        assert_eq!(written.len(), bag.npartitions());
        let back = read_text(&out, &TextOptions::default()).unwrap().compute().unwrap();
        let mut want_back = want.clone();
        if let Some(last) = want_back.iter_mut().rev().find(|l| !l.ends_with('\n')) {
            last.push('\n'); // each written line ends with a newline
        }
        assert_eq!(back, want_back, "{ext}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mistakes_are_named() {
    let err = read_text("/nonexistent-dir-bw/*.txt", &TextOptions::default()).unwrap_err();
    assert!(matches!(err, BagError::Io { .. }) && err.to_string().contains("/nonexistent-dir-bw"), "{err}");
    let dir = std::env::temp_dir().join(format!("bw-bag-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = read_text(&format!("{}/*.nomatch", dir.display()), &TextOptions::default()).unwrap_err();
    assert!(matches!(err, BagError::NoFiles(_)) && err.to_string().contains("no file matches"), "{err}");
    std::fs::write(dir.join("bad.txt"), [0xff, 0xfe, b'\n']).unwrap();
    let bad = read_text(&format!("{}/bad.txt", dir.display()), &TextOptions::default()).unwrap();
    let err = bad.compute().unwrap_err().to_string();
    assert!(err.contains("bad.txt is not UTF-8") && err.contains("read-text"), "{err}");
    let err = bad.map(|l: &String| l.len()).count().compute().unwrap_err().to_string();
    assert!(err.contains("bad.txt is not UTF-8 text: at byte 0"), "{err}");
    let zero = read_text(&format!("{}/bad.txt", dir.display()), &TextOptions { blocksize: Some(0) }).unwrap_err();
    assert!(zero.to_string().contains("blocksize 0"), "{zero}");
    std::fs::remove_file(dir.join("bad.txt")).unwrap();
    let err = bad.count().compute().unwrap_err().to_string();
    assert!(err.contains("reading ") && err.contains("bad.txt"), "a file gone before its read: {err}");
    let _ = std::fs::remove_dir_all(&dir);

    assert!(from_sequence(vec![1], 0).unwrap_err().to_string().contains("0 partitions"));
    let bag: Bag<i64> = from_sequence((0..10).collect(), 3).unwrap();
    assert!(bag.groupby(|x| *x, 0).unwrap_err().to_string().contains("0 partitions"));
    assert!(bag.to_textfiles("/tmp/no-star.txt").unwrap_err().to_string().contains("one '*'"));
    let failing =
        bag.try_map_partitions(|xs| if xs.contains(&5) { Err("five is not allowed") } else { Ok(xs.to_vec()) });
    let err = failing.compute().unwrap_err();
    assert_eq!(blockwork_graph::Fault::kind(&err), blockwork_graph::ErrorKind::User);
    let err = err.to_string();
    assert!(err.contains("five is not allowed") && err.contains("map-partitions-"), "{err}");
    // A function's own error kind is kept: a service it could not reach.
    let unreachable = bag.try_map(|x| match x {
        7 => Err(blockwork_graph::TaskError::environment("the lookup service did not answer for 7")),
        x => Ok(x * 2),
    });
    let err = unreachable.compute().unwrap_err();
    assert_eq!(blockwork_graph::Fault::kind(&err), blockwork_graph::ErrorKind::Environment, "{err}");
    assert!(err.to_string().contains("did not answer for 7"), "{err}");
}
