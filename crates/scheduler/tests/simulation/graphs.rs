//! The scheduler simulation's mix of task graphs: the shared shapes of
//! `blockwork_testkit::sim`, plus seeded blocks (root-ish tasks with an
//! input), flaky tasks (some failing on every run) and GPU tasks.

use blockwork_graph::Key;
pub use blockwork_testkit::sim::{Def, Shape, SimGraph};
pub use blockwork_testkit::task_value;

use blockwork_testkit::Rng;

const SHAPES: [Shape; 8] = [
    Shape::Random,
    Shape::Random,
    Shape::Chain,
    Shape::FanOut,
    Shape::FanIn,
    Shape::Tree,
    Shape::Diamonds,
    Shape::SeededBlocks,
];

/// A graph of this seed: its shape and tasks.
pub fn generate(rng: &mut Rng, tag: u64, gpus: bool) -> (Shape, SimGraph) {
    let shape = *rng.pick(&SHAPES).unwrap();
    let n = rng.range(1, 60) as usize;
    let mut deps: Vec<Vec<usize>> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    match shape {
        Shape::Random => {
            deps = SimGraph::random(n, rng);
            names =
                deps.iter().map(|d| if d.is_empty() { "load" } else { ["inc", "add", "mul"][d.len() % 3] }).collect();
        }
        Shape::SeededBlocks => {
            // One small seed read by a big group of blocks: root-ish
            // tasks that have a dependency. Then a tree sum.
            deps.push(vec![]);
            names.push("seed");
            let blocks: Vec<usize> = (0..n.max(2))
                .map(|_| {
                    deps.push(vec![0]);
                    names.push("random");
                    deps.len() - 1
                })
                .collect();
            for chunk in blocks.chunks(4) {
                deps.push(chunk.to_vec());
                names.push("partial");
            }
            let partials: Vec<usize> = (deps.len() - blocks.chunks(4).len()..deps.len()).collect();
            deps.push(partials);
            names.push("total");
        }
        _ => {
            deps = SimGraph::structured(shape, n, rng);
            names = deps.iter().enumerate().map(|(i, d)| structured_name(shape, i, d)).collect();
        }
    }
    let mut defs = Vec::with_capacity(deps.len());
    for (i, d) in deps.into_iter().enumerate() {
        let name = format!("{}-{:x}", names[i], tag & 0xffff_ffff);
        let flaky = rng.pct(8);
        let fail_attempts = if rng.pct(1) {
            u32::MAX
        } else if flaky {
            rng.range(1, 2) as u32
        } else {
            0
        };
        let retries = if flaky { rng.range(0, 3) as u32 } else { rng.below(2) as u32 };
        defs.push(Def {
            key: Key::block(name, &[i as u32]),
            deps: d,
            fail_attempts,
            retries,
            gpu: gpus && rng.pct(15),
            duration_us: rng.range(1_000, 200_000),
            nbytes: 1 << rng.range(4, 24),
        });
    }
    (shape, SimGraph::new(defs))
}

/// A task's name in a structured shape: inputs are loaded, then stepped,
/// mapped, concatenated, summed or split and joined.
fn structured_name(shape: Shape, i: usize, deps: &[usize]) -> &'static str {
    if deps.is_empty() {
        return "load";
    }
    match shape {
        Shape::Chain => "step",
        Shape::FanOut => "map",
        Shape::FanIn => "concat",
        Shape::Tree => "sum",
        Shape::Diamonds => ["left", "right", "join"][(i - 1) % 3],
        Shape::Random | Shape::SeededBlocks => unreachable!(),
    }
}
