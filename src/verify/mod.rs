//! The verification report's building blocks: seeded inputs and accuracy measurement.

pub mod accuracy;
pub mod fast_checks;
pub mod report;
pub mod sample;

pub use report::{Cell, ClaimRow, Fault, Options, Report, SchemeRow, run};
