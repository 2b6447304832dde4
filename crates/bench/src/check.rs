//! Every result checked: each repeat's result is compared with a value
//! computed another way (a closed form, a plain loop over the input, or a
//! reference's own output), and a mismatch fails the run.

use serde_json::{json, Value as Json};

/// `--check`: what to compare with.
#[derive(Clone, Debug)]
pub enum Check {
    /// Compute the reference here, another way.
    Auto,
    /// A reference value (for example NumPy's).
    Value(f64),
    /// A file the reference wrote (the climate workload).
    File(std::path::PathBuf),
}

impl std::str::FromStr for Check {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "" | "auto" => Check::Auto,
            _ => s.parse::<f64>().map_or_else(|_| Check::File(s.into()), Check::Value),
        })
    }
}

/// How one workload's results compare with their reference.
pub struct Verdict {
    /// How the reference was obtained.
    pub method: String,
    pub reference: f64,
    /// Allowed |result − reference| / max(|reference|, 1).
    pub rtol: f64,
    /// The worst relative difference over the repeats.
    pub worst: f64,
}

impl Verdict {
    /// Compares every repeat's result with `reference`.
    pub fn of(results: &[f64], reference: f64, rtol: f64, method: impl Into<String>) -> Verdict {
        let scale = reference.abs().max(1.0);
        let worst = results.iter().map(|r| (r - reference).abs() / scale).fold(0.0, |a: f64, d| {
            if d.is_nan() {
                f64::INFINITY
            } else {
                a.max(d)
            }
        });
        Verdict { method: method.into(), reference, rtol, worst }
    }

    /// A difference judged elsewhere (already relative).
    pub fn of_difference(worst: f64, rtol: f64, method: impl Into<String>) -> Verdict {
        Verdict {
            method: method.into(),
            reference: f64::NAN,
            rtol,
            worst: if worst.is_nan() { f64::INFINITY } else { worst },
        }
    }

    pub fn ok(&self) -> bool {
        self.worst <= self.rtol
    }

    pub fn to_json(&self) -> Json {
        let reference = if self.reference.is_finite() { json!(self.reference) } else { Json::Null };
        json!({"ok": self.ok(), "method": self.method, "reference": reference, "rtol": self.rtol, "worst_rel_diff": self.worst})
    }
}

/// Prints the record (one line on stdout), then fails when its check did.
pub fn emit(record: &Json) -> anyhow::Result<()> {
    println!("{record}");
    match record.get("check") {
        Some(c) if c["ok"] == json!(false) => {
            anyhow::bail!(
                "result check failed: {} (worst relative difference {} > {})",
                c["method"],
                c["worst_rel_diff"],
                c["rtol"]
            )
        }
        _ => Ok(()),
    }
}
