//! Multi-stage rechunking: values against ndarray on random shapes,
//! chunkings and limits, and the built graphs against the plan's promises
//! (intermediate blocks and every task's inputs within the limit, few
//! inputs per task, one stage when one is enough).

use std::collections::HashMap;

use blockwork_array::{self as bwa, plan_rechunk, plan_rechunk_with, Array, Block, Chunks, RechunkOpts};
use proptest::prelude::*;

mod common;
use common::*;

/// Per rechunk task of `y` (made from `x` through `plan`): how many input
/// blocks it reads and their bytes, summed.
fn task_inputs(x: &Array<f64>, y: &Array<f64>, plan: &[Chunks]) -> Vec<(usize, usize)> {
    let g = y.graph().unwrap();
    let mut first: HashMap<&str, _> = HashMap::new();
    for id in g.ids() {
        first.entry(g.key(id).name()).or_insert(id);
    }
    // Walk the chain of layers from the output down to the input.
    let mut chunks_of: HashMap<String, Chunks> = HashMap::new();
    let mut name = y.name().to_string();
    if y.name() != x.name() {
        for stage in plan.iter().rev() {
            chunks_of.insert(name.clone(), stage.clone());
            let deps = g.deps(first[name.as_str()]);
            assert!(!deps.is_empty(), "layer {name} reads nothing");
            name = g.key(deps[0]).name().to_string();
        }
    }
    assert_eq!(name, x.name(), "the plan's stages lead back to the input");
    chunks_of.insert(name, x.chunks().clone());
    g.ids()
        .filter(|&id| g.key(id).name() != x.name())
        .map(|id| {
            let deps = g.deps(id);
            let bytes = deps
                .iter()
                .map(|&d| {
                    let k = g.key(d);
                    chunks_of[k.name()].block_shape(k.index()).iter().product::<usize>() * 8
                })
                .sum();
            (deps.len(), bytes)
        })
        .collect()
}

/// Checks a rechunk of `a` from `old` to `new` chunks: values, plan, blocks
/// and task inputs within the limit.
fn check(a: &ndarray::ArrayD<f64>, old: Vec<Vec<usize>>, new: Vec<Vec<usize>>, opts: &RechunkOpts) {
    let x = bwa::from_ndarray(a.clone(), old).unwrap();
    let target = Chunks::normalize(&new.into(), a.shape(), 8).unwrap();
    let y = x.rechunk_with(&target, opts).unwrap();
    assert_eq!(y.chunks(), &target);
    for cfg in configs() {
        assert_eq!(&y.compute_with(&cfg).unwrap(), a);
    }
    let plan = plan_rechunk_with(x.chunks(), &target, 8, opts);
    assert_eq!(plan.last(), Some(&target));
    let limit = opts.limit_bytes(x.chunks(), &target, 8);
    for stage in &plan {
        assert_eq!(stage.shape(), a.shape());
        assert!(stage.max_block_len() * 8 <= limit, "block of {stage:?} over {limit} bytes");
    }
    for (n, bytes) in task_inputs(&x, &y, &plan) {
        assert!(n >= 1);
        assert!(bytes <= limit, "a task reads {bytes} bytes, over the limit of {limit}, through {plan:?}");
    }
}

/// A 2-d shape and two regular chunkings of it, often far apart.
fn shape_and_two_chunkings() -> impl Strategy<Value = (Vec<usize>, [usize; 2], [usize; 2])> {
    (1usize..48, 1usize..48)
        .prop_flat_map(|(m, n)| (Just(vec![m, n]), [1..=m, 1..=n], [1..=m, 1..=n]).prop_map(|(s, a, b)| (s, a, b)))
}

