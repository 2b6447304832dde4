//! File patterns, as collections' readers take them: `data/part-*.csv`,
//! `data/19??/*.nc`, `data/**/*.parquet`. `*` and `?` stay within one
//! path component, `**` crosses directories, `[ab]` and `{a,b}` are
//! alternatives (globset's matcher: linear in the name, where a naive
//! backtracking matcher is exponential on patterns of many stars).

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::IoResult;

/// Whether a pattern component holds a wildcard.
fn is_wild(component: &str) -> bool {
    component.contains(['*', '?', '[', '{'])
}

/// The matcher of `pattern`; an invalid pattern is an error naming it.
pub(crate) fn matcher(pattern: &str) -> IoResult<GlobMatcher> {
    GlobBuilder::new(pattern).literal_separator(true).build().map(|g| g.compile_matcher()).map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{pattern:?} is not a file pattern: {e}"))
    })
}

/// The part of a `/`-separated pattern before its first wild component
/// (where listing starts), and whether the rest spans directories.
pub(crate) fn literal_base(pattern: &str) -> (&str, bool) {
    let parts: Vec<&str> = pattern.split('/').collect();
    let wild = parts.iter().position(|p| is_wild(p)).unwrap_or(parts.len());
    let base_len = parts[..wild.min(parts.len().saturating_sub(1))].iter().map(|p| p.len() + 1).sum::<usize>();
    let base = &pattern[..base_len.saturating_sub(1).min(pattern.len())];
    (base, wild + 1 < parts.len())
}

/// The local files (and directories) a pattern matches, sorted. A pattern
/// without wildcards is the path itself, if it exists. An unreadable
/// directory on the way is an error naming it.
pub(crate) fn local(pattern: &str) -> IoResult<Vec<String>> {
    if !pattern.split('/').any(is_wild) {
        return Ok(if Path::new(pattern).exists() { vec![pattern.to_string()] } else { Vec::new() });
    }
    let m = matcher(pattern)?;
    let (base, deep) = literal_base(pattern);
    let start = if base.is_empty() {
        PathBuf::from(if pattern.starts_with('/') { "/" } else { "." })
    } else {
        PathBuf::from(base)
    };
    let mut out = Vec::new();
    walk(&start, base.is_empty() && !pattern.starts_with('/'), deep, &m, &mut out)?;
    out.sort();
    Ok(out)
}

/// Collects the entries under `dir` that `m` matches, descending into
/// directories when `deep` (not through symbolic links: no cycles).
fn walk(dir: &Path, relative: bool, deep: bool, m: &GlobMatcher, out: &mut Vec<String>) -> IoResult<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("reading the directory {}: {e}", dir.display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        // "./x" is matched as "x", as the pattern wrote it.
        let shown = if relative { path.strip_prefix(".").unwrap_or(&path).to_path_buf() } else { path.clone() };
        let text = shown.to_string_lossy().into_owned();
        if m.is_match(&text) {
            out.push(text);
        }
        if deep && entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, relative, deep, m, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_within_and_across_directories() {
        let m = |p: &str, n: &str| matcher(p).unwrap().is_match(n);
        assert!(m("era5_*.nc", "era5_t2m_1979_01.nc"));
        assert!(m("a?c", "abc") && !m("a?c", "ac"));
        assert!(!m("*.nc", "x.nc4"));
        assert!(!m("d/*.nc", "d/e/x.nc"), "a star stays within one directory");
        assert!(m("d/**/*.nc", "d/e/f/x.nc") && m("d/**/*.nc", "d/x.nc"));
        assert!(m("part.{0,1}.csv", "part.1.csv"));
        // Many stars: linear, not exponential.
        let long = "a".repeat(200);
        assert!(!m("*a*a*a*a*a*a*a*a*a*a*a*a*b", &long));
        assert!(matcher("x[").unwrap_err().to_string().contains("not a file pattern"));
        assert_eq!(literal_base("/data/era5/*.nc"), ("/data/era5", false));
        assert_eq!(literal_base("/data/**/x.nc"), ("/data", true));
        assert_eq!(literal_base("*.csv"), ("", false));
    }

    #[test]
    fn local_files_are_found_sorted_and_recursively() {
        let dir = std::env::temp_dir().join(format!("bw-glob-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("y2/deep")).unwrap();
        for f in ["b.csv", "a.csv", "c.txt", "y2/d.csv", "y2/deep/e.csv"] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
        let d = dir.display().to_string();
        let names = |p: &str| -> Vec<String> {
            local(p).unwrap().iter().map(|x| x.trim_start_matches(&d).to_string()).collect()
        };
        assert_eq!(names(&format!("{d}/*.csv")), ["/a.csv", "/b.csv"]);
        assert_eq!(names(&format!("{d}/**/*.csv")), ["/a.csv", "/b.csv", "/y2/d.csv", "/y2/deep/e.csv"]);
        assert_eq!(names(&format!("{d}/y?/*.csv")), ["/y2/d.csv"]);
        assert_eq!(names(&format!("{d}/a.csv")), ["/a.csv"], "a plain path is itself");
        assert!(local(&format!("{d}/none/*.csv")).unwrap_err().to_string().contains("none"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
