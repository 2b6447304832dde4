//! Pictures of graphs: Graphviz DOT text, and SVG/PNG through `dot`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::{Graph, GraphError};

/// The graph in Graphviz DOT: one box per task labelled with its key and
/// operation, an arrow from each dependency to its dependent.
pub fn to_dot(graph: &Graph) -> String {
    let mut s =
        String::from("digraph blockwork {\n  rankdir=BT;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
    for t in graph.ids() {
        let key = graph.key(t).to_string().replace('\\', "\\\\").replace('"', "\\\"");
        let op = graph.task(t).op.name().replace('"', "\\\"");
        let _ = writeln!(s, "  t{} [label=\"{key}\\n{op}\"];", t.0);
    }
    for t in graph.ids() {
        for d in graph.deps(t) {
            let _ = writeln!(s, "  t{} -> t{};", d.0, t.0);
        }
    }
    s.push_str("}\n");
    s
}

/// Writes a picture of the graph. The format follows the extension:
/// `.dot`/`.gv` are written directly; anything else (`.svg`, `.png`,
/// `.pdf`) is drawn by Graphviz's `dot`, which must be on `PATH`.
pub fn visualize(graph: &Graph, path: impl AsRef<Path>) -> Result<(), GraphError> {
    let path = path.as_ref();
    let text = to_dot(graph);
    let io_err = |source| GraphError::Io { path: path.to_path_buf(), source };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("dot").to_ascii_lowercase();
    if ext == "dot" || ext == "gv" {
        return std::fs::write(path, text).map_err(io_err);
    }
    let mut child = match Command::new("dot")
        .arg(format!("-T{ext}"))
        .arg("-o")
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GraphError::DotNotFound(path.to_path_buf())),
        Err(e) => return Err(io_err(e)),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin was piped");
        stdin.write_all(text.as_bytes()).map_err(io_err)?;
    }
    let out = child.wait_with_output().map_err(io_err)?;
    if !out.status.success() {
        return Err(GraphError::DotFailed {
            path: path.to_path_buf(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::spec;
    use crate::Key;

    #[test]
    fn dot_has_nodes_and_edges() {
        let g = Graph::from_tasks([(Key::block("a", &[0]), spec(&[])), (Key::new("b"), spec(&["a"]))]);
        // "a" is not ("a", 0): a missing-dependency error.
        assert!(g.is_err());
        let g = Graph::from_tasks([(Key::new("a"), spec(&[])), (Key::new("b"), spec(&["a"]))]).unwrap();
        let d = to_dot(&g);
        assert!(d.contains("t0 [label=\"a\\nblockwork.constant\"]"), "{d}");
        assert!(d.contains("t0 -> t1;"));
    }

    #[test]
    fn writes_dot_and_draws_svg_when_dot_exists() {
        let g = Graph::from_tasks([(Key::new("a"), spec(&[])), (Key::new("b"), spec(&["a"]))]).unwrap();
        let dir = std::env::temp_dir().join(format!("bw-dot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        visualize(&g, dir.join("g.dot")).unwrap();
        assert!(std::fs::read_to_string(dir.join("g.dot")).unwrap().starts_with("digraph"));
        match visualize(&g, dir.join("g.svg")) {
            Ok(()) => assert!(std::fs::read_to_string(dir.join("g.svg")).unwrap().contains("<svg")),
            Err(e @ GraphError::DotNotFound(_)) => assert!(e.to_string().contains("g.svg")),
            Err(e) => panic!("{e}"),
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
