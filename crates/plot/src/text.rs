//! Text in the embedded DejaVu Sans, antialiased with ab_glyph's rasterizer.

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};

use crate::raster::{Canvas, BLACK};

/// DejaVu Sans cut down to the characters a plot needs (see `fonts/README.md`).
static FONT_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// Where a line of text is anchored horizontally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// The embedded font, ready to measure and draw text at a size given in pixels per em
/// (the "font size" of matplotlib, converted to pixels).
pub(crate) struct Text {
    font: FontRef<'static>,
    /// `PxScale` (ascent-to-descent height) per pixel of em size.
    scale_per_em: f32,
}

impl Text {
    /// Loads the embedded font.
    pub fn new() -> Text {
        let font = FontRef::try_from_slice(FONT_DATA).expect("the embedded DejaVu Sans is a valid font");
        let upem = font.units_per_em().unwrap_or(2048.0);
        let scale_per_em = font.height_unscaled() / upem;
        Text { font, scale_per_em }
    }

    fn scale(&self, em: f32) -> PxScale {
        PxScale::from(em * self.scale_per_em)
    }

    /// Distance from the baseline up to the top of a line.
    pub fn ascent(&self, em: f32) -> f32 {
        self.font.as_scaled(self.scale(em)).ascent()
    }

    /// Distance from the baseline down to the bottom of a line (positive).
    pub fn descent(&self, em: f32) -> f32 {
        -self.font.as_scaled(self.scale(em)).descent()
    }

    /// Height of a line: ascent plus descent.
    pub fn line_height(&self, em: f32) -> f32 {
        self.ascent(em) + self.descent(em)
    }

    /// Height of a digit above the baseline (to centre numbers on ticks).
    pub fn digit_height(&self, em: f32) -> f32 {
        let font = self.font.as_scaled(self.scale(em));
        let glyph = font.scaled_glyph('0');
        font.outline_glyph(glyph).map_or(0.7 * em, |g| -g.px_bounds().min.y)
    }

    /// Glyph ids of `s` with their pen positions from the start of the line, and the line's width.
    fn layout(&self, s: &str, em: f32) -> (Vec<(GlyphId, f32)>, f32) {
        let font = self.font.as_scaled(self.scale(em));
        let mut x = 0.0;
        let mut prev: Option<GlyphId> = None;
        let mut glyphs = Vec::with_capacity(s.len());
        for c in s.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                x += font.kern(p, id);
            }
            glyphs.push((id, x));
            x += font.h_advance(id);
            prev = Some(id);
        }
        (glyphs, x)
    }

    /// Width of `s` in pixels.
    pub fn width(&self, s: &str, em: f32) -> f32 {
        self.layout(s, em).1
    }

    /// Calls `put(x, y, coverage)` for each pixel of `s` drawn with its pen starting at
    /// (`x`, `baseline`), in the line's own pixel coordinates.
    fn raster(&self, s: &str, em: f32, x: f32, baseline: f32, mut put: impl FnMut(i32, i32, f32)) {
        let scale = self.scale(em);
        let (glyphs, _) = self.layout(s, em);
        for (id, gx) in glyphs {
            let glyph = id.with_scale_and_position(scale, point(x + gx, baseline));
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|px, py, cov| put(b.min.x as i32 + px as i32, b.min.y as i32 + py as i32, cov));
            }
        }
    }

    /// Draws `s` in black horizontally with its baseline at `baseline`, anchored at `x` by `align`.
    pub fn draw(&self, canvas: &mut Canvas, s: &str, em: f32, x: f32, baseline: f32, align: Align) {
        let w = self.width(s, em);
        let left = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        self.raster(s, em, left.round(), baseline.round(), |px, py, cov| canvas.blend(px, py, BLACK, cov));
    }

    /// Draws `s` in black turned 90° counter-clockwise (reading upwards, as matplotlib's `rotation=90`):
    /// the line's top faces left at column `left`, and it is centred on row `centre_y`.
    pub fn draw_vertical(&self, canvas: &mut Canvas, s: &str, em: f32, left: f32, centre_y: f32) {
        let w = self.width(s, em);
        let bottom = (centre_y + w / 2.0).round() as i32;
        let left = left.round() as i32;
        let ascent = self.ascent(em).round();
        // Horizontal line coordinates (u along the text, v downwards from the line's top)
        // become canvas (left + v, bottom - u).
        self.raster(s, em, 0.0, ascent, |u, v, cov| canvas.blend(left + v, bottom - u, BLACK, cov));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_has_the_characters_plots_use() {
        let text = Text::new();
        for c in "season = DJF 2 metre temperature [K] −0.5 °E µ σ ±×".chars() {
            assert_ne!(text.font.glyph_id(c), GlyphId(0), "no glyph for {c:?}");
        }
    }

    #[test]
    fn widths_grow_with_text_and_size() {
        let text = Text::new();
        assert!(text.width("longitude", 12.0) > text.width("lon", 12.0));
        assert!(text.width("lon", 24.0) > 1.9 * text.width("lon", 12.0));
        assert!(text.line_height(10.0) > 10.0 && text.line_height(10.0) < 13.0);
    }
}
