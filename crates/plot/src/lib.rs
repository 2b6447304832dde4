//! Facet plots of 2-d fields to PNG, the way xarray draws `DataArray.plot(col="season", col_wrap=2)`.
//!
//! A [`FacetPlot`] is a set of [`Field`]s (plain row-major slices with their x and y coordinates)
//! drawn as a grid of panels, `col_wrap` to a row, each like matplotlib's `pcolormesh`: one flat
//! cell per value, edges halfway between neighbouring coordinates, north (larger y) up whatever the
//! order of `y`, x increasing to the right. Panels share their axes, so tick labels and axis labels
//! appear on the outer panels only; each panel has its title above it; one colorbar on the right
//! serves all panels, with its label, and an optional overall title goes on top. NaN cells stay
//! white.
//!
//! Colours follow xarray's rules (`_determine_cmap_params`): the limits cover all fields (the 2nd
//! and 98th percentiles with `robust`), a data set with both signs gets the diverging `RdBu_r` map
//! with limits symmetric around 0, otherwise `viridis`; data beyond the limits shows as triangles at
//! the colorbar's ends. Ticks are placed like matplotlib's `MaxNLocator` (round steps of 1, 2, 2.5,
//! 5 × 10ⁿ, as many as fit the axis) and negative numbers use the minus sign U+2212.
//!
//! ```no_run
//! use blockwork_plot::{FacetPlot, Field};
//! # let (djf, mam, jja, son) = (vec![0.0; 181 * 360], vec![0.0; 181 * 360], vec![0.0; 181 * 360], vec![0.0; 181 * 360]);
//! let lat: Vec<f64> = (0..181).map(|i| 90.0 - i as f64).collect();
//! let lon: Vec<f64> = (0..360).map(f64::from).collect();
//! let fields = [("DJF", &djf), ("MAM", &mam), ("JJA", &jja), ("SON", &son)]
//!     .into_iter()
//!     .map(|(season, values)| Field {
//!         values,
//!         nrows: 181,
//!         ncols: 360,
//!         x: &lon,
//!         y: &lat,
//!         title: format!("season = {season}"),
//!     })
//!     .collect();
//! let mut plot = FacetPlot::new(fields, 2);
//! plot.x_label = "longitude".into();
//! plot.y_label = "latitude".into();
//! plot.colorbar_label = "2 metre temperature [K]".into();
//! blockwork_plot::write_png(&plot, "anomaly.png".as_ref(), 1200, 800)?;
//! # Ok::<(), blockwork_plot::PlotError>(())
//! ```
//!
//! # Why these choices
//!
//! - **Pure Rust, nothing from the system**: no fontconfig, freetype or cmake, so it builds
//!   anywhere the workspace builds.
//! - **Dependencies**: `png` (image-rs's encoder; its decoder also serves the tests) and `ab_glyph`
//!   (glyph outlines and an antialiasing rasterizer, built on `ttf-parser`), both pinned, plus the
//!   workspace's `thiserror`: 14 small pure-Rust crates below this one (12 new to the workspace). `plotters`
//!   was not used: its bitmap backend saves PNGs through the `image` crate (and pulls in `gif` by
//!   default), and matplotlib's facet layout (shared outer axes, one colorbar for all panels,
//!   extension triangles) would have had to be built by hand on top of it anyway. Axis-aligned
//!   rectangles, ticks and cells need no general 2-d library.
//! - **Font**: DejaVu Sans, matplotlib's default font, so labels look like matplotlib's. It is
//!   embedded with `include_bytes!`, cut down to Latin-1, Greek and a few symbols (31 KB instead of
//!   760 KB); see `fonts/README.md` for the source and `fonts/LICENSE-DejaVu.txt` for the licence.
//!
//! Sizes (fonts, ticks, paddings) scale with the image: at 1200 × 800 px a 10 pt matplotlib font
//! is 16 px, as in a matplotlib figure saved at about 115 dpi.

mod colormap;
mod encode;
mod error;
mod figure;
mod layout;
mod raster;
mod text;
mod ticks;

use std::path::Path;

pub use colormap::{ColorScale, Colormap};
pub use error::PlotError;

/// One 2-d field to draw in a panel.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    /// `nrows × ncols` values, row-major: `values[r * ncols + c]` is at (`x[c]`, `y[r]`).
    pub values: &'a [f64],
    /// Number of rows (along y).
    pub nrows: usize,
    /// Number of columns (along x).
    pub ncols: usize,
    /// Cell centres along x, `ncols` of them, strictly increasing or decreasing.
    pub x: &'a [f64],
    /// Cell centres along y, `nrows` of them, strictly increasing or decreasing.
    pub y: &'a [f64],
    /// Panel title, e.g. `"season = DJF"`.
    pub title: String,
}

