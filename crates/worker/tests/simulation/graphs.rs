//! The worker simulation's mix of task graphs: the shared shapes of
//! `blockwork_testkit::sim`, with some flaky tasks.

use blockwork_graph::Key;
pub use blockwork_testkit::sim::{Def, Shape, SimGraph};
pub use blockwork_testkit::task_value;

use blockwork_testkit::Rng;

const SHAPES: [Shape; 7] =
    [Shape::Random, Shape::Random, Shape::Chain, Shape::FanOut, Shape::FanIn, Shape::Tree, Shape::Diamonds];

/// A graph of this seed: its shape and tasks.
pub fn generate(rng: &mut Rng, tag: u64) -> (Shape, SimGraph) {
    let shape = SHAPES[rng.below(SHAPES.len() as u64) as usize];
    let n = rng.range(1, 50) as usize;
    let deps = match shape {
        Shape::Random => SimGraph::random(n, rng),
        _ => SimGraph::structured(shape, n, rng),
    };
    let mut defs = Vec::with_capacity(deps.len());
    for (i, d) in deps.into_iter().enumerate() {
        let flaky = rng.pct(5);
        defs.push(Def {
            key: Key::block(format!("{}-{:x}", ["load", "inc", "add", "mul", "sum"][d.len().min(4)], tag), &[i as u32]),
            deps: d,
            fail_attempts: u32::from(flaky),
            retries: if flaky { u32::from(rng.pct(70)) } else { 0 },
            gpu: false,
            duration_us: rng.range(1_000, 100_000),
            nbytes: 1 << rng.range(4, 22),
        });
    }
    (shape, SimGraph::new(defs))
}
