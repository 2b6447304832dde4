//! Tree reductions: each partition reduced on its own, partials combined
//! `SPLIT_EVERY` at a time, one last task finishes. Group-bys, column
//! reductions and `len` are all this shape (dask's `split_every`).

use std::sync::Arc;

use blockwork_graph::{r, Key, Op, Task};

use crate::param::named_enum;

/// Partials combined per task.
pub(crate) const SPLIT_EVERY: usize = 8;

named_enum! {
    /// A task's place in a reduction: its parameters say which, as one
    /// named function does all three.
    pub(crate) enum Stage {
        /// One input partition reduced to a partial.
        Partial = "partial",
        /// Partials merged into one.
        Combine = "combine",
        /// Partials merged and made the result.
        Finish = "finish",
    }
}

/// The tasks of a tree over `inputs` under the layer `name` (keys
/// `(depth, i)`), each of `op` at its stage, and the key of its root.
pub(crate) fn tree(name: &Arc<str>, inputs: &[Key], op: impl Fn(Stage) -> Op) -> (Vec<(Key, Task<Key>)>, Key) {
    let (partial, combine) = (op(Stage::Partial), op(Stage::Combine));
    let mut tasks = Vec::new();
    let mut depth = 0u32;
    let mut level: Vec<Key> = inputs
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let key = Key::with_shared_name(name, &[depth, i as u32]);
            tasks.push((key.clone(), Task::new(partial.clone(), vec![r(k.clone())])));
            key
        })
        .collect();
    while level.len() > SPLIT_EVERY {
        depth += 1;
        level = level
            .chunks(SPLIT_EVERY)
            .enumerate()
            .map(|(i, group)| {
                let key = Key::with_shared_name(name, &[depth, i as u32]);
                tasks.push((key.clone(), Task::new(combine.clone(), group.iter().cloned().map(r).collect())));
                key
            })
            .collect();
    }
    let root = Key::with_shared_name(name, &[depth + 1, 0]);
    tasks.push((root.clone(), Task::new(op(Stage::Finish), level.into_iter().map(r).collect())));
    (tasks, root)
}
