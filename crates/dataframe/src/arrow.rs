//! Frames across the Arrow C data interface: how a computed frame reaches
//! pyarrow (and from there pandas) without its columns being copied, and
//! how another library's Arrow columns become a frame.
//!
//! The structs are the interface's own (`ArrowSchema`, `ArrowArray`): an
//! exported one owns its column's buffers until the consumer moves it out
//! (nulling its `release`), and frees them when dropped otherwise.

use polars::prelude::{Column, CompatLevel, DataFrame as PlFrame, IntoColumn, PlSmallStr, Series};
pub use polars_arrow::ffi::{ArrowArray, ArrowSchema};

use crate::error::Result;

/// One exported column: its field (name and Arrow type) and its values as
/// one array.
pub struct ExportedColumn {
    /// The column's field.
    pub schema: ArrowSchema,
    /// Its values.
    pub array: ArrowArray,
}

/// Exports the columns of `df`, each as one contiguous array (columns made
/// of several chunks, a computed frame's partitions, are joined first, in
/// parallel). Strings travel as Arrow's `large_utf8` and datetimes as
/// timestamps, which every Arrow consumer reads.
pub fn export(mut df: PlFrame) -> Vec<ExportedColumn> {
    df.rechunk_mut_par();
    df.columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series();
            let field = s.field().to_arrow(CompatLevel::oldest());
            let array = s.to_arrow(0, CompatLevel::oldest());
            ExportedColumn {
                schema: polars_arrow::ffi::export_field_to_c(&field),
                array: polars_arrow::ffi::export_array_to_c(array),
            }
        })
        .collect()
}

/// A column named `name` from an Arrow array and its field, taking the
/// array: `*array` is left released (its `release` nulled), as the
/// interface's move semantics ask.
///
/// # Safety
/// `schema` and `*array` must be valid per the Arrow C data interface, and
/// `array` writable.
#[allow(unsafe_code)]
pub unsafe fn import_column(name: &str, schema: &ArrowSchema, array: *mut ArrowArray) -> Result<Column> {
    // SAFETY: the caller vouches for both structs; the array is moved out
    // and an empty (released) one left in its place.
    let field = unsafe { polars_arrow::ffi::import_field_from_c(schema) }?;
    let taken = unsafe { std::ptr::replace(array, ArrowArray::empty()) };
    let values = unsafe { polars_arrow::ffi::import_array_from_c(taken, field.dtype().clone()) }?;
    Ok(Series::from_arrow(PlSmallStr::from(name), values)?.into_column())
}

/// A frame of columns of equal length.
pub fn frame(columns: Vec<Column>) -> Result<PlFrame> {
    Ok(PlFrame::new_infer_height(columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::df;

    #[test]
    #[allow(unsafe_code)]
    fn round_trip_through_the_c_interface_keeps_values_and_types() {
        let a = df!("x" => [1i64, 2, 3], "y" => [Some(0.5), None, Some(2.5)], "s" => ["a", "bb", "ccc"]).unwrap();
        let mut b = a.slice(0, 1);
        b.vstack_mut(&a.slice(1, 2)).unwrap();
        let columns = export(b)
            .into_iter()
            .zip(["x", "y", "s"])
            .map(|(mut c, name)| {
                // Dropping `c` afterwards must not free what the import took.
                unsafe { import_column(name, &c.schema, &mut c.array) }.unwrap()
            })
            .collect();
        let back = frame(columns).unwrap();
        assert!(back.equals_missing(&a), "{back} != {a}");
    }
}
