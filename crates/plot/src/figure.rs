//! Draws a whole facet figure: panels with their cells, frames, ticks and labels, the colorbar, the title.

use crate::colormap::ColorScale;
use crate::layout::{Layout, Needs, Sizes};
use crate::raster::{cell_indices, edges, Canvas, Rect, BLACK};
use crate::text::{Align, Text};
use crate::ticks::{labels, ticks};
use crate::{FacetPlot, Field, PlotError};

/// Limits of a shared axis: the outermost cell edges of all fields.
#[derive(Debug, Clone, Copy)]
struct Span {
    lo: f64,
    hi: f64,
}

impl Span {
    fn of(coords: impl Iterator<Item = Vec<f64>>) -> Span {
        let mut span = Span { lo: f64::INFINITY, hi: f64::NEG_INFINITY };
        for e in coords {
            for v in e {
                span.lo = span.lo.min(v);
                span.hi = span.hi.max(v);
            }
        }
        span
    }
}

/// Ticks of one axis with their labels and the width of the widest label.
struct Ticks {
    values: Vec<f64>,
    labels: Vec<String>,
    widest: f32,
}

impl Ticks {
    /// As many round ticks as matplotlib fits on an axis `len` pixels long, where each label needs
    /// `per_label` em (3 along x, 2 along y), at most 9 intervals. Along x, fewer when the labels
    /// are so wide that neighbours would touch.
    fn new(span: Span, len: i32, per_label: f32, horizontal: bool, s: &Sizes, text: &Text) -> Ticks {
        let mut bins = ((len as f32 / (per_label * s.em)).floor() as usize).clamp(1, 9);
        loop {
            let values = ticks(span.lo, span.hi, bins);
            let labels = labels(&values);
            let widest = labels.iter().map(|l| text.width(l, s.em)).fold(0.0, f32::max);
            let spacing = match values.as_slice() {
                [a, b, ..] => ((b - a) / (span.hi - span.lo)).abs() as f32 * len as f32,
                _ => f32::INFINITY,
            };
            if !horizontal || bins == 1 || widest + s.em <= spacing {
                return Ticks { values, labels, widest };
            }
            bins -= 1;
        }
    }
}

/// Pixel position of `v` along `0..len` of an axis spanning `span` (`flip` for y, which grows up).
fn to_px(v: f64, span: Span, start: i32, len: i32, flip: bool) -> f64 {
    let f = (v - span.lo) / (span.hi - span.lo);
    let f = if flip { 1.0 - f } else { f };
    f64::from(start) + f * f64::from(len)
}

/// Everything decided before drawing: colours, sizes, rectangles and ticks.
pub(crate) struct Plan {
    scale: ColorScale,
    text: Text,
    sizes: Sizes,
    xspan: Span,
    yspan: Span,
    pub layout: Layout,
    xt: Ticks,
    yt: Ticks,
    ct: Ticks,
}

/// Chooses colours and lays the figure out.
pub(crate) fn plan(plot: &FacetPlot<'_>, width: u32, height: u32) -> Result<Plan, PlotError> {
    let scale = plot.color_scale()?;
    let text = Text::new();
    let s = Sizes::for_image(width, height);
    let xspan = Span::of(plot.fields.iter().map(|f| edges(f.x)));
    let yspan = Span::of(plot.fields.iter().map(|f| edges(f.y)));
    let cols = plot.col_wrap.min(plot.fields.len());
    let too_small = || PlotError::TooSmall { width, height, panels: plot.fields.len() };

    // Tick labels take room, and the number of ticks depends on the room left: lay out twice.
    let mut needs = Needs {
        panels: plot.fields.len(),
        cols,
        title: plot.title.as_deref().is_some_and(|t| !t.is_empty()),
        x_label: !plot.x_label.is_empty(),
        y_label: !plot.y_label.is_empty(),
        colorbar_label: !plot.colorbar_label.is_empty(),
        y_tick_width: text.width("\u{2212}00", s.em),
        colorbar_tick_width: text.width("\u{2212}0.0", s.em),
    };
    let mut layout = Layout::new(width, height, &s, &text, &needs).ok_or_else(too_small)?;
    let mut axis_ticks = None;
    for _ in 0..2 {
        let p = layout.panels[0];
        let bar = inner_colorbar(&layout.colorbar, &scale);
        let xt = Ticks::new(xspan, p.width(), 3.0, true, &s, &text);
        let yt = Ticks::new(yspan, p.height(), 2.0, false, &s, &text);
        let ct = Ticks::new(Span { lo: scale.vmin, hi: scale.vmax }, bar.height(), 2.0, false, &s, &text);
        needs.y_tick_width = yt.widest;
        needs.colorbar_tick_width = ct.widest;
        layout = Layout::new(width, height, &s, &text, &needs).ok_or_else(too_small)?;
        axis_ticks = Some((xt, yt, ct));
    }
    let (xt, yt, ct) = axis_ticks.expect("the layout loop runs");
    Ok(Plan { scale, text, sizes: s, xspan, yspan, layout, xt, yt, ct })
}

