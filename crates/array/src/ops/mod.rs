//! Operations on arrays, one module per family.

pub mod blocksolve;
pub mod blockwise;
pub mod contract;
pub mod decomp;
pub mod elementwise;
pub mod fft;
pub mod fused;
pub mod groupby;
pub mod join;
pub mod linalg;
pub mod map;
pub mod mask;
pub mod overlap;
pub mod rechunk;
pub mod reduce;
pub mod reshape;
pub mod shape;
pub mod slice;
