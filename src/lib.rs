//! # labelsmooth
//!
//! Label smoothing for multi-label classification, settled: every smoothing scheme in use
//! (the [`Scheme`] catalog), its targets, per-row loss and closed-form gradient written once
//! for `f32`, `f64` and dual numbers, and (feature `reference`) an MPFR reference that takes
//! every input exactly and rounds once.
//!
//! ## Modules
//! - the crate root: the catalog ([`Scheme`], [`Smoothing`]), checked inputs ([`Batch`],
//!   [`Problem`]) and the generic formulas ([`Problem::evaluate`], [`Problem::loss_at`]);
//! - [`fast`]: the production loss and gradient (no C code; the lean build);
//! - `reference` (feature `reference`): the MPFR reference;
//! - `check`, `symbolic`, `verify` (feature `verify`): dual-number checks, the exact symbolic
//!   checker of `proofs/`, and the verification report of `labelsmooth verify`.
//!
//! ## Semantics
//! One row has logits `z` in R^N, labels `y` in {0,1}^N, `n` positives. A batch is B rows.
//! - Softmax family (`uniform`, `others`, `classy_vision`, `ml_uniform`, `ml_complement`,
//!   `ml_prior`): `L = -sum_k w_k q_k log p_k`, `p = softmax(z)`, `q` the scheme's target.
//! - Sigmoid family (`bce_half`, `bce_per_class`, `bce_symmetric`, `bce_asymmetric`):
//!   `L = sum_k w_k [ -pi_k t_k log s_k - (1-t_k) log(1-s_k) ]`, `s = sigmoid(z)`.
//! - `zlpr`: `L = log(1 + sum_k (1-t_k) e^{z_k}) + log(1 + sum_k t_k e^{-z_k})`, with targets
//!   `1 - alpha` (positives) and `beta` (negatives); no weights.
//!
//! `w` are optional per-class weights ([`Weights::class`], default 1), `pi` optional positive
//! weights ([`Weights::pos`], sigmoid family only, default 1). [`Reduction`] names the ways to
//! combine rows: none (per row), sum, mean over rows, mean over all B·N elements, and PyTorch's
//! weighted mean (softmax family, one positive per row: divide by the sum of the rows'
//! true-class weights).
//!
//! ## Edges
//! - Logits must be finite: NaN and ±∞ are refused with the row and column ([`Batch`] says
//!   why). Every finite logit, up to ±`f64::MAX`, is accepted; in `f64` the loss overflows to
//!   +∞ only where its exact value exceeds `f64::MAX`. The `f32` evaluation rounds logits to
//!   `f32`, so logits beyond `f32::MAX` become infinite there.
//! - Terms with a zero coefficient (a zero target or weight) contribute exactly 0.
//! - Parameters are checked on their binary64 value, the one the formulas use.
//!
//! ## Example
//! ```
//! use labelsmooth::{Batch, Problem, Scheme, Smoothing, Weights};
//!
//! let smoothing = Smoothing::with_eps(Scheme::MlUniform, 0.1)?;
//! let batch = Batch::from_rows(&[[0.5, -2.0, 1.0]], &[[1u8, 0, 1]])?;
//! let problem = Problem::new(smoothing, Weights::default(), batch)?;
//! let row = &problem.evaluate::<f64>().rows[0];
//! // (1 - 0.1)/2 + 0.1/3 on the positives, 0.1/3 on the negative.
//! assert!((row.targets[0] - (0.45 + 0.1 / 3.0)).abs() < 1e-15);
//! assert!(row.loss > 0.0);
//! # Ok::<(), labelsmooth::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod budget;
// Dual-number checks of the shipped formulas (AD gradient and Hessian, minimisers).
#[cfg(feature = "verify")]
pub mod check;
mod error;
// The production loss and gradient: fused, vectorised, rayon-parallel.
pub mod fast;
mod formula;
mod precision;
mod problem;
#[cfg(feature = "reference")]
pub mod reference;
mod scheme;
#[cfg(feature = "verify")]
pub mod symbolic;
#[cfg(feature = "verify")]
pub mod verify;

pub use batch::{Batch, Label};
pub use budget::{UlpBudget, ulp_budget};
pub use error::{Error, Result};
pub use precision::Precision;
pub use problem::{Evaluation, Problem, Reduction, RowValues, Weights};
pub use scheme::{Family, Param, ParameterSet, Params, Scheme, Smoothing};

// The README's Rust examples run as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
