//! The seeded generator, shared with the other simulations.

pub use blockwork_testkit::Rng;
