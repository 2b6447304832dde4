//! Random and structured task graphs, with the plain evaluation every
//! simulated result is compared against.

use blockwork_graph::Key;

use super::rng::Rng;

/// One simulated task.
#[derive(Clone, Debug)]
pub struct Def {
    pub key: Key,
    /// Inputs, in argument order.
    pub deps: Vec<usize>,
    /// Its first `fail_attempts` runs raise an error.
    pub fail_attempts: u32,
    pub retries: u32,
    pub duration_us: u64,
    pub nbytes: u64,
}

pub struct SimGraph {
    pub defs: Vec<Def>,
    /// What each task computes, by plain evaluation.
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
}

impl SimGraph {
    pub fn generate(rng: &mut Rng, tag: u64) -> (Shape, SimGraph) {
        const SHAPES: [Shape; 7] =
            [Shape::Random, Shape::Random, Shape::Chain, Shape::FanOut, Shape::FanIn, Shape::Tree, Shape::Diamonds];
        let shape = SHAPES[rng.below(SHAPES.len() as u64) as usize];
        let n = rng.range(1, 50) as usize;
        let mut deps: Vec<Vec<usize>> = Vec::new();
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
                    deps.push(d);
                }
            }
            Shape::Chain => (0..n).for_each(|i| deps.push(if i == 0 { vec![] } else { vec![i - 1] })),
            Shape::FanOut => {
                deps.push(vec![]);
                (1..n).for_each(|_| deps.push(vec![0]));
            }
            Shape::FanIn => {
                (0..n.max(2) - 1).for_each(|_| deps.push(vec![]));
                deps.push((0..deps.len()).collect());
            }
            Shape::Tree => {
                let split = rng.range(2, 4) as usize;
                let mut level: Vec<usize> = (0..n.max(2)).collect();
                level.iter().for_each(|_| deps.push(vec![]));
                while level.len() > 1 {
                    let mut next = Vec::new();
                    for chunk in level.chunks(split) {
                        deps.push(chunk.to_vec());
                        next.push(deps.len() - 1);
                    }
                    level = next;
                }
            }
            Shape::Diamonds => {
                deps.push(vec![]);
                let mut top = 0;
                for _ in 0..(n / 3).max(1) {
                    deps.push(vec![top]);
                    deps.push(vec![top]);
                    deps.push(vec![deps.len() - 2, deps.len() - 1]);
                    top = deps.len() - 1;
                }
            }
        }
        let mut defs = Vec::with_capacity(deps.len());
        for (i, d) in deps.into_iter().enumerate() {
            let flaky = rng.pct(5);
            defs.push(Def {
                key: Key::block(
                    format!("{}-{:x}", ["load", "inc", "add", "mul", "sum"][d.len().min(4)], tag),
                    &[i as u32],
                ),
                deps: d,
                fail_attempts: u32::from(flaky),
                retries: if flaky { u32::from(rng.pct(70)) } else { 0 },
                duration_us: rng.range(1_000, 100_000),
                nbytes: 1 << rng.range(4, 22),
            });
        }
        let mut value = Vec::with_capacity(defs.len());
        for d in &defs {
            let inputs: Vec<u64> = d.deps.iter().map(|&j| value[j]).collect();
            value.push(task_value(&d.key, &inputs));
        }
        (shape, SimGraph { defs, value })
    }

    /// Tasks nothing depends on.
    pub fn sinks(&self) -> Vec<usize> {
        let deps: Vec<&[usize]> = self.defs.iter().map(|d| d.deps.as_slice()).collect();
        blockwork_testkit::sinks(&deps)
    }

    /// `roots` and everything they depend on, dependencies first.
    pub fn closure(&self, roots: &[usize]) -> Vec<usize> {
        let deps: Vec<&[usize]> = self.defs.iter().map(|d| d.deps.as_slice()).collect();
        blockwork_testkit::closure(&deps, roots)
    }
}