fn chunkings_of(shape: Vec<usize>) -> impl Strategy<Value = Vec<Vec<usize>>> {
    shape
        .iter()
        .map(|&n| proptest::collection::vec(1usize..6, n).prop_map(move |cuts| cut(n, &cuts)))
        .collect::<Vec<_>>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn staged_rechunk_matches_ndarray(
        (shape, c1, c2) in shape_and_chunks().prop_flat_map(|(s, c1)| (Just(s.clone()), Just(c1), chunkings_of(s))),
        seed in any::<u64>(),
        limit in 8usize..1024,
        threshold in prop_oneof![Just(None), (1.0f64..6.0).prop_map(Some)],
    ) {
        let a = data(&shape, seed);
        check(&a, c1, c2, &RechunkOpts { block_limit_bytes: Some(limit), threshold });
    }

    #[test]
    fn rows_columns_and_between_match_ndarray(
        (shape, from, to) in shape_and_two_chunkings(),
        seed in any::<u64>(),
        limit in prop_oneof![Just(None), (8usize..4096).prop_map(Some)],
    ) {
        let a = data(&shape, seed);
        let old = Chunks::regular(&shape, &from).axes().to_vec();
        let new = Chunks::regular(&shape, &to).axes().to_vec();
        check(&a, old, new, &RechunkOpts { block_limit_bytes: limit, threshold: None });
    }
}

/// The most elements one task of a stage from `old` to `new` reads: per
/// axis, the most any new block overlaps of old blocks, multiplied.
fn most_read(old: &Chunks, new: &Chunks) -> usize {
    (0..old.ndim())
        .map(|ax| {
            let (o, n) = (old.offsets(ax), new.offsets(ax));
            n.windows(2)
                .map(|w| {
                    let first = o.partition_point(|&b| b <= w[0]) - 1;
                    let last = o.partition_point(|&b| b < w[1]) - 1;
                    o[last + 1] - o[first]
                })
                .max()
                .unwrap_or(0)
        })
        .product()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Plans only (no graph), on shapes too big to compute.
    #[test]
    fn plans_keep_their_promises_on_big_shapes(
        (shape, from, to) in proptest::collection::vec(1usize..5000, 1..4).prop_flat_map(|s| {
            let sizes = |s: &Vec<usize>| s.iter().map(|&n| 1..=n).collect::<Vec<_>>();
            (Just(s.clone()), sizes(&s), sizes(&s))
        }),
        limit in (10u32..26).prop_map(|b| 1usize << b),
    ) {
        let (old, new) = (Chunks::regular(&shape, &from), Chunks::regular(&shape, &to));
        let plan = plan_rechunk(&old, &new, 8, Some(limit));
        let bytes = RechunkOpts::limit(limit).limit_bytes(&old, &new, 8);
        prop_assert_eq!(plan.last(), Some(&new));
        prop_assert!(plan.len() <= 10);
        let mut prev = &old;
        for stage in &plan {
            prop_assert_eq!(stage.shape(), shape.clone());
            prop_assert!(stage.max_block_len() * 8 <= bytes);
            prop_assert!(most_read(prev, stage) * 8 <= bytes, "{:?} -> {:?}", prev.numblocks(), stage.numblocks());
            prev = stage;
        }
    }
}

