//! For `blockwork.bag`: the pieces of a text pile and the lines of one,
//! read by the bag crate's reader (globs, `s3://`, `.gz`/`.zst` by
//! extension, blocks of lines), so that Python bags read as Rust ones do.

use blockwork::bag::{BagError, TextOptions, TextPiece};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;

/// A piece: its file and, for a block of an uncompressed file, `(start,
/// end, size)` in bytes.
type Piece = (String, Option<(u64, u64, u64)>);

/// The pieces `read_text` makes of the files `pattern` names: one per
/// file, or per `blocksize` bytes of an uncompressed one.
#[pyfunction]
#[pyo3(signature = (pattern, blocksize=None))]
pub fn text_pieces(py: Python<'_>, pattern: &str, blocksize: Option<u64>) -> PyResult<Vec<Piece>> {
    let pieces =
        py.detach(|| blockwork::bag::text_pieces(pattern, &TextOptions { blocksize })).map_err(|e| match e {
            BagError::NoFiles(_) => PyFileNotFoundError::new_err(e.to_string()),
            BagError::Invalid(_) => PyValueError::new_err(e.to_string()),
            _ => PyOSError::new_err(e.to_string()),
        })?;
    Ok(pieces.into_iter().map(|p| (p.file, p.range)).collect())
}

/// The lines of one piece, each with its terminator.
#[pyfunction]
#[pyo3(signature = (file, range=None))]
pub fn read_text_piece(py: Python<'_>, file: String, range: Option<(u64, u64, u64)>) -> PyResult<Vec<String>> {
    let piece = TextPiece { file, range };
    py.detach(|| blockwork::bag::read_piece(&piece)).map_err(|e| PyOSError::new_err(e.message))
}

/// Writes `text` to `path` (local or `s3://`), compressed by extension.
#[pyfunction]
pub fn write_text_file(py: Python<'_>, path: String, text: String) -> PyResult<()> {
    py.detach(|| blockwork::bag::write_text_file(&path, text))
        .map_err(|e| PyOSError::new_err(format!("writing {path}: {e}")))
}
