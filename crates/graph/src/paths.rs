//! File patterns, as collections' readers take them (`data/part-*.csv`).

use std::path::{Path, PathBuf};

/// Whether `name` matches `pat` (`*`: any run, `?`: any one character).
fn matches(pat: &[char], name: &[char]) -> bool {
    match (pat.first(), name.first()) {
        (None, None) => true,
        (Some('*'), _) => matches(&pat[1..], name) || (!name.is_empty() && matches(pat, &name[1..])),
        (Some('?'), Some(_)) => matches(&pat[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => matches(&pat[1..], &name[1..]),
        _ => false,
    }
}

/// Whether a file name matches a pattern (`*`: any run, `?`: any one
/// character), as [`glob`] matches names.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    matches(&pattern.chars().collect::<Vec<_>>(), &name.chars().collect::<Vec<_>>())
}

/// The files a pattern matches, sorted; wildcards (`*`, `?`) only in the
/// file name. An unreadable directory is the error, with its path.
pub fn glob(pattern: &str) -> Result<Vec<PathBuf>, (PathBuf, std::io::Error)> {
    let p = Path::new(pattern);
    let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let pat: Vec<char> = p.file_name().map(|f| f.to_string_lossy().chars().collect()).unwrap_or_default();
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| (dir.to_path_buf(), e))?
        .filter_map(|e| e.ok())
        .filter(|e| matches(&pat, &e.file_name().to_string_lossy().chars().collect::<Vec<_>>()))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        let m = |p: &str, n: &str| matches(&p.chars().collect::<Vec<_>>(), &n.chars().collect::<Vec<_>>());
        assert!(m("era5_*.nc", "era5_t2m_1979_01.nc"));
        assert!(m("*", "x"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(!m("*.nc", "x.nc4"));
    }
}
