//! The two machine precisions the formulas are evaluated in.

use num_dual::{DualNum, DualNumFloat};

use crate::scheme::{Field, Param};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: the precision in which [`crate::Problem::evaluate`] rounds the inputs and
/// evaluates the formulas.
pub trait Precision: DualNumFloat + DualNum<Primitive = Self> + sealed::Sealed {
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// A binary64 value rounded to nearest (the identity for `f64`).
    fn round_from(x: f64) -> Self;
    /// A parameter rounded once to this precision.
    fn from_param(p: &Param) -> Self;
    /// The value widened exactly to binary64.
    fn to_f64(self) -> f64;
}

impl Precision for f64 {
    const NAME: &'static str = "f64";
    fn round_from(x: f64) -> Self {
        x
    }
    fn from_param(p: &Param) -> Self {
        p.value()
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Precision for f32 {
    const NAME: &'static str = "f32";
    fn round_from(x: f64) -> Self {
        x as f32
    }
    fn from_param(p: &Param) -> Self {
        p.value_f32()
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl<F: Precision> Field for F {
    fn from_count(n: usize) -> Self {
        // Counts are class and label counts, exact in f32 below 2^24 and in f64 below 2^53.
        F::round_from(n as f64)
    }
    fn from_param(p: &Param) -> Self {
        <F as Precision>::from_param(p)
    }
}
