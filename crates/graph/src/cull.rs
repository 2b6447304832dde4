//! Culling: keep only what the requested outputs need.

use crate::error::GraphError;
use crate::{Graph, Key};

impl Graph {
    /// The subgraph of `outputs` and everything they depend on. An output
    /// that is not in the graph is an error naming it.
    pub fn cull(mut self, outputs: &[Key]) -> Result<Graph, GraphError> {
        let mut keep = vec![false; self.len()];
        let mut stack = self.ids_of(outputs)?;
        while let Some(t) = stack.pop() {
            if !std::mem::replace(&mut keep[t.idx()], true) {
                stack.extend_from_slice(self.deps(t));
            }
        }
        if keep.iter().all(|&k| k) {
            return Ok(self);
        }
        let tasks = self.take_tasks();
        Ok(self.retain_with(&keep, tasks))
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::tests::spec;
    use crate::{Graph, GraphError, Key};

    /// ```text
    ///   out   other
    ///    |      |
    ///    b      c
    ///     \    /
    ///       a        unrelated
    /// ```
    #[test]
    fn keeps_only_what_outputs_need() {
        let g = Graph::from_tasks([
            (Key::new("a"), spec(&[])),
            (Key::new("b"), spec(&["a"])),
            (Key::new("c"), spec(&["a"])),
            (Key::new("out"), spec(&["b"])),
            (Key::new("other"), spec(&["c"])),
            (Key::new("unrelated"), spec(&[])),
        ])
        .unwrap();
        let g = g.cull(&[Key::new("out")]).unwrap();
        g.sanity_check();
        let mut names: Vec<&str> = g.keys().iter().map(Key::name).collect();
        names.sort();
        assert_eq!(names, ["a", "b", "out"]);
    }

    #[test]
    fn unknown_output_is_named() {
        let g = Graph::from_tasks([(Key::new("a"), spec(&[]))]).unwrap();
        let err = g.cull(&[Key::block("zz", &[1])]).err().unwrap();
        assert!(matches!(err, GraphError::UnknownKey(_)));
        assert_eq!(err.to_string(), "(\"zz\", 1) is not in the graph");
    }
}
