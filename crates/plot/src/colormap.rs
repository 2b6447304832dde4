//! Colormaps (matplotlib's RdBu_r and viridis) and the choice of colour limits, as xarray makes it.

use crate::PlotError;

/// Which colours stand for the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    /// matplotlib's `RdBu_r`: blue below 0, white at 0, red above; the limits are made symmetric around 0.
    Diverging,
    /// matplotlib's `viridis`: dark purple at the low end to yellow at the high end.
    Sequential,
}

/// ColorBrewer's 11-class RdBu reversed, the anchors matplotlib's `RdBu_r` is interpolated from.
const RDBU_R: [[u8; 3]; 11] = [
    [0x05, 0x30, 0x61],
    [0x21, 0x66, 0xac],
    [0x43, 0x93, 0xc3],
    [0x92, 0xc5, 0xde],
    [0xd1, 0xe5, 0xf0],
    [0xf7, 0xf7, 0xf7],
    [0xfd, 0xdb, 0xc7],
    [0xf4, 0xa5, 0x82],
    [0xd6, 0x60, 0x4d],
    [0xb2, 0x18, 0x2b],
    [0x67, 0x00, 0x1f],
];

/// matplotlib's `viridis` sampled at 0, 0.1, …, 1.
const VIRIDIS: [[u8; 3]; 11] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x24, 0x75],
    [0x41, 0x44, 0x87],
    [0x35, 0x5f, 0x8d],
    [0x2a, 0x78, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x22, 0xa8, 0x84],
    [0x44, 0xbf, 0x70],
    [0x7a, 0xd1, 0x51],
    [0xbd, 0xdf, 0x26],
    [0xfd, 0xe7, 0x25],
];

impl Colormap {
    /// The colour at `t` in 0..=1 (clamped), linearly interpolated between the anchors.
    pub fn sample(self, t: f64) -> [u8; 3] {
        let table = match self {
            Colormap::Diverging => &RDBU_R,
            Colormap::Sequential => &VIRIDIS,
        };
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let pos = t * (table.len() - 1) as f64;
        let i = (pos.floor() as usize).min(table.len() - 2);
        let f = pos - i as f64;
        let (a, b) = (table[i], table[i + 1]);
        std::array::from_fn(|c| (f64::from(a[c]) + (f64::from(b[c]) - f64::from(a[c])) * f).round() as u8)
    }
}

/// Values to colours: the colormap, its limits, and whether data lies beyond them
/// (drawn as triangles at the colorbar's ends, matplotlib's `extend`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorScale {
    /// The colormap.
    pub colormap: Colormap,
    /// The value drawn with the colormap's first colour.
    pub vmin: f64,
    /// The value drawn with the colormap's last colour.
    pub vmax: f64,
    /// Some data is below `vmin`.
    pub extend_min: bool,
    /// Some data is above `vmax`.
    pub extend_max: bool,
}

/// Lower percentile used when `robust` is set (xarray's `ROBUST_PERCENTILE`).
const ROBUST_PERCENTILE: f64 = 2.0;

impl ColorScale {
    /// Chooses the colormap and limits for `data` (all fields together) the way xarray's
    /// `_determine_cmap_params` does: limits from the data (2nd/98th percentiles when `robust`)
    /// unless given; with no colormap asked for, diverging when the limits have both signs;
    /// diverging limits are symmetric around 0 (unless both were given).
    pub fn choose(
        data: &[f64],
        colormap: Option<Colormap>,
        vmin: Option<f64>,
        vmax: Option<f64>,
        robust: bool,
    ) -> Result<ColorScale, PlotError> {
        for v in [vmin, vmax].into_iter().flatten() {
            if !v.is_finite() {
                return Err(PlotError::ColorLimits { vmin: vmin.unwrap_or(f64::NAN), vmax: vmax.unwrap_or(f64::NAN) });
            }
        }
        let mut finite: Vec<f64> = data.iter().copied().filter(|v| v.is_finite()).collect();
        finite.sort_unstable_by(f64::total_cmp);
        if finite.is_empty() {
            finite.push(0.0);
        }
        let (data_min, data_max) = (finite[0], finite[finite.len() - 1]);

        // A sequential map asked for, or both limits given, rule out symmetric limits.
        let possibly_divergent = colormap != Some(Colormap::Sequential) && !(vmin.is_some() && vmax.is_some());
        let mut vlim = None;
        let lo = match vmin {
            Some(v) => {
                vlim = Some(v.abs());
                v
            }
            None if robust => percentile(&finite, ROBUST_PERCENTILE),
            None => data_min,
        };
        let hi = match vmax {
            Some(v) => {
                vlim = Some(v.abs());
                v
            }
            None if robust => percentile(&finite, 100.0 - ROBUST_PERCENTILE),
            None => data_max,
        };
        let divergent = possibly_divergent && (colormap == Some(Colormap::Diverging) || (lo < 0.0 && hi > 0.0));
        let (mut lo, mut hi) = (lo, hi);
        if divergent {
            let l = vlim.unwrap_or(lo.abs().max(hi.abs()));
            (lo, hi) = (-l, l);
        }
        let colormap = colormap.unwrap_or(if divergent { Colormap::Diverging } else { Colormap::Sequential });
        if vmin.is_some() && vmax.is_some() && lo >= hi {
            return Err(PlotError::ColorLimits { vmin: lo, vmax: hi });
        }
        if lo >= hi {
            // All values equal (or one limit given past the data): widen like matplotlib's nonsingular().
            (lo, hi) = widen(lo, hi);
        }
        Ok(ColorScale { colormap, vmin: lo, vmax: hi, extend_min: data_min < lo, extend_max: data_max > hi })
    }