/// Draws the planned figure.
pub(crate) fn draw(plot: &FacetPlot<'_>, width: u32, height: u32) -> Result<Canvas, PlotError> {
    let plan = plan(plot, width, height)?;
    let (s, text) = (&plan.sizes, &plan.text);
    let mut canvas = Canvas::new(width, height);
    for (i, field) in plot.fields.iter().enumerate() {
        let r = plan.layout.panels[i];
        plan.draw_cells(&mut canvas, field, r);
        canvas.frame(r, s.lw, BLACK);
        plan.draw_axes(&mut canvas, plot, r, plan.layout.x_outer[i], plan.layout.y_outer[i]);
        let baseline = (r.y0 - s.lw - s.title_pad) as f32 - text.descent(s.title_em);
        text.draw(&mut canvas, &field.title, s.title_em, (r.x0 + r.x1) as f32 / 2.0, baseline, Align::Center);
    }
    plan.draw_colorbar(&mut canvas, &plot.colorbar_label);
    if let Some(title) = plot.title.as_deref().filter(|t| !t.is_empty()) {
        let baseline = s.margin as f32 + text.ascent(s.suptitle_em);
        text.draw(&mut canvas, title, s.suptitle_em, width as f32 / 2.0, baseline, Align::Center);
    }
    Ok(canvas)
}

impl Plan {
    /// Fills a panel with one flat colour per cell (nearest neighbour); NaN and outside cells stay white.
    fn draw_cells(&self, canvas: &mut Canvas, field: &Field<'_>, r: Rect) {
        let (w, h) = (r.width(), r.height());
        let (xspan, yspan) = (self.xspan, self.yspan);
        // Data coordinate at each pixel centre; rows from the top, where y is largest.
        let xs = (0..w).map(|i| xspan.lo + (f64::from(i) + 0.5) / f64::from(w) * (xspan.hi - xspan.lo));
        let ys = (0..h).map(|j| yspan.hi - (f64::from(j) + 0.5) / f64::from(h) * (yspan.hi - yspan.lo));
        let cols = cell_indices(&edges(field.x), xs);
        let rows = cell_indices(&edges(field.y), ys);
        for (j, row) in rows.iter().enumerate() {
            let Some(row) = row else { continue };
            let line = &field.values[row * field.ncols..(row + 1) * field.ncols];
            for (i, col) in cols.iter().enumerate() {
                if let Some(c) = col.and_then(|c| self.scale.color(line[c])) {
                    canvas.set(r.x0 + i as i32, r.y0 + j as i32, c);
                }
            }
        }
    }

    /// Tick marks on the bottom and left of a panel; on outer panels also tick labels and axis labels.
    fn draw_axes(&self, canvas: &mut Canvas, plot: &FacetPlot<'_>, r: Rect, x_outer: bool, y_outer: bool) {
        let (s, text) = (&self.sizes, &self.text);
        let half = s.lw / 2;
        let out = s.lw + s.tick_len;
        for (v, label) in self.xt.values.iter().zip(&self.xt.labels) {
            let x = to_px(*v, self.xspan, r.x0, r.width(), false).floor() as i32;
            canvas.fill(Rect { x0: x - half, y0: r.y1, x1: x - half + s.lw, y1: r.y1 + out }, BLACK);
            if x_outer {
                let baseline = (r.y1 + out + s.tick_pad) as f32 + text.ascent(s.em);
                text.draw(canvas, label, s.em, x as f32 + 0.5, baseline, Align::Center);
            }
        }
        for (v, label) in self.yt.values.iter().zip(&self.yt.labels) {
            let y = to_px(*v, self.yspan, r.y0, r.height(), true).floor() as i32;
            canvas.fill(Rect { x0: r.x0 - out, y0: y - half, x1: r.x0, y1: y - half + s.lw }, BLACK);
            if y_outer {
                let right = (r.x0 - out - s.tick_pad) as f32;
                let baseline = y as f32 + 0.5 + text.digit_height(s.em) / 2.0;
                text.draw(canvas, label, s.em, right, baseline, Align::Right);
            }
        }
        if x_outer && !plot.x_label.is_empty() {
            let top = r.y1 + out + s.tick_pad + text.line_height(s.em).ceil() as i32 + s.label_pad;
            let baseline = top as f32 + text.ascent(s.em);
            text.draw(canvas, &plot.x_label, s.em, (r.x0 + r.x1) as f32 / 2.0, baseline, Align::Center);
        }
        if y_outer && !plot.y_label.is_empty() {
            let right = r.x0 - out - s.tick_pad - self.yt.widest.ceil() as i32 - s.label_pad;
            let left = right as f32 - text.line_height(s.em);
            text.draw_vertical(canvas, &plot.y_label, s.em, left, (r.y0 + r.y1) as f32 / 2.0);
        }
    }

