//! The graph crate's error type.

use std::path::PathBuf;

use crate::Key;

/// What can be wrong with a graph, or with a request about one.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// A task refers to a key that no task produces.
    #[error("task {wanted_by} depends on {missing}, which is not in the graph")]
    MissingDependency {
        /// The key nobody produces.
        missing: Key,
        /// The task that wanted it.
        wanted_by: Key,
    },
    /// The tasks depend on each other in a circle.
    #[error("the graph has a cycle: {}", show_cycle(.keys))]
    Cycle {
        /// The keys on the cycle, each depending on the next, the last on the first.
        keys: Vec<Key>,
    },
    /// A requested key is not in the graph.
    #[error("{0} is not in the graph")]
    UnknownKey(Key),
    /// SVG/PNG output needs Graphviz.
    #[error("the Graphviz `dot` program was not found on PATH, so {0} cannot be drawn; install graphviz, or ask for a .dot file")]
    DotNotFound(PathBuf),
    /// `dot` ran and failed.
    #[error("Graphviz `dot` failed drawing {path}: {message}")]
    DotFailed {
        /// The picture that was asked for.
        path: PathBuf,
        /// What `dot` said.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn show_cycle(keys: &[Key]) -> String {
    let mut s: Vec<String> = keys.iter().map(ToString::to_string).collect();
    if let Some(first) = keys.first() {
        s.push(first.to_string());
    }
    s.join(" -> ")
}
