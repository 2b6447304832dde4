//! Writes a 2 × 2 facet plot of a synthetic seasonal 2 metre temperature anomaly
//! (181 latitudes × 360 longitudes, latitude descending) to the PNG named on the command line.
//!
//! `cargo run -p blockwork-plot --example seasons -- out.png [width height]`

use blockwork_plot::{write_png, FacetPlot, Field};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "seasons.png".into());
    let width = args.next().map(|w| w.parse()).transpose()?.unwrap_or(1200);
    let height = args.next().map(|h| h.parse()).transpose()?.unwrap_or(800);

    let lat: Vec<f64> = (0..181).map(|i| 90.0 - f64::from(i)).collect();
    let lon: Vec<f64> = (0..360).map(f64::from).collect();
    let seasons = ["DJF", "MAM", "JJA", "SON"];
    let values: Vec<Vec<f64>> = (0..4).map(|s| anomaly(&lat, &lon, s)).collect();
    let fields = seasons
        .iter()
        .zip(&values)
        .map(|(season, v)| Field {
            values: v,
            nrows: 181,
            ncols: 360,
            x: &lon,
            y: &lat,
            title: format!("season = {season}"),
        })
        .collect();
    let mut plot = FacetPlot::new(fields, 2);
    plot.x_label = "longitude [degrees_east]".into();
    plot.y_label = "latitude [degrees_north]".into();
    plot.colorbar_label = "2 metre temperature [K]".into();
    plot.title = Some("Seasonal 2 metre temperature anomaly".into());
    plot.robust = std::env::var_os("ROBUST").is_some();
    write_png(&plot, path.as_ref(), width, height)?;
    println!("wrote {path}");
    Ok(())
}

/// Polar amplification in the winter hemisphere, a few warm and cold blobs, and a missing box.
fn anomaly(lat: &[f64], lon: &[f64], season: usize) -> Vec<f64> {
    let winter_north = match season {
        0 => 1.0,
        2 => -1.0,
        _ => 0.2,
    };
    let mut v = Vec::with_capacity(lat.len() * lon.len());
    for &la in lat {
        for &lo in lon {
            let polar = (la / 90.0).powi(4) * if la > 0.0 { 4.0 * winter_north } else { -2.5 * winter_north };
            let waves = 1.2 * (la.to_radians() * 3.0).cos() * (lo.to_radians() * 2.0 + season as f64).sin();
            let blob = 3.0 * (-((la - 50.0).powi(2) + (lo - 100.0 - 30.0 * season as f64).powi(2)) / 300.0).exp();
            let missing = season == 1 && (-20.0..=0.0).contains(&la) && (150.0..=200.0).contains(&lo);
            v.push(if missing { f64::NAN } else { 0.3 + polar + waves + blob });
        }
    }
    v
}
