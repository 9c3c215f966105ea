//! Every entry point of the fast path compiled into the library (feature `shared-kernels`).
//!
//! A generic function is compiled in the crate that instantiates it, so each test binary,
//! example and doctest compiled the kernels again, about a minute of LLVM each per precision,
//! label type and direction at opt-level 1. Below opt-level 2 rustc shares generic instances
//! across crates (`-Z share-generics`, on by default there): a dependant built in the dev or
//! test profile links the ones compiled here instead. This crate's tests turn the feature on
//! (`--all-features`); a release build gains nothing from it.

use super::{Csr, Dense, Labels, Loss, Precise};

/// The addresses of [`Loss::forward`] and [`Loss::forward_backward`] for each precision and
/// label type; taking them compiles them here. Nothing calls this.
pub fn entry_points() -> Vec<*const ()> {
    fn both<T: Precise, Y: Labels>() -> [*const (); 2] {
        [
            Loss::forward::<T, Y> as *const (),
            Loss::forward_backward::<T, Y> as *const (),
        ]
    }
    fn each_label<T: Precise>() -> [[*const (); 2]; 5] {
        [
            both::<T, Dense<'static, u8>>(),
            both::<T, Dense<'static, bool>>(),
            both::<T, Dense<'static, f32>>(),
            both::<T, Dense<'static, f64>>(),
            both::<T, Csr<'static>>(),
        ]
    }
    [each_label::<f32>(), each_label::<f64>()]
        .into_iter()
        .flatten()
        .flatten()
        .collect()
}
