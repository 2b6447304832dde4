//! Where things go: font sizes and paddings from the image size, then the panels' and colorbar's rectangles.

use crate::raster::Rect;
use crate::text::Text;

/// Sizes in pixels, all derived from the image size so a plot reads the same at any resolution.
/// They follow matplotlib's defaults relative to a 10 pt font: ticks 3.5 pt long and 3.5 pt from
/// their labels, axis labels 4 pt away, titles 1.2× larger and 6 pt above the axes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    /// Em size of tick labels and axis labels.
    pub em: f32,
    /// Em size of panel titles.
    pub title_em: f32,
    /// Em size of the overall title.
    pub suptitle_em: f32,
    /// Width of frames and ticks.
    pub lw: i32,
    pub tick_len: i32,
    pub tick_pad: i32,
    pub label_pad: i32,
    pub title_pad: i32,
    /// Empty border around the figure.
    pub margin: i32,
}

impl Sizes {
    pub fn for_image(width: u32, height: u32) -> Sizes {
        let em = ((f64::from(width) * f64::from(height)).sqrt() as f32 / 62.0).clamp(8.0, 48.0);
        let px = |pt: f32| (em * pt / 10.0).round().max(1.0) as i32;
        Sizes {
            em,
            title_em: em * 1.2,
            suptitle_em: em * 1.4,
            lw: px(0.8),
            tick_len: px(3.5),
            tick_pad: px(3.5),
            label_pad: px(4.0),
            title_pad: px(6.0),
            margin: px(8.0),
        }
    }
}

/// What the layout must make room for.
#[derive(Debug, Clone)]
pub(crate) struct Needs {
    pub panels: usize,
    pub cols: usize,
    pub title: bool,
    pub x_label: bool,
    pub y_label: bool,
    pub colorbar_label: bool,
    /// Widest y tick label.
    pub y_tick_width: f32,
    /// Widest colorbar tick label.
    pub colorbar_tick_width: f32,
}

/// The rectangles of a facet figure.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Data area of each panel (the frame is drawn just outside).
    pub panels: Vec<Rect>,
    /// Whether each panel shows x tick labels and the x label (nothing below it).
    pub x_outer: Vec<bool>,
    /// Whether each panel shows y tick labels and the y label (first column).
    pub y_outer: Vec<bool>,
    /// The colorbar, extension triangles included.
    pub colorbar: Rect,
}

impl Layout {
    /// Lays out `needs` in a `width` × `height` image; `None` when the panels would be too small.
    pub fn new(width: u32, height: u32, s: &Sizes, text: &Text, needs: &Needs) -> Option<Layout> {
        let (w, h) = (width as i32, height as i32);
        let cols = needs.cols.max(1);
        let rows = needs.panels.div_ceil(cols);
        let line = |em: f32| text.line_height(em).ceil() as i32;
        let frame_and_ticks = s.lw + s.tick_len + s.tick_pad;

        let x_outer: Vec<bool> = (0..needs.panels).map(|i| i + cols >= needs.panels).collect();
        let y_outer: Vec<bool> = (0..needs.panels).map(|i| i % cols == 0).collect();

        // Vertical: title, then per row a panel title above the panel; x tick labels and the x label
        // below panels with nothing under them.
        let title_block = line(s.title_em) + s.title_pad + s.lw;
        let x_block = frame_and_ticks + line(s.em) + if needs.x_label { s.label_pad + line(s.em) } else { 0 };
        let top = s.margin + if needs.title { line(s.suptitle_em) + s.title_pad } else { 0 } + title_block;
        let bottom = x_block + s.margin;
        let row_gap = |r: usize| {
            let labelled = (r * cols..((r + 1) * cols).min(needs.panels)).any(|i| x_outer[i]);
            let below = if labelled { x_block } else { s.lw + s.tick_len + (s.em * 0.5) as i32 };
            below + title_block
        };
        let gaps: i32 = (0..rows.saturating_sub(1)).map(row_gap).sum();
        let ph = (h - top - bottom - gaps) / rows as i32;

        // Colorbar as long as the grid is tall, 1/20 as wide (matplotlib's aspect=20), within bounds.
        let grid_h = ph * rows as i32 + gaps;
        let cbar_w = ((grid_h as f32 / 20.0).clamp(s.em, 2.0 * s.em)).round() as i32;
        let left = s.margin
            + if needs.y_label { line(s.em) + s.label_pad } else { 0 }
            + needs.y_tick_width.ceil() as i32
            + frame_and_ticks;
        let right = (s.em * 1.6) as i32
            + cbar_w
            + frame_and_ticks
            + needs.colorbar_tick_width.ceil() as i32
            + if needs.colorbar_label { s.label_pad + line(s.em) } else { 0 }
            + s.margin;
        let col_gap = 2 * s.lw + s.tick_len + (s.em * 1.2) as i32;
        let pw = (w - left - right - col_gap * (cols as i32 - 1)) / cols as i32;
        if pw < 8 || ph < 8 {
            return None;
        }

        let mut panels = Vec::with_capacity(needs.panels);
        let mut y = top;
        for r in 0..rows {
            for c in 0..cols {
                if r * cols + c < needs.panels {
                    let x = left + c as i32 * (pw + col_gap);
                    panels.push(Rect { x0: x, y0: y, x1: x + pw, y1: y + ph });
                }
            }
            y += ph + if r + 1 < rows { row_gap(r) } else { 0 };
        }
        let grid_right = left + cols as i32 * pw + (cols as i32 - 1) * col_gap + s.lw;
        let cx = grid_right + (s.em * 1.6) as i32;
        let colorbar = Rect { x0: cx, y0: top, x1: cx + cbar_w, y1: top + grid_h };
        Some(Layout { panels, x_outer, y_outer, colorbar })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(panels: usize, cols: usize) -> Needs {
        Needs {
            panels,
            cols,
            title: true,
            x_label: true,
            y_label: true,
            colorbar_label: true,
            y_tick_width: 30.0,
            colorbar_tick_width: 30.0,
        }
    }

    #[test]
    fn two_by_two_grid_fits_and_does_not_overlap() {
        let s = Sizes::for_image(1200, 800);
        let l = Layout::new(1200, 800, &s, &Text::new(), &needs(4, 2)).unwrap();
        assert_eq!(l.panels.len(), 4);
        let [a, b, c, d] = [l.panels[0], l.panels[1], l.panels[2], l.panels[3]];
        assert!(a.x1 < b.x0 && a.y1 < c.y0 && c.x1 < d.x0 && b.x1 < l.colorbar.x0);
        assert!(l.colorbar.x1 < 1200 && d.y1 < 800);
        assert_eq!(l.x_outer, vec![false, false, true, true]);
        assert_eq!(l.y_outer, vec![true, false, true, false]);
    }

    #[test]
    fn incomplete_last_row_labels_the_panel_above_the_gap() {
        let s = Sizes::for_image(1200, 800);
        let l = Layout::new(1200, 800, &s, &Text::new(), &needs(3, 2)).unwrap();
        assert_eq!(l.x_outer, vec![false, true, true]);
    }

    #[test]
    fn tiny_images_do_not_fit() {
        let s = Sizes::for_image(60, 40);
        assert!(Layout::new(60, 40, &s, &Text::new(), &needs(4, 2)).is_none());
    }
}
