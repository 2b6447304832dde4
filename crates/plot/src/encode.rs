//! PNG encoding of the finished canvas with the `png` crate.

use crate::raster::Canvas;
use crate::PlotError;

/// The canvas as PNG bytes: 8-bit RGB, adaptive filtering, balanced deflate.
pub(crate) fn png_bytes(canvas: &Canvas) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, canvas.width, canvas.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&canvas.pixels)?;
    writer.finish()?;
    Ok(out)
}
