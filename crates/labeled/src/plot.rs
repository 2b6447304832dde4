//! Maps of 2-d fields, faceted along a third dimension, as xarray's
//! `da.plot(col="season", col_wrap=2)`: one panel per label of `col`,
//! the last two dimensions as y and x, a shared colorbar labelled with
//! the variable's `long_name [units]` (diverging and centred on zero
//! when the data has both signs).

use std::path::Path;

use blockwork_plot::{FacetPlot, Field};

use crate::dataarray::DataArray;
use crate::error::{file_err, LabeledError, Result};

impl DataArray {
    /// Computes the array and writes a PNG of its 2-d fields, one panel
    /// per label of `col`, `col_wrap` panels to a row. `label` names the
    /// colorbar (default: the `long_name` and `units` attributes).
    pub fn plot_facets(&self, path: impl AsRef<Path>, col: &str, col_wrap: usize, label: Option<&str>) -> Result<()> {
        let path = path.as_ref();
        if self.dims.len() != 3 {
            return Err(LabeledError::Dim(format!(
                "a faceted map needs 3 dimensions (facets, y, x), not {:?}",
                self.dims
            )));
        }
        self.axis(col)?;
        let other: Vec<&str> = self.dims.iter().map(String::as_str).filter(|d| *d != col).collect();
        let mut order = vec![col];
        order.extend(&other);
        let da = self.transpose(&order)?;
        let values = da.values()?;
        let (ny, nx) = (da.shape()[1], da.shape()[2]);
        let axis = |d: &str, n: usize| {
            da.coords.get(d).and_then(|c| c.index.as_f64()).unwrap_or_else(|| (0..n).map(|i| i as f64).collect())
        };
        let (y, x) = (axis(other[0], ny), axis(other[1], nx));
        let flat = values.as_standard_layout().into_owned().into_raw_vec_and_offset().0;
        let facets = da.coords.get(col).map(|c| c.index.clone());
        let fields = (0..da.shape()[0])
            .map(|k| Field {
                values: &flat[k * ny * nx..(k + 1) * ny * nx],
                nrows: ny,
                ncols: nx,
                x: &x,
                y: &y,
                title: format!("{col} = {}", facets.as_ref().map_or(k.to_string(), |f| f.label(k))),
            })
            .collect();
        let mut plot = FacetPlot::new(fields, col_wrap);
        plot.x_label = other[1].to_string();
        plot.y_label = other[0].to_string();
        plot.colorbar_label = match label {
            Some(l) => l.to_string(),
            None => {
                let name = self.attrs.get("long_name").map(|v| v.to_string()).or(self.name.clone()).unwrap_or_default();
                match self.attrs.get("units") {
                    Some(u) => format!("{name} [{u}]"),
                    None => name,
                }
            }
        };
        let rows = da.shape()[0].div_ceil(col_wrap.max(1)) as u32;
        let cols = col_wrap.clamp(1, da.shape()[0].max(1)) as u32;
        blockwork_plot::write_png(&plot, path, 140 + 440 * cols, 60 + 270 * rows).map_err(|e| file_err(path, e))
    }
}
