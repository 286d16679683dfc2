//! Command-line entry points.

pub mod crd;