    /// The colour of `v`, or `None` for NaN (left as background).
    pub fn color(&self, v: f64) -> Option<[u8; 3]> {
        if v.is_nan() {
            return None;
        }
        Some(self.colormap.sample((v - self.vmin) / (self.vmax - self.vmin)))
    }
}

/// numpy's default (linear) percentile of sorted, non-empty values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let pos = p / 100.0 * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (sorted[j] - sorted[i]) * (pos - i as f64)
}

/// A non-empty range around a degenerate one.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    let (a, b) = (lo.min(hi), lo.max(hi));
    let pad = if a.abs().max(b.abs()) > 0.0 { 0.05 * a.abs().max(b.abs()) } else { 0.5 };
    if a == b {
        (a - pad, b + pad)
    } else {
        (a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_hit_exactly() {
        assert_eq!(Colormap::Diverging.sample(0.0), [0x05, 0x30, 0x61]);
        assert_eq!(Colormap::Diverging.sample(0.5), [0xf7, 0xf7, 0xf7]);
        assert_eq!(Colormap::Diverging.sample(1.0), [0x67, 0x00, 0x1f]);
        assert_eq!(Colormap::Sequential.sample(0.0), [0x44, 0x01, 0x54]);
        assert_eq!(Colormap::Sequential.sample(2.0), [0xfd, 0xe7, 0x25]);
    }

    #[test]
    fn both_signs_give_symmetric_diverging_limits() {
        let s = ColorScale::choose(&[-1.0, 3.0, f64::NAN], None, None, None, false).unwrap();
        assert_eq!(s.colormap, Colormap::Diverging);
        assert_eq!((s.vmin, s.vmax), (-3.0, 3.0));
        assert!(!s.extend_min && !s.extend_max);
    }

    #[test]
    fn one_sign_gives_viridis_over_the_data_range() {
        let s = ColorScale::choose(&[250.0, 300.0], None, None, None, false).unwrap();
        assert_eq!(s.colormap, Colormap::Sequential);
        assert_eq!((s.vmin, s.vmax), (250.0, 300.0));
    }

    #[test]
    fn one_given_limit_sets_the_symmetric_range() {
        let s = ColorScale::choose(&[-1.0, 3.0], None, None, Some(2.0), false).unwrap();
        assert_eq!((s.vmin, s.vmax), (-2.0, 2.0));
        assert!(s.extend_max && !s.extend_min);
    }

    #[test]
    fn robust_uses_2nd_and_98th_percentiles() {
        let data: Vec<f64> = (0..=100).map(f64::from).collect();
        let s = ColorScale::choose(&data, Some(Colormap::Sequential), None, None, true).unwrap();
        assert_eq!((s.vmin, s.vmax), (2.0, 98.0));
        assert!(s.extend_min && s.extend_max);
    }

    #[test]
    fn constant_data_gets_a_nonempty_range() {
        let s = ColorScale::choose(&[5.0, 5.0], None, None, None, false).unwrap();
        assert!(s.vmin < 5.0 && s.vmax > 5.0);
        let s = ColorScale::choose(&[f64::NAN], None, None, None, false).unwrap();
        assert!(s.vmin < s.vmax);
    }

    #[test]
    fn bad_limits_are_errors() {
        assert!(ColorScale::choose(&[1.0], None, Some(2.0), Some(1.0), false).is_err());
        assert!(ColorScale::choose(&[1.0], None, Some(f64::NAN), None, false).is_err());
    }
}