#[test]
fn rows_to_columns_go_through_stages_of_bounded_tasks() {
    let n = 20_000;
    // Merging rows reads at most limit / 160 kB rows; the last stage reads
    // one piece per row group, 20000 rows / that.
    for (limit, most_inputs, most_edges) in [(None, 838, 30_000), (Some(16 << 20), 200, 100_000)] {
        let x = bwa::random::random(&[n, n], [1, n], 1).unwrap();
        let target = Chunks::regular(&[n, n], &[n, 100]);
        let plan = plan_rechunk(x.chunks(), &target, 8, limit);
        let bytes = RechunkOpts { block_limit_bytes: limit, ..Default::default() }.limit_bytes(x.chunks(), &target, 8);
        assert!(plan.len() > 1, "{plan:?}");
        assert!(plan.iter().all(|c| c.max_block_len() * 8 <= bytes));
        let y = x.rechunk_with(&target, &RechunkOpts { block_limit_bytes: limit, ..Default::default() }).unwrap();
        assert_eq!(y.chunks(), &target);
        let inputs = task_inputs(&x, &y, &plan);
        let widest = inputs.iter().map(|&(n, _)| n).max().unwrap();
        assert!(widest <= most_inputs, "a task reads {widest} blocks (one stage: {n})");
        assert!(inputs.iter().all(|&(_, b)| b <= bytes));
        // One stage has 20000 × 200 edges.
        let edges: usize = inputs.iter().map(|&(n, _)| n).sum();
        assert!(edges <= most_edges, "{edges} edges");
    }
    // Columns to rows.
    let x = bwa::random::random(&[n, n], [n, 100], 1).unwrap();
    let target = Chunks::regular(&[n, n], &[100, n]);
    let plan = plan_rechunk(x.chunks(), &target, 8, None);
    assert!(plan.len() > 1);
    let y = x.rechunk(&target).unwrap();
    let inputs = task_inputs(&x, &y, &plan);
    assert!(inputs.iter().all(|&(n, b)| n <= 32 && b <= 128 << 20), "one stage: 200 inputs of 16 MB each");
}

#[test]
fn one_stage_when_one_is_enough() {
    let shape = [1000, 600];
    let c = |size: [usize; 2]| Chunks::regular(&shape, &size);
    let cases = [
        (c([100, 100]), c([100, 100])),  // identity
        (c([100, 100]), c([1000, 600])), // merge
        (c([100, 100]), c([500, 300])),
        (c([1, 600]), c([1000, 600])),
        (c([1000, 600]), c([10, 10])), // split
        (c([1000, 600]), c([1000, 1])),
        (c([100, 100]), c([100, 50])),
    ];
    for (old, new) in &cases {
        for limit in [None, Some(1), Some(1 << 20)] {
            let plan = plan_rechunk(old, new, 8, limit);
            assert_eq!(plan, vec![new.clone()], "{:?} -> {:?}, limit {limit:?}", old.numblocks(), new.numblocks());
        }
    }
    // Blocks cut at different places, small next to the limit.
    assert_eq!(plan_rechunk(&c([300, 100]), &c([400, 150]), 8, None).len(), 1);
    let x = bwa::ones::<f64>(&shape, [100, 100]).unwrap();
    assert_eq!(x.rechunk([100, 100]).unwrap().name(), x.name());
    assert_eq!(x.rechunk([500, 300]).unwrap().ntasks(), 60 + 4);
}

#[test]
fn constants_stay_constant_through_every_stage() {
    let x = bwa::ones::<f64>(&[2000, 2000], [1, 2000]).unwrap();
    let opts = RechunkOpts::limit(1 << 20);
    let target = Chunks::regular(&[2000, 2000], &[2000, 10]);
    assert_eq!(plan_rechunk_with(x.chunks(), &target, 8, &opts).len(), 3);
    let y = x.rechunk_with(&target, &opts).unwrap();
    let blocks = blockwork_local::compute(y.graph().unwrap(), &y.keys(), &configs()[1]).unwrap();
    assert_eq!(blocks.len(), 200);
    for v in &blocks {
        match v.downcast_ref::<Block<f64>>() {
            Some(Block::Const { value, shape }) => assert_eq!((*value, shape.as_slice()), (1.0, &[2000, 10][..])),
            other => panic!("expected a constant block, got {other:?}"),
        }
    }
    assert_eq!(y.sum().compute_scalar().unwrap(), 4e6);
}

#[test]
fn bad_target_chunks_are_errors() {
    let x = bwa::ones::<f64>(&[10, 10], 5).unwrap();
    assert!(x.rechunk(vec![vec![5, 4], vec![10]]).is_err());
    assert!(x.rechunk_with([3, 3, 3], &RechunkOpts::default()).is_err());
}
