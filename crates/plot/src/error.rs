//! What can go wrong when a plot is drawn or written.

use std::path::PathBuf;

/// Why a plot could not be rendered or written.
///
/// Field numbers count from 0 in the order of [`FacetPlot::fields`](crate::FacetPlot::fields).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The plot has no field to draw.
    #[error("the plot has no fields to draw")]
    NoFields,
    /// `col_wrap` is 0.
    #[error("col_wrap is 0; it must be at least 1 column")]
    ZeroColWrap,
    /// A field has no rows or no columns.
    #[error("field {field} ({title:?}) is empty: {nrows} rows × {ncols} columns")]
    EmptyField {
        /// Which field.
        field: usize,
        /// Its title.
        title: String,
        /// Its number of rows.
        nrows: usize,
        /// Its number of columns.
        ncols: usize,
    },
    /// `values.len()` is not `nrows * ncols`.
    #[error("field {field} ({title:?}) has {actual} values, but {nrows} rows × {ncols} columns need {expected}")]
    ValuesLength {
        /// Which field.
        field: usize,
        /// Its title.
        title: String,
        /// Its number of rows.
        nrows: usize,
        /// Its number of columns.
        ncols: usize,
        /// `nrows * ncols`.
        expected: usize,
        /// `values.len()`.
        actual: usize,
    },
    /// A coordinate has the wrong length (`x` needs `ncols` values, `y` needs `nrows`).
    #[error("field {field} ({title:?}): {axis} has {actual} coordinates, but the field has {expected} {what}")]
    CoordLength {
        /// Which field.
        field: usize,
        /// Its title.
        title: String,
        /// `"x"` or `"y"`.
        axis: &'static str,
        /// `"columns"` or `"rows"`.
        what: &'static str,
        /// `ncols` for x, `nrows` for y.
        expected: usize,
        /// The coordinate's length.
        actual: usize,
    },
    /// A coordinate has a NaN or infinite value, or is not strictly increasing or strictly decreasing.
    #[error("field {field} ({title:?}): {axis} coordinates must be finite and strictly increasing or decreasing")]
    CoordOrder {
        /// Which field.
        field: usize,
        /// Its title.
        title: String,
        /// `"x"` or `"y"`.
        axis: &'static str,
    },
    /// The colour limits are not finite or `vmin >= vmax`.
    #[error("colour limits vmin = {vmin}, vmax = {vmax} are invalid: both must be finite and vmin < vmax")]
    ColorLimits {
        /// The lower limit asked for (or computed).
        vmin: f64,
        /// The upper limit asked for (or computed).
        vmax: f64,
    },
    /// The image is too small to hold the panels, labels and colorbar.
    #[error("a {width}×{height} image is too small for {panels} panel(s) with their labels and colorbar")]
    TooSmall {
        /// Asked width in pixels.
        width: u32,
        /// Asked height in pixels.
        height: u32,
        /// Number of panels.
        panels: usize,
    },
    /// The image is larger than this crate draws (more than 16384 pixels on a side).
    #[error("a {width}×{height} image is too large: at most {max} pixels on a side")]
    TooLarge {
        /// Asked width in pixels.
        width: u32,
        /// Asked height in pixels.
        height: u32,
        /// The largest side allowed.
        max: u32,
    },
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] png::EncodingError),
    /// The PNG file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl blockwork_error::Fault for PlotError {
    fn kind(&self) -> blockwork_error::ErrorKind {
        use blockwork_error::ErrorKind::*;
        match self {
            // The encoder refusing what it was given: a bug of ours.
            PlotError::Encode(_) => Internal,
            PlotError::Write { .. } => Environment,
            // Fields, coordinates and limits that do not fit together.
            _ => User,
        }
    }
}
