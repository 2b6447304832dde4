//! Reading files into datasets: each reader learns a file's metadata
//! and coordinates when it is opened, and makes every variable a chunked
//! array whose blocks are tasks that read only their own part. Writing
//! Zarr stores is the same in reverse: a task per block writes its chunk.

mod grib;
mod h5chunks;
pub(crate) use grib::READ_GRIB;
pub mod mfdataset;
pub mod netcdf;
pub mod netcdf_write;
pub mod stages;
mod unshuffle;
pub mod zarr;
mod zarr_object;
mod zarr_store;
pub mod zarr_write;

use blockwork_array::{Array, Block, DType, Element};
use blockwork_graph::{TaskSpec, Token, Value};
use ndarray::ArrayD;

use crate::data::Data;
use crate::error::Result;

/// Block lengths per axis: `sizes[ax]` long blocks (`None`: one block),
/// normalized as the array crate normalizes every chunk spec.
pub(crate) fn block_lengths(shape: &[usize], sizes: &[Option<usize>]) -> Result<Vec<Vec<usize>>> {
    let spec = blockwork_array::ChunkSpec::Sizes(sizes.iter().map(|s| s.map(|c| c.max(1))).collect());
    Ok(blockwork_array::Chunks::normalize(&spec, shape, 1)?.axes().to_vec())
}

/// Refuses `chunks` that name no dimension of the dataset at `source`
/// (a misspelled dimension would otherwise stay one block, silently) or
/// give a block length of 0.
pub(crate) fn check_chunks<'a>(
    source: &std::path::Path,
    chunks: &[(&str, usize)],
    dims: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut known: Vec<&str> = Vec::new();
    for d in dims {
        if !known.contains(&d) {
            known.push(d);
        }
    }
    let unknown: Vec<&str> = chunks.iter().map(|&(d, _)| d).filter(|d| !known.contains(d)).collect();
    if !unknown.is_empty() {
        return Err(crate::error::LabeledError::Dim(format!(
            "{}: chunks name {unknown:?}, which are not dimensions of the dataset (its dimensions: {known:?})",
            source.display()
        )));
    }
    if let Some((d, _)) = chunks.iter().find(|&&(_, n)| n == 0) {
        return Err(crate::error::LabeledError::Dim(format!(
            "{}: chunks give dimension `{d}` blocks of length 0; a block length is at least 1",
            source.display()
        )));
    }
    Ok(())
}

/// Block lengths of a variable: the length `chunks` names for a
/// dimension, else `default[ax]` (the store's chunks; `None`: one block).
pub(crate) fn dim_blocks(
    dims: &[String],
    shape: &[usize],
    default: &[Option<usize>],
    chunks: &[(&str, usize)],
) -> Result<Vec<Vec<usize>>> {
    let sizes: Vec<Option<usize>> = dims
        .iter()
        .zip(default)
        .map(|(d, &def)| chunks.iter().find(|(name, _)| name == d).map(|&(_, c)| c).or(def))
        .collect();
    block_lengths(shape, &sizes)
}

/// A block value of a read.
pub(crate) fn block<T: Element>(a: ArrayD<T>) -> Value {
    Block::Dense(a).into_value()
}

/// The chunked array of one stored variable: blocks of `axes`, each made
/// by `task(block index)`, which must produce a block of `dtype`.
pub(crate) fn lazy_data(
    prefix: &str,
    token: Token,
    shape: &[usize],
    axes: Vec<Vec<usize>>,
    dtype: DType,
    task: impl FnMut(&[u32]) -> TaskSpec,
) -> Result<Data> {
    macro_rules! make {
        ($v:ident, $t:ty) => {
            Data::$v(Array::<$t>::from_block_tasks(prefix, token, shape, axes, task)?)
        };
    }
    Ok(match dtype {
        DType::F64 => make!(F64, f64),
        DType::F32 => make!(F32, f32),
        DType::I64 => make!(I64, i64),
        DType::I32 => make!(I32, i32),
        DType::U8 => make!(U8, u8),
        DType::Bool => make!(Bool, bool),
        // Every reader decodes stored variables to the real types above
        // (`cf::decoded_dtype`, GRIB's float32): reaching this is a bug.
        DType::C128 | DType::C64 => {
            return Err(crate::LabeledError::Dim(format!(
                "{prefix}: a reader asked for {dtype} blocks, but stored variables decode to real types"
            )))
        }
    })
}