    /// The colorbar: gradient, extension triangles, frame, ticks on the right with labels, and its label.
    fn draw_colorbar(&self, canvas: &mut Canvas, label: &str) {
        let (s, text, scale, bar) = (&self.sizes, &self.text, &self.scale, &self.layout.colorbar);
        let r = inner_colorbar(bar, scale);
        for j in 0..r.height() {
            let t = 1.0 - (f64::from(j) + 0.5) / f64::from(r.height());
            canvas.fill(Rect { x0: r.x0, y0: r.y0 + j, x1: r.x1, y1: r.y0 + j + 1 }, scale.colormap.sample(t));
        }
        let (x0, x1) = (f64::from(r.x0), f64::from(r.x1));
        let mid = (x0 + x1) / 2.0;
        let lw = f64::from(s.lw);
        // A black triangle one line width larger under the coloured one makes its outline.
        let triangle = |canvas: &mut Canvas, base: f64, apex: f64, color: [u8; 3]| {
            let dir = (apex - base).signum();
            canvas.triangle((x0 - lw, base), (x1 + lw, base), (mid, apex + dir * lw * 1.8), BLACK);
            canvas.triangle((x0, base), (x1, base), (mid, apex), color);
        };
        // Frame first: the triangles' bases cover its line across the bar's ends, so the outline
        // runs around bar and triangles together, as in matplotlib.
        canvas.frame(r, s.lw, BLACK);
        if scale.extend_max {
            triangle(canvas, f64::from(r.y0), f64::from(bar.y0), scale.colormap.sample(1.0));
        }
        if scale.extend_min {
            triangle(canvas, f64::from(r.y1), f64::from(bar.y1), scale.colormap.sample(0.0));
        }

        let span = Span { lo: scale.vmin, hi: scale.vmax };
        let half = s.lw / 2;
        let out = s.lw + s.tick_len;
        for (v, l) in self.ct.values.iter().zip(&self.ct.labels) {
            let y = to_px(*v, span, r.y0, r.height(), true).floor() as i32;
            canvas.fill(Rect { x0: r.x1, y0: y - half, x1: r.x1 + out, y1: y - half + s.lw }, BLACK);
            let baseline = y as f32 + 0.5 + text.digit_height(s.em) / 2.0;
            text.draw(canvas, l, s.em, (r.x1 + out + s.tick_pad) as f32, baseline, Align::Left);
        }
        if !label.is_empty() {
            let left = (r.x1 + out + s.tick_pad + s.label_pad) as f32 + self.ct.widest.ceil();
            text.draw_vertical(canvas, label, s.em, left, (bar.y0 + bar.y1) as f32 / 2.0);
        }
    }
}

/// Length of each extension triangle as a fraction of the colour bar (matplotlib's `extendfrac`).
const EXTEND_FRAC: f64 = 0.05;

/// The colour gradient's part of the colorbar rectangle, without the extension triangles.
fn inner_colorbar(bar: &Rect, scale: &ColorScale) -> Rect {
    let n = f64::from(u8::from(scale.extend_min) + u8::from(scale.extend_max));
    let inner = (f64::from(bar.height()) / (1.0 + EXTEND_FRAC * n)).round() as i32;
    let tri = ((f64::from(inner) * EXTEND_FRAC).round() as i32).min(bar.height());
    let y0 = bar.y0 + if scale.extend_max { tri } else { 0 };
    Rect { x0: bar.x0, y0, x1: bar.x1, y1: y0 + inner }
}
