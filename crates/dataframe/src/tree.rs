//! Tree reductions: each partition reduced on its own, partials combined
//! `SPLIT_EVERY` at a time, one last task finishes. Group-bys, column
//! reductions and `len` are all this shape (dask's `split_every`).

use std::sync::Arc;

use blockwork_graph::{r, Key, Op, Task};

/// Partials combined per task.
pub(crate) const SPLIT_EVERY: usize = 8;

/// The tasks of a tree over `inputs` under the layer `name` (keys
/// `(depth, i)`), and the key of its root.
pub(crate) fn tree(
    name: &Arc<str>,
    inputs: &[Key],
    partial: &Op,
    combine: &Op,
    finish: &Op,
) -> (Vec<(Key, Task<Key>)>, Key) {
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
    tasks.push((root.clone(), Task::new(finish.clone(), level.into_iter().map(r).collect())));
    (tasks, root)
}
