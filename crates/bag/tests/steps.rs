//! Registered item-wise steps (`ItemFn`, `flat_map_named`) against the
//! same steps as closures, on random lines and partitionings: every
//! consumer (items, count, frequencies, distinct, json, a later closure)
//! and their graphs made of named tasks only (what a cluster needs).

use blockwork_bag::{from_sequence, register, Bag, Emit, ItemFn};
use blockwork_local::{Config, Scheduler};
use blockwork_testkit::Rng;

fn words(line: &str, out: &mut Emit<'_, String>) {
    line.split_whitespace().for_each(|w| out.push_str(w));
}
static WORDS: ItemFn<String, String> = ItemFn::text("test.steps.words", words);

fn length(word: &str, out: &mut Emit<'_, u64>) {
    out.push(word.len() as u64);
}
static LENGTH: ItemFn<String, u64> = ItemFn::text("test.steps.length", length);

fn long(n: &u64, out: &mut Emit<'_, u64>) {
    if *n > 3 {
        out.push_ref(n);
    }
}
static LONG: ItemFn<u64, u64> = ItemFn::new("test.steps.long", long);

// `ItemFn::new` on text takes `&String` (`ItemFn::text` takes `&str`).
#[allow(clippy::ptr_arg)]
fn as_record(word: &String, out: &mut Emit<'_, String>) {
    out.push(format!("{{\"w\": \"{word}\"}}"));
}
static AS_RECORD: ItemFn<String, String> = ItemFn::new("test.steps.as-record", as_record);

/// Whether every task of `graph` can travel to a worker process.
fn all_named(graph: &blockwork_graph::Graph) -> bool {
    graph.ids().all(|id| graph.task(id).op.is_serializable())
}

fn lines(rng: &mut Rng) -> Vec<String> {
    let vocab = ["ice", "sea", "a", "melt", "warming", "the", "ocean", "Arctic"];
    (0..rng.below(200))
        .map(|_| {
            (0..rng.below(9)).map(|_| vocab[rng.below(8) as usize]).collect::<Vec<_>>().join(if rng.below(2) == 0 {
                " "
            } else {
                "  "
            })
        })
        .collect()
}

#[test]
fn registered_steps_equal_their_closures() {
    register();
    let mut rng = Rng::new(7);
    for case in 0..20 {
        let text = lines(&mut rng);
        let parts = 1 + rng.below(9) as usize;
        let config = if case % 2 == 0 {
            Config::with_scheduler(Scheduler::Sync)
        } else {
            Config::with_scheduler(Scheduler::Threads(3))
        };
        let what = format!("case {case}: {} lines in {parts} partitions", text.len());
        let bag = from_sequence(text.clone(), parts).unwrap();
        let plain: Vec<String> = text.iter().flat_map(|l| l.split_whitespace().map(str::to_string)).collect();

        let named = bag.flat_map_named(&WORDS);
        let closure = bag.flat_map(|l: &String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>());
        assert_eq!(named.compute_with(&config).unwrap(), plain, "{what}");
        assert_eq!(named.count().compute_with(&config).unwrap(), plain.len() as u64, "{what}");
        let freqs = named.frequencies();
        assert_eq!(
            freqs.compute_with(&config).unwrap(),
            closure.frequencies().compute_with(&config).unwrap(),
            "{what}"
        );
        assert_eq!(named.distinct().compute_with(&config).unwrap(), closure.distinct().compute_with(&config).unwrap());
        for graph in [named.graph(), freqs.graph(), named.count().graph()] {
            assert!(all_named(&graph.unwrap()), "{what}: a closure task in a graph of registered steps");
        }

        // A chain of steps of three item types, fused in one task per partition.
        let long_lengths = named.flat_map_named(&LENGTH).flat_map_named(&LONG);
        let want: Vec<u64> = plain.iter().map(|w| w.len() as u64).filter(|n| *n > 3).collect();
        assert_eq!(long_lengths.compute_with(&config).unwrap(), want, "{what}");
        assert_eq!(long_lengths.count().compute_with(&config).unwrap(), want.len() as u64, "{what}");
        let layers = long_lengths.graph().unwrap().len();
        assert_eq!(layers, 2 * bag.npartitions(), "{what}: a read and one fused task per partition");

        // Records made by a step, parsed by the named JSON task.
        let records = named.flat_map_named(&AS_RECORD).json().pluck("w");
        let got: Vec<String> =
            records.compute_with(&config).unwrap().iter().map(|j| j.as_str().unwrap().to_string()).collect();
        assert_eq!(got, plain, "{what}: json");
        assert!(all_named(&records.graph().unwrap()), "{what}: json after steps");

        // Closures and registered steps mix (on this machine's threads).
        let mixed = bag.map(|l| l.to_uppercase()).flat_map_named(&WORDS).map(|w| w.len() as u64).flat_map_named(&LONG);
        assert_eq!(mixed.compute_with(&config).unwrap(), want, "{what}: mixed");
        assert!(!all_named(&mixed.graph().unwrap()), "{what}: closures stay closures");
    }
}

#[test]
fn words_pushed_as_str_owned_or_borrowed_count_alike() {
    // The same counts whether the words are pushed as `&str`, owned or borrowed.
    let bag: Bag<String> = from_sequence(vec!["b a b".to_string(), "c b a".into(), "".into()], 2).unwrap();
    let by_str = bag.flat_map_with(|l, out| l.split(' ').filter(|w| !w.is_empty()).for_each(|w| out.push_str(w)));
    let owned =
        bag.flat_map_with(|l, out| l.split(' ').filter(|w| !w.is_empty()).for_each(|w| out.push(w.to_string())));
    let want = vec![("b".to_string(), 3), ("a".into(), 2), ("c".into(), 1)];
    assert_eq!(by_str.frequencies().compute().unwrap(), want);
    assert_eq!(owned.frequencies().compute().unwrap(), want);
    assert_eq!(by_str.compute().unwrap(), vec!["b", "a", "b", "c", "b", "a"]);
}
