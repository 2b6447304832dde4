//! Renders facet plots, decodes the PNGs and checks what a reader would see.

use std::path::Path;

use blockwork_plot::{panel_rects, render, write_png, Colormap, FacetPlot, Field, PixelRect, PlotError};

const NROWS: usize = 181;
const NCOLS: usize = 360;

/// Latitude 90..-90 (descending, as in ERA5) and longitude 0..359.
fn coords() -> (Vec<f64>, Vec<f64>) {
    ((0..NROWS).map(|i| 90.0 - i as f64).collect(), (0..NCOLS).map(|j| j as f64).collect())
}

/// A smooth anomaly within ±2 with three marked blocks: +5 at lat 20..60, lon 30..80; −5 at
/// lat −60..−20, lon 200..260; NaN at lat −10..10, lon 120..160.
fn field_values(lat: &[f64], lon: &[f64], season: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(NROWS * NCOLS);
    for &la in lat {
        for &lo in lon {
            let x = if (20.0..=60.0).contains(&la) && (30.0..=80.0).contains(&lo) {
                5.0
            } else if (-60.0..=-20.0).contains(&la) && (200.0..=260.0).contains(&lo) {
                -5.0
            } else if (-10.0..=10.0).contains(&la) && (120.0..=160.0).contains(&lo) {
                f64::NAN
            } else {
                let phase = season as f64 * std::f64::consts::FRAC_PI_2;
                2.0 * la.to_radians().cos() * (lo.to_radians() * 2.0 + phase).sin()
            };
            v.push(x);
        }
    }
    v
}

struct Data {
    lat: Vec<f64>,
    lon: Vec<f64>,
    values: Vec<Vec<f64>>,
}

fn data() -> Data {
    let (lat, lon) = coords();
    let values = (0..4).map(|s| field_values(&lat, &lon, s)).collect();
    Data { lat, lon, values }
}

fn plot(d: &Data) -> FacetPlot<'_> {
    let fields = ["DJF", "MAM", "JJA", "SON"]
        .iter()
        .zip(&d.values)
        .map(|(season, values)| Field {
            values,
            nrows: NROWS,
            ncols: NCOLS,
            x: &d.lon,
            y: &d.lat,
            title: format!("season = {season}"),
        })
        .collect();
    let mut p = FacetPlot::new(fields, 2);
    p.x_label = "longitude [degrees_east]".into();
    p.y_label = "latitude [degrees_north]".into();
    p.colorbar_label = "2 metre temperature [K]".into();
    p.title = Some("2 metre temperature anomaly, 2000\u{2013}2020 seasonal means".into());
    p
}

struct Image {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Image {
    fn decode(png: &[u8]) -> Image {
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("a buffer size")];
        let info = reader.next_frame(&mut buf).expect("one frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        Image { width: info.width, height: info.height, rgb: buf }
    }

