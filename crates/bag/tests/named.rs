//! Reductions with registered functions (`fold_named`, `foldby_named`,
//! `topk_named`, `groupby_named`) and the built-in `sum`/`mean`/`min`/
//! `max`/`to_textfiles` of registered item types, against their closure
//! forms and plain Rust on random items and partitionings; their graphs
//! made of named tasks only (what a cluster needs).

use std::collections::BTreeMap;

use blockwork_bag::{from_sequence, read_text, register, Bag, Emit, FoldByFn, FoldFn, ItemFn, KeyFn, TextOptions};
use blockwork_local::{Config, Scheduler};
use blockwork_testkit::Rng;

static SUM_SQUARES: FoldFn<i64, i64> = FoldFn::new("test.named.sum-squares", || 0, |a, x| a + x * x, |a, b| a + b);
static TOTAL_BY_MOD: FoldByFn<i64, i64, i64> =
    FoldByFn::new("test.named.total-by-mod", |x| x.rem_euclid(7), || 0, |a, x| a + x, |a, b| a + b);
static NEGATED: KeyFn<i64, i64> = KeyFn::new("test.named.negated", |x| -x);
static MOD_FIVE: KeyFn<i64, i64> = KeyFn::new("test.named.mod-five", |x| x.rem_euclid(5));

fn doubled(x: &i64, out: &mut Emit<'_, i64>) {
    out.push(2 * x);
}
static DOUBLED: ItemFn<i64, i64> = ItemFn::new("test.named.doubled", doubled);

/// Whether every task of `graph` can travel to a worker process.
fn all_named(graph: &blockwork_graph::Graph) -> bool {
    graph.ids().all(|id| graph.task(id).op.is_serializable())
}

#[test]
fn registered_reductions_equal_their_closures() {
    register();
    let mut rng = Rng::new(23);
    for case in 0..24 {
        let n = rng.below(400) as usize;
        let items: Vec<i64> = (0..n).map(|_| rng.below(1000) as i64 - 500).collect();
        let parts = 1 + rng.below(11) as usize;
        let config = if case % 2 == 0 {
            Config::with_scheduler(Scheduler::Sync)
        } else {
            Config::with_scheduler(Scheduler::Threads(3))
        };
        let what = format!("case {case}: {n} items in {parts} partitions");
        // Straight from the partitions, and through a registered step.
        let raw = from_sequence(items.clone(), parts).unwrap();
        let (bag, plain): (Bag<i64>, Vec<i64>) = if case % 3 == 0 {
            (raw.flat_map_named(&DOUBLED), items.iter().map(|x| 2 * x).collect())
        } else {
            (raw, items.clone())
        };

        let folded = bag.fold_named(&SUM_SQUARES);
        assert_eq!(folded.compute_with(&config).unwrap(), plain.iter().map(|x| x * x).sum::<i64>(), "{what}");
        let sum = bag.sum();
        assert_eq!(sum.compute_with(&config).unwrap(), plain.iter().sum::<i64>(), "{what}: sum");
        let mean = bag.mean().compute_with(&config).unwrap();
        let want_mean = plain.iter().sum::<i64>() as f64 / plain.len() as f64;
        assert!(
            mean == want_mean || (mean.is_nan() && plain.is_empty()) || (mean - want_mean).abs() < 1e-9,
            "{what}: mean"
        );
        assert_eq!(bag.min().compute_with(&config).unwrap(), plain.iter().min().copied(), "{what}: min");
        assert_eq!(bag.max().compute_with(&config).unwrap(), plain.iter().max().copied(), "{what}: max");

        let by = bag.foldby_named(&TOTAL_BY_MOD);
        let by_closure = bag.foldby(|x| x.rem_euclid(7), 0, |a, x| a + x, |a, b| a + b);
        assert_eq!(by.compute_with(&config).unwrap(), by_closure.compute_with(&config).unwrap(), "{what}: foldby");

        let k = rng.below(12) as usize;
        let top = bag.topk_named(k, &NEGATED);
        assert_eq!(
            top.compute_with(&config).unwrap(),
            bag.topk(k, |x| -x).compute_with(&config).unwrap(),
            "{what}: topk"
        );

        let groups = 1 + rng.below(4) as usize;
        let grouped = bag.groupby_named(&MOD_FIVE, groups).unwrap();
        assert_eq!(grouped.npartitions(), groups);
        let got: BTreeMap<i64, Vec<i64>> = grouped.compute_with(&config).unwrap().into_iter().collect();
        let mut want: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        plain.iter().for_each(|x| want.entry(x.rem_euclid(5)).or_default().push(*x));
        assert_eq!(got, want, "{what}: groupby (items in input order)");

        for graph in [folded.graph(), sum.graph(), bag.mean().graph(), bag.min().graph()] {
            assert!(all_named(&graph.unwrap()), "{what}: a closure task in a reduction");
        }
        for graph in [by.graph(), top.graph(), grouped.graph()] {
            assert!(all_named(&graph.unwrap()), "{what}: a closure task in a keyed reduction");
        }
    }
    // After a closure step, the same functions run as closures (on threads).
    let bag = from_sequence((0..100i64).collect(), 4).unwrap().map(|x| x + 1);
    assert_eq!(bag.fold_named(&SUM_SQUARES).compute().unwrap(), (1..=100i64).map(|x| x * x).sum::<i64>());
    assert!(!all_named(&bag.fold_named(&SUM_SQUARES).graph().unwrap()));
}

#[test]
fn text_files_are_written_by_named_tasks() {
    register();
    let dir = std::env::temp_dir().join(format!("bw-named-text-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let lines: Vec<String> = (0..50).map(|i| format!("line {i}")).collect();
    let bag = from_sequence(lines.clone(), 3).unwrap();
    let pattern = format!("{}/out/part-*.txt.gz", dir.display());
    let files = bag.to_textfiles(&pattern).unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(
        read_text(&pattern.replace('*', "?"), &TextOptions::default()).unwrap().compute().unwrap(),
        lines.iter().map(|l| format!("{l}\n")).collect::<Vec<_>>()
    );
    let numbers = from_sequence(vec![1.5f64, -2.0, 3.25], 2).unwrap();
    numbers.to_textfiles(&format!("{}/n-*.txt", dir.display())).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("n-0.txt")).unwrap() + &std::fs::read_to_string(dir.join("n-1.txt")).unwrap(),
        "1.5\n-2\n3.25\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn typed_kernel_parameters_are_in_the_handshake_fingerprint() {
    register();
    let layouts = blockwork_graph::registry_layouts();
    let layout = |name: &str| layouts.iter().find(|(n, _)| *n == name).map(|(_, l)| &l[..]);
    assert_eq!(layout("blockwork.bag.reduce_combine"), Some("ReduceParams { reducer: Arc<str>, arg: Option<usize> }"));
    assert_eq!(layout("blockwork.bag.pluck"), Some("PluckParams { key: Arc<str>, default: Option<String> }"));
    assert!(
        layout("blockwork.bag.steps").is_some_and(|l| l.starts_with("PipelineParams { Items { steps: Vec<Arc<str>> }"))
    );
    assert!(layout("blockwork.bag.read_text").is_some_and(|l| l.starts_with("ReadTextParams { Whole { file: String }")));
    assert_eq!(layout("blockwork.bag.json"), Some("NoParams {  }"));
    let undeclared: Vec<_> = layouts.iter().filter(|(n, l)| n.starts_with("blockwork.bag.") && l.is_empty()).collect();
    assert!(undeclared.is_empty(), "{undeclared:?}");
}
