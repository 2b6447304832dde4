//! Round tick positions (matplotlib's `MaxNLocator` with steps 1, 2, 2.5, 5, 10) and their labels.

/// The "nice" step multipliers matplotlib's `AutoLocator` uses.
const STEPS: [f64; 5] = [1.0, 2.0, 2.5, 5.0, 10.0];

/// Ticks at round multiples within `[lo, hi]`, at most about `max_bins` intervals apart, and at least two
/// when a round step allows (matplotlib's `MaxNLocator(nbins, steps=[1, 2, 2.5, 5, 10])`).
pub(crate) fn ticks(lo: f64, hi: f64, max_bins: usize) -> Vec<f64> {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || span.is_infinite() {
        return vec![lo];
    }
    let raw = span / max_bins.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // The smallest round step at least `raw`; then smaller ones while fewer than 2 ticks fall inside.
    let mut candidates: Vec<f64> = STEPS.iter().map(|s| s * mag).chain(STEPS.iter().map(|s| s * mag / 10.0)).collect();
    candidates.sort_by(f64::total_cmp);
    let first = candidates.iter().rposition(|&s| s < raw * (1.0 - 1e-9)).map_or(0, |i| i + 1);
    let mut best = Vec::new();
    for &step in candidates[..=first.min(candidates.len() - 1)].iter().rev() {
        let eps = step * 1e-9;
        let start = ((lo - eps) / step).ceil() as i64;
        let end = ((hi + eps) / step).floor() as i64;
        let t: Vec<f64> = (start..=end).map(|k| clean(k as f64 * step, step)).collect();
        let enough = t.len() >= 2;
        best = t;
        if enough {
            break;
        }
    }
    best
}

/// Rounds away floating-point noise such as 0.30000000000000004.
fn clean(v: f64, step: f64) -> f64 {
    let d = decimals(step) as i32;
    let f = 10f64.powi(d);
    let r = (v * f).round() / f;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Decimal places needed to write multiples of `step` exactly.
fn decimals(step: f64) -> usize {
    let mut d = 0;
    while d < 12 {
        let scaled = step * 10f64.powi(d as i32);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0) {
            break;
        }
        d += 1;
    }
    d
}

/// Labels for `ticks`, all with the same number of decimals, and with the typographic minus sign
/// matplotlib uses (U+2212). Very large or small magnitudes are written in scientific notation.
pub(crate) fn labels(ticks: &[f64]) -> Vec<String> {
    let step = ticks.windows(2).map(|w| (w[1] - w[0]).abs()).fold(f64::INFINITY, f64::min);
    let largest = ticks.iter().fold(0f64, |m, t| m.max(t.abs()));
    let scientific = largest >= 1e6 || (largest > 0.0 && largest < 1e-4);
    ticks
        .iter()
        .map(|&t| {
            let s = if scientific && t == 0.0 {
                "0".to_string()
            } else if scientific {
                format!("{t:.2e}")
            } else if step.is_finite() {
                format!("{t:.*}", decimals(step))
            } else {
                format!("{t}")
            };
            s.replace('-', "\u{2212}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longitude_and_latitude_ticks_are_round() {
        assert_eq!(ticks(-0.5, 359.5, 6), vec![0.0, 100.0, 200.0, 300.0]);
        assert_eq!(ticks(-90.5, 90.5, 4), vec![-50.0, 0.0, 50.0]);
        assert_eq!(ticks(-90.5, 90.5, 9), vec![-75.0, -50.0, -25.0, 0.0, 25.0, 50.0, 75.0]);
    }

    #[test]
    fn small_steps_are_clean() {
        assert_eq!(ticks(-0.3, 0.31, 7), vec![-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]);
        assert_eq!(labels(&[-0.3, 0.0, 0.3]), vec!["\u{2212}0.3", "0.0", "0.3"]);
    }

    #[test]
    fn narrow_range_still_gets_two_ticks() {
        let t = ticks(0.95, 1.05, 1);
        assert!(t.len() >= 2, "{t:?}");
    }

    #[test]
    fn labels_share_decimals() {
        assert_eq!(labels(&[0.0, 2.5, 5.0]), vec!["0.0", "2.5", "5.0"]);
        assert_eq!(labels(&[-4.0, -2.0, 0.0, 2.0]), vec!["\u{2212}4", "\u{2212}2", "0", "2"]);
    }
}