    fn at(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The pixel of a panel where (`lon`, `lat`) is drawn.
    fn at_coord(&self, r: PixelRect, lon: f64, lat: f64) -> [u8; 3] {
        let fx = (lon + 0.5) / 360.0;
        let fy = (90.5 - lat) / 181.0;
        self.at(r.x + (fx * f64::from(r.width)) as u32, r.y + (fy * f64::from(r.height)) as u32)
    }

    /// Number of dark (text or line) pixels in rows `y0..y1`.
    fn dark_pixels(&self, y0: u32, y1: u32) -> usize {
        (y0..y1).flat_map(|y| (0..self.width).map(move |x| (x, y))).filter(|&(x, y)| self.at(x, y)[0] < 100).count()
    }
}

fn reddish(c: [u8; 3]) -> bool {
    c[0] > c[1] + 60 && c[0] > c[2] + 40
}

fn bluish(c: [u8; 3]) -> bool {
    c[2] > c[0] + 60 && c[2] > c[1] + 20
}

#[test]
fn four_panels_render_with_diverging_colours_and_white_nan() {
    let d = data();
    let p = plot(&d);
    let png = render(&p, 1200, 800).unwrap();
    let img = Image::decode(&png);
    assert_eq!((img.width, img.height), (1200, 800));

    let rects = panel_rects(&p, 1200, 800).unwrap();
    assert_eq!(rects.len(), 4);
    for r in &rects {
        let pos = img.at_coord(*r, 55.0, 40.0);
        let neg = img.at_coord(*r, 230.0, -40.0);
        let nan = img.at_coord(*r, 140.0, 0.0);
        assert!(reddish(pos), "+5 cell drawn as {pos:?}");
        assert!(bluish(neg), "-5 cell drawn as {neg:?}");
        assert_eq!(nan, [255, 255, 255], "NaN cell");
        // North is up: the top rows hold latitude 90 (cos = 0, a near-white anomaly), the row at
        // latitude 40 the positive block.
        assert!(img.at_coord(*r, 55.0, -40.0) != pos);
    }
    // Panels are in a 2 × 2 grid.
    assert_eq!(rects[0].y, rects[1].y);
    assert_eq!(rects[0].x, rects[2].x);
    assert!(rects[0].x + rects[0].width < rects[1].x);
    assert!(rects[0].y + rects[0].height < rects[2].y);
}

#[test]
fn title_and_labels_are_drawn_as_text() {
    let d = data();
    let p = plot(&d);
    let img = Image::decode(&render(&p, 1200, 800).unwrap());
    let rects = panel_rects(&p, 1200, 800).unwrap();
    // Overall title and panel titles between the top edge and the first row of panels.
    let title_area = img.dark_pixels(0, rects[0].y);
    assert!(title_area > 500, "only {title_area} dark pixels above the panels");
    // Antialiased: text has grey edge pixels, not only black and white.
    let grey = (0..rects[0].y)
        .flat_map(|y| (0..img.width).map(move |x| (x, y)))
        .filter(|&(x, y)| (60..200).contains(&img.at(x, y)[0]))
        .count();
    assert!(grey > 100, "{grey} grey pixels");
    // Tick labels and the x label below the bottom panels.
    let bottom = rects[2].y + rects[2].height + 2;
    assert!(img.dark_pixels(bottom, img.height) > 300);
    // Without a title the top band holds only the panel titles: fewer dark pixels.
    let mut untitled = plot(&d);
    untitled.title = None;
    let img2 = Image::decode(&render(&untitled, 1200, 800).unwrap());
    let rects2 = panel_rects(&untitled, 1200, 800).unwrap();
    assert!(rects2[0].y < rects[0].y);
    assert!(img2.dark_pixels(0, rects2[0].y) < title_area);
}

#[test]
fn ascending_latitude_is_still_drawn_north_up() {
    let d = data();
    let lat_up: Vec<f64> = d.lat.iter().rev().copied().collect();
    let flipped: Vec<f64> = d.values[0].chunks(NCOLS).rev().flatten().copied().collect();
    let mut p = plot(&d);
    p.fields.truncate(1);
    p.fields[0].y = &lat_up;
    p.fields[0].values = &flipped;
    let img = Image::decode(&render(&p, 800, 500).unwrap());
    let r = panel_rects(&p, 800, 500).unwrap()[0];
    assert!(reddish(img.at_coord(r, 55.0, 40.0)));
    assert!(bluish(img.at_coord(r, 230.0, -40.0)));
}

#[test]
fn sequential_map_for_one_signed_data() {
    let (lat, lon) = coords();
    let kelvin: Vec<f64> = (0..NROWS * NCOLS).map(|i| 250.0 + (i / NCOLS) as f64 / 4.0).collect();
    let mut p = FacetPlot::new(
        vec![Field { values: &kelvin, nrows: NROWS, ncols: NCOLS, x: &lon, y: &lat, title: "t2m".into() }],
        2,
    );
    let scale = p.color_scale().unwrap();
    assert_eq!(scale.colormap, Colormap::Sequential);
    let img = Image::decode(&render(&p, 900, 500).unwrap());
    let r = panel_rects(&p, 900, 500).unwrap()[0];
    // Values grow with the row number, southwards. viridis: dark purple at the lowest value
    // (north), yellow at the highest (south).
    let north = img.at_coord(r, 100.0, 89.0);
    let south = img.at_coord(r, 100.0, -89.0);
    assert!(north[2] > north[1] && north[0] < 100, "{north:?}");
    assert!(south[0] > 200 && south[1] > 200 && south[2] < 100, "{south:?}");
    // vmin/vmax and robust are honoured.
    p.vmin = Some(260.0);
    p.vmax = Some(270.0);
    let s = p.color_scale().unwrap();
    assert_eq!((s.vmin, s.vmax, s.extend_min, s.extend_max), (260.0, 270.0, true, true));
}

#[test]
fn sample_png_is_written() {
    let d = data();
    let p = plot(&d);
    let dir = std::env::temp_dir().join(format!("blockwork-plot-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seasons.png");
    write_png(&p, &path, 1200, 800).unwrap();
    let img = Image::decode(&std::fs::read(&path).unwrap());
    assert_eq!((img.width, img.height), (1200, 800));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn error_of(p: &FacetPlot<'_>) -> String {
    let e = render(p, 1200, 800).unwrap_err();
    let _: &dyn std::error::Error = &e;
    e.to_string()
}

#[test]
fn malformed_plots_are_errors_that_say_what_is_wrong() {
    let d = data();
    let short = vec![0.0; 10];

    let mut p = plot(&d);
    p.fields[1].values = &short;
    let msg = error_of(&p);
    assert!(matches!(
        render(&p, 1200, 800),
        Err(PlotError::ValuesLength { field: 1, expected: 65160, actual: 10, .. })
    ));
    assert!(msg.contains("season = MAM") && msg.contains("10 values") && msg.contains("65160"), "{msg}");

    let mut p = plot(&d);
    p.fields[0].x = &d.lon[..359];
    let msg = error_of(&p);
    assert!(msg.contains("x has 359 coordinates") && msg.contains("360 columns"), "{msg}");

    let mut p = plot(&d);
    p.fields[3].y = &d.lat[1..];
    let msg = error_of(&p);
    assert!(msg.contains("y has 180 coordinates") && msg.contains("181 rows"), "{msg}");

    let unsorted: Vec<f64> = (0..NCOLS).map(|j| ((j * 7) % NCOLS) as f64).collect();
    let mut p = plot(&d);
    p.fields[0].x = &unsorted;
    assert!(error_of(&p).contains("strictly increasing or decreasing"));

    let mut p = plot(&d);
    p.fields.clear();
    assert!(matches!(render(&p, 1200, 800), Err(PlotError::NoFields)));
    assert!(error_of(&p).contains("no fields"));

    let mut p = plot(&d);
    p.col_wrap = 0;
    assert!(matches!(render(&p, 1200, 800), Err(PlotError::ZeroColWrap)));
    assert!(error_of(&p).contains("col_wrap"));

    let mut p = plot(&d);
    p.vmin = Some(3.0);
    p.vmax = Some(-3.0);
    assert!(error_of(&p).contains("vmin = 3"));

    let p = plot(&d);
    assert!(matches!(render(&p, 50, 40), Err(PlotError::TooSmall { .. })));
}

#[test]
fn unwritable_path_is_named_in_the_error() {
    let d = data();
    let p = plot(&d);
    let path = Path::new("/nonexistent-dir-for-blockwork-plot/sub/out.png");
    let e = write_png(&p, path, 600, 400).unwrap_err();
    assert!(matches!(e, PlotError::Write { .. }));
    let msg = e.to_string();
    assert!(msg.contains("/nonexistent-dir-for-blockwork-plot/sub/out.png"), "{msg}");
    assert!(std::error::Error::source(&e).is_some());
}
