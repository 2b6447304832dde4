//! Random and structured task graphs for the simulation, with the plain
//! evaluation every simulated result is compared against.

use blockwork_graph::Key;

use super::rng::Rng;

/// One simulated task: what it reads and how it behaves on a worker.
#[derive(Clone, Debug)]
pub struct Def {
    pub key: Key,
    /// Indices of its inputs in the graph, in argument order.
    pub deps: Vec<usize>,
    /// The first `fail_attempts` runs of it (over the whole simulation)
    /// raise an error; `u32::MAX`: always.
    pub fail_attempts: u32,
    pub retries: u32,
    pub gpu: bool,
    pub duration_us: u64,
    pub nbytes: u64,
}

pub struct SimGraph {
    pub defs: Vec<Def>,
    /// `value[i]`: what task `i` computes, by plain evaluation.
    pub value: Vec<u64>,
}

pub use blockwork_testkit::task_value;

#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Random,
    Chain,
    FanOut,
    FanIn,
    Tree,
    Diamonds,
    SeededBlocks,
}

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

impl SimGraph {
    pub fn generate(rng: &mut Rng, tag: u64, gpus: bool) -> (Shape, SimGraph) {
        let shape = *rng.pick(&SHAPES).unwrap();
        let n = rng.range(1, 60) as usize;
        let mut deps: Vec<Vec<usize>> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        match shape {
            Shape::Random => {
                for i in 0..n {
                    let k = if i == 0 { 0 } else { rng.below(i.min(4) as u64 + 1) as usize };
                    let mut d: Vec<usize> = Vec::new();
                    for _ in 0..k {
                        let j = rng.below(i as u64) as usize;
                        if !d.contains(&j) {
                            d.push(j);
                        }
                    }
                    names.push(if d.is_empty() { "load" } else { ["inc", "add", "mul"][d.len() % 3] });
                    deps.push(d);
                }
            }
            Shape::Chain => {
                for i in 0..n {
                    deps.push(if i == 0 { vec![] } else { vec![i - 1] });
                    names.push(if i == 0 { "load" } else { "step" });
                }
            }
            Shape::FanOut => {
                deps.push(vec![]);
                names.push("load");
                for _ in 1..n {
                    deps.push(vec![0]);
                    names.push("map");
                }
            }
            Shape::FanIn => {
                for _ in 0..n.saturating_sub(1).max(1) {
                    deps.push(vec![]);
                    names.push("load");
                }
                let all: Vec<usize> = (0..deps.len()).collect();
                deps.push(all);
                names.push("concat");
            }
            Shape::Tree => {
                let split = rng.range(2, 4) as usize;
                let leaves = n.max(2);
                let mut level: Vec<usize> = (0..leaves).collect();
                for _ in 0..leaves {
                    deps.push(vec![]);
                    names.push("load");
                }
                while level.len() > 1 {
                    let mut next = Vec::new();
                    for chunk in level.chunks(split) {
                        deps.push(chunk.to_vec());
                        names.push("sum");
                        next.push(deps.len() - 1);
                    }
                    level = next;
                }
            }
            Shape::Diamonds => {
                deps.push(vec![]);
                names.push("load");
                let mut top = 0;
                for _ in 0..(n / 3).max(1) {
                    deps.push(vec![top]);
                    deps.push(vec![top]);
                    deps.push(vec![deps.len() - 2, deps.len() - 1]);
                    names.extend(["left", "right", "join"]);
                    top = deps.len() - 1;
                }
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
        let mut value = Vec::with_capacity(defs.len());
        for d in &defs {
            let inputs: Vec<u64> = d.deps.iter().map(|&j| value[j]).collect();
            value.push(task_value(&d.key, &inputs));
        }
        (shape, SimGraph { defs, value })
    }

    /// Indices of the tasks nothing depends on.
    pub fn sinks(&self) -> Vec<usize> {
        let deps: Vec<&[usize]> = self.defs.iter().map(|d| d.deps.as_slice()).collect();
        blockwork_testkit::sinks(&deps)
    }

    /// `i` and everything it depends on, in index order (dependencies first).
    pub fn closure(&self, roots: &[usize]) -> Vec<usize> {
        let deps: Vec<&[usize]> = self.defs.iter().map(|d| d.deps.as_slice()).collect();
        blockwork_testkit::closure(&deps, roots)
    }

    /// Whether `a` is `b` or one of its (transitive) dependencies.
    pub fn is_ancestor_or_self(&self, a: usize, b: usize) -> bool {
        self.closure(&[b]).contains(&a)
    }
}
