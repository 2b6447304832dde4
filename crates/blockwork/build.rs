//! Makes the README's Rust examples this crate's doctests.
//!
//! Each ```` ```rust ```` block of `README.md` becomes a doctest, as
//! written. A block may be preceded by an HTML comment (invisible on the
//! rendered page) that says how to test it:
//!
//! ```text
//! <!-- doctest: no_run
//! let x = setup_the_block_assumes()?;
//! ---
//! assert_eq!(x, what_the_block_left());
//! -->
//! ```
//!
//! The words after `doctest:` are rustdoc attributes (`no_run`: compiled
//! only, for examples that need a cluster's address, data files or a
//! batch queue); lines before `---` run hidden before the block, lines
//! after it hidden after. A block without `fn main` runs in a function
//! returning `Result<(), Box<dyn Error>>`, so it may use `?`.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    println!("cargo:rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("README.md is readable");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("readme_doctests.md");
    std::fs::write(out, doctests(&text)).expect("OUT_DIR is writable");
}

/// The README's Rust blocks as rustdoc markdown.
fn doctests(readme: &str) -> String {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```rust" {
            i += 1;
            continue;
        }
        let (attrs, before, after) = directive(&lines[..i]);
        let end = (i + 1..lines.len()).find(|&j| lines[j].starts_with("```")).expect("a closed ```rust block");
        let body = &lines[i + 1..end];
        let has_main = body.iter().any(|l| l.contains("fn main("));
        let _ = writeln!(out, "README.md, line {}:\n", i + 1);
        let _ = writeln!(out, "```rust{}", attrs.iter().map(|a| format!(",{a}")).collect::<String>());
        for l in before {
            let _ = writeln!(out, "# {l}");
        }
        for l in body {
            let _ = writeln!(out, "{}", hide_safe(l));
        }
        for l in after {
            let _ = writeln!(out, "# {l}");
        }
        if !has_main {
            let _ = writeln!(out, "# Ok::<(), Box<dyn std::error::Error>>(())");
        }
        let _ = writeln!(out, "```\n");
        i = end + 1;
    }
    out
}

/// A line of the block as rustdoc must see it: rustdoc hides a line that
/// starts with `# ` and unescapes `##`, so such lines get one more `#`.
fn hide_safe(line: &str) -> String {
    let body = line.trim_start();
    if body == "#" || body.starts_with("# ") || body.starts_with("##") {
        format!("{}#{body}", &line[..line.len() - body.len()])
    } else {
        line.to_string()
    }
}

/// The `<!-- doctest: … -->` comment ending right above a block, if any:
/// its attributes, its lines before `---` and after.
fn directive<'a>(above: &[&'a str]) -> (Vec<&'a str>, Vec<&'a str>, Vec<&'a str>) {
    let none = (Vec::new(), Vec::new(), Vec::new());
    let Some(last) = above.last() else { return none };
    if last.trim() != "-->" {
        return none;
    }
    let Some(start) = above.iter().rposition(|l| l.starts_with("<!-- doctest")) else { return none };
    let head = above[start].trim_start_matches("<!-- doctest").trim_start_matches(':');
    let attrs: Vec<&str> = head.split_whitespace().collect();
    for a in &attrs {
        assert!(
            ["no_run", "should_panic"].contains(a),
            "README.md: doctest attribute {a:?} is not one of no_run, should_panic"
        );
    }
    let inner = &above[start + 1..above.len() - 1];
    match inner.iter().position(|l| l.trim() == "---") {
        Some(sep) => (attrs, inner[..sep].to_vec(), inner[sep + 1..].to_vec()),
        None => (attrs, inner.to_vec(), Vec::new()),
    }
}
