//! The climate workload that `blockwork demo climate` runs and
//! `blockwork-bench climate` measures, defined once: which years, and the
//! anomaly as an xarray user writes it.

use blockwork::labeled::{DataArray, Result};

/// The years of the seasonal anomaly (flags `--clim-start`, `--clim-end`,
/// `--year`, as the reference `climate.py` takes them).
#[derive(clap::Args, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Years {
    /// First year of the climatology.
    #[arg(long, default_value_t = 1981)]
    pub clim_start: i32,
    /// Last year of the climatology.
    #[arg(long, default_value_t = 2010)]
    pub clim_end: i32,
    /// The year of the anomaly.
    #[arg(long, default_value_t = 2018)]
    pub year: i32,
}

impl Years {
    /// The seasonal means of `year` less the seasonal climatology of
    /// `clim_start..=clim_end`, of a variable with a `time` dimension:
    /// `tas.sel(time=year).groupby("time.season").mean("time") - clim`.
    pub fn anomaly(&self, tas: &DataArray) -> Result<DataArray> {
        let (cs, ce, y) = (self.clim_start.to_string(), self.clim_end.to_string(), self.year.to_string());
        let clim = tas.sel("time", cs.as_str()..=ce.as_str())?.groupby("time.season")?.mean("time")?;
        tas.sel("time", y.as_str())?.groupby("time.season")?.mean("time")?.sub(&clim)
    }
}
