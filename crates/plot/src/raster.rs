//! An RGB pixel buffer with the few drawing operations a plot needs, and the cell lookup of pcolormesh.

/// Black, for frames, ticks and text.
pub(crate) const BLACK: [u8; 3] = [0, 0, 0];

/// A rectangle of pixels: `x0..x1` × `y0..y1`, y growing downwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }
}

/// 8-bit RGB pixels, row-major from the top-left corner.
pub(crate) struct Canvas {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Canvas {
    /// A white canvas (white is also the colour of NaN cells).
    pub fn new(width: u32, height: u32) -> Canvas {
        Canvas { width, height, pixels: vec![255; width as usize * height as usize * 3] }
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 {
            return None;
        }
        Some((y as usize * self.width as usize + x as usize) * 3)
    }

    /// Sets one pixel (ignored outside the canvas).
    pub fn set(&mut self, x: i32, y: i32, c: [u8; 3]) {
        if let Some(i) = self.index(x, y) {
            self.pixels[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Mixes `c` into one pixel with coverage `alpha` in 0..=1 (antialiased text).
    pub fn blend(&mut self, x: i32, y: i32, c: [u8; 3], alpha: f32) {
        let alpha = alpha.clamp(0.0, 1.0);
        if alpha <= 0.0 {
            return;
        }
        if let Some(i) = self.index(x, y) {
            for (k, &ck) in c.iter().enumerate() {
                let old = f32::from(self.pixels[i + k]);
                self.pixels[i + k] = (old + (f32::from(ck) - old) * alpha).round() as u8;
            }
        }
    }

    /// Fills a rectangle (clipped to the canvas).
    pub fn fill(&mut self, r: Rect, c: [u8; 3]) {
        let x0 = r.x0.max(0);
        let x1 = r.x1.min(self.width as i32);
        for y in r.y0.max(0)..r.y1.min(self.height as i32) {
            for x in x0..x1 {
                self.set(x, y, c);
            }
        }
    }

    /// Draws a frame of line width `lw` just outside `r`, like an axes' spines around its data area.
    pub fn frame(&mut self, r: Rect, lw: i32, c: [u8; 3]) {
        let o = Rect { x0: r.x0 - lw, y0: r.y0 - lw, x1: r.x1 + lw, y1: r.y1 + lw };
        self.fill(Rect { x0: o.x0, y0: o.y0, x1: o.x1, y1: r.y0 }, c);
        self.fill(Rect { x0: o.x0, y0: r.y1, x1: o.x1, y1: o.y1 }, c);
        self.fill(Rect { x0: o.x0, y0: r.y0, x1: r.x0, y1: r.y1 }, c);
        self.fill(Rect { x0: r.x1, y0: r.y0, x1: o.x1, y1: r.y1 }, c);
    }

    /// Fills the triangle with corners `a`, `b`, `c` (pixel centres inside it), antialiased at its
    /// edges by 4×4 supersampling.
    pub fn triangle(&mut self, a: (f64, f64), b: (f64, f64), c: (f64, f64), color: [u8; 3]) {
        let xs = [a.0, b.0, c.0];
        let ys = [a.1, b.1, c.1];
        let x0 = xs.iter().copied().fold(f64::INFINITY, f64::min).floor() as i32;
        let x1 = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max).ceil() as i32;
        let y0 = ys.iter().copied().fold(f64::INFINITY, f64::min).floor() as i32;
        let y1 = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max).ceil() as i32;
        let edge = |p: (f64, f64), q: (f64, f64), x: f64, y: f64| (q.0 - p.0) * (y - p.1) - (q.1 - p.1) * (x - p.0);
        let inside = |x: f64, y: f64| {
            let (e0, e1, e2) = (edge(a, b, x, y), edge(b, c, x, y), edge(c, a, x, y));
            (e0 >= 0.0 && e1 >= 0.0 && e2 >= 0.0) || (e0 <= 0.0 && e1 <= 0.0 && e2 <= 0.0)
        };
        for y in y0..y1 {
            for x in x0..x1 {
                let mut n = 0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        if inside(
                            f64::from(x) + (f64::from(sx) + 0.5) / 4.0,
                            f64::from(y) + (f64::from(sy) + 0.5) / 4.0,
                        ) {
                            n += 1;
                        }
                    }
                }
                self.blend(x, y, color, n as f32 / 16.0);
            }
        }
    }
}

/// Cell boundaries from cell centres, as xarray's `_infer_interval_breaks`: midpoints between
/// neighbours, and half a step beyond the ends (±0.5 for a single centre).
pub(crate) fn edges(centres: &[f64]) -> Vec<f64> {
    match centres.len() {
        0 => Vec::new(),
        1 => vec![centres[0] - 0.5, centres[0] + 0.5],
        n => {
            let mut e = Vec::with_capacity(n + 1);
            e.push(centres[0] - (centres[1] - centres[0]) / 2.0);
            e.extend(centres.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(centres[n - 1] + (centres[n - 1] - centres[n - 2]) / 2.0);
            e
        }
    }
}

/// For each coordinate in `at`, the cell whose `edges` contain it (edges strictly monotonic,
/// either direction), or `None` outside all cells.
pub(crate) fn cell_indices(edges: &[f64], at: impl Iterator<Item = f64>) -> Vec<Option<usize>> {
    let n = edges.len().saturating_sub(1);
    let increasing = n == 0 || edges[n] > edges[0];
    at.map(|v| {
        if n == 0 {
            return None;
        }
        // Number of edges at or below v (increasing) or at or above v (decreasing).
        let k = if increasing { edges.partition_point(|&e| e <= v) } else { edges.partition_point(|&e| e >= v) };
        (1..=n).contains(&k).then(|| k - 1)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_midpoints() {
        assert_eq!(edges(&[0.0, 1.0, 2.0]), vec![-0.5, 0.5, 1.5, 2.5]);
        assert_eq!(edges(&[90.0, 0.0, -90.0]), vec![135.0, 45.0, -45.0, -135.0]);
        assert_eq!(edges(&[3.0]), vec![2.5, 3.5]);
    }

    #[test]
    fn cells_are_found_in_either_direction() {
        let inc = edges(&[0.0, 1.0, 2.0]);
        let got = cell_indices(&inc, [-1.0, -0.4, 0.6, 2.4, 2.6].into_iter());
        assert_eq!(got, vec![None, Some(0), Some(1), Some(2), None]);
        let dec = edges(&[2.0, 1.0, 0.0]);
        let got = cell_indices(&dec, [-1.0, -0.4, 0.6, 2.4, 2.6].into_iter());
        assert_eq!(got, vec![None, Some(2), Some(1), Some(0), None]);
    }
}
