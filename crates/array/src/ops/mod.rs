//! Operations on arrays, one module per family.

pub mod elementwise;
pub mod fused;
pub mod linalg;
pub mod rechunk;
pub mod reduce;
pub mod shape;
