//! The catalog of smoothing schemes, their parameters and their target formulas.

mod catalog;
mod param;
mod smoothing;

pub use catalog::{Family, ParameterSet, Scheme};
pub use param::Param;
pub(crate) use smoothing::{Field, check_entries};
pub use smoothing::{Params, Smoothing};