/// A grid of panels, one per field, with shared axes and one colorbar.
#[derive(Debug, Clone)]
pub struct FacetPlot<'a> {
    /// The fields, drawn left to right, then top to bottom.
    pub fields: Vec<Field<'a>>,
    /// Panels per row.
    pub col_wrap: usize,
    /// Label under the bottom panels' x axes.
    pub x_label: String,
    /// Label beside the left panels' y axes.
    pub y_label: String,
    /// Label of the colorbar, e.g. `"2 metre temperature [K]"`.
    pub colorbar_label: String,
    /// Title above all panels.
    pub title: Option<String>,
    /// The colormap; `None` chooses like xarray: diverging when the data has both signs.
    pub colormap: Option<Colormap>,
    /// Value of the colormap's first colour; `None` derives it from the data.
    pub vmin: Option<f64>,
    /// Value of the colormap's last colour; `None` derives it from the data.
    pub vmax: Option<f64>,
    /// Derive missing limits from the 2nd and 98th percentiles instead of the extremes.
    pub robust: bool,
}

impl<'a> FacetPlot<'a> {
    /// A plot of `fields`, `col_wrap` to a row, with no labels and xarray's default colours.
    pub fn new(fields: Vec<Field<'a>>, col_wrap: usize) -> FacetPlot<'a> {
        FacetPlot {
            fields,
            col_wrap,
            x_label: String::new(),
            y_label: String::new(),
            colorbar_label: String::new(),
            title: None,
            colormap: None,
            vmin: None,
            vmax: None,
            robust: false,
        }
    }

    /// The colormap and limits this plot is drawn with.
    pub fn color_scale(&self) -> Result<ColorScale, PlotError> {
        let data: Vec<f64> = self.fields.iter().flat_map(|f| f.values.iter().copied()).collect();
        ColorScale::choose(&data, self.colormap, self.vmin, self.vmax, self.robust)
    }
}

/// Largest image side [`render`] draws.
pub const MAX_SIDE: u32 = 16384;

/// Draws `plot` in a `width` × `height` image and returns it encoded as PNG.
pub fn render(plot: &FacetPlot<'_>, width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    validate(plot, width, height)?;
    let canvas = figure::draw(plot, width, height)?;
    encode::png_bytes(&canvas)
}

/// A rectangle of pixels in the image, from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Where [`render`] puts each field's data area (inside its frame) in a `width` × `height` image, in
/// the order of [`FacetPlot::fields`]. The area spans the cell edges of all fields: its left column
/// is the smallest x edge, its top row the largest y edge.
pub fn panel_rects(plot: &FacetPlot<'_>, width: u32, height: u32) -> Result<Vec<PixelRect>, PlotError> {
    validate(plot, width, height)?;
    let plan = figure::plan(plot, width, height)?;
    Ok(plan
        .layout
        .panels
        .iter()
        .map(|r| PixelRect { x: r.x0 as u32, y: r.y0 as u32, width: r.width() as u32, height: r.height() as u32 })
        .collect())
}

/// Draws `plot` like [`render`] and writes the PNG to `path`.
pub fn write_png(plot: &FacetPlot<'_>, path: &Path, width: u32, height: u32) -> Result<(), PlotError> {
    let bytes = render(plot, width, height)?;
    std::fs::write(path, bytes).map_err(|source| PlotError::Write { path: path.to_path_buf(), source })
}

/// Checks the plot's shape before anything is drawn.
fn validate(plot: &FacetPlot<'_>, width: u32, height: u32) -> Result<(), PlotError> {
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(PlotError::TooLarge { width, height, max: MAX_SIDE });
    }
    if plot.fields.is_empty() {
        return Err(PlotError::NoFields);
    }
    if plot.col_wrap == 0 {
        return Err(PlotError::ZeroColWrap);
    }
    for (i, f) in plot.fields.iter().enumerate() {
        let title = || f.title.clone();
        if f.nrows == 0 || f.ncols == 0 {
            return Err(PlotError::EmptyField { field: i, title: title(), nrows: f.nrows, ncols: f.ncols });
        }
        let expected = f.nrows.saturating_mul(f.ncols);
        if f.values.len() != expected {
            return Err(PlotError::ValuesLength {
                field: i,
                title: title(),
                nrows: f.nrows,
                ncols: f.ncols,
                expected,
                actual: f.values.len(),
            });
        }
        for (axis, what, coords, expected) in [("x", "columns", f.x, f.ncols), ("y", "rows", f.y, f.nrows)] {
            if coords.len() != expected {
                return Err(PlotError::CoordLength {
                    field: i,
                    title: title(),
                    axis,
                    what,
                    expected,
                    actual: coords.len(),
                });
            }
            let finite = coords.iter().all(|v| v.is_finite());
            let increasing = coords.windows(2).all(|w| w[0] < w[1]);
            let decreasing = coords.windows(2).all(|w| w[0] > w[1]);
            if !finite || !(increasing || decreasing) {
                return Err(PlotError::CoordOrder { field: i, title: title(), axis });
            }
        }
    }
    Ok(())
}
