//! Dual-number checks of every scheme (feature `verify`): the AD gradient and Hessian of the
//! crate's own generic formulas against the closed forms, convexity, shift invariance, and the
//! minimisers and their losses in MPFR.
//!
//! Every check returns what it measured ([`PointCheck`], [`MinimiserCheck`],
//! [`DivergenceCheck`]); [`AdReport`] keeps the worst of each over many points and
//! [`AdReport::failures`] compares them with the documented [`Tolerances`].
//!
//! - [`ad_gradient`], [`ad_hessian`], [`ad_jacobian_of_gradient`]: num-dual derivatives of
//!   [`crate::Problem::loss_at`] and [`crate::Problem::gradient_at`].
//! - [`closed_form`]: the closed-form Hessians, written independently.
//! - [`check_point`]: every derivative check at one point, optionally with a [`Fault`].
//! - [`minimiser`], [`minimiser_mpfr`], [`check_minimiser`]: the minimiser of each family from
//!   its targets, where it is finite.
//! - [`target_entropy`], [`check_divergence`]: the loss at the minimiser and `L(z) - L(z*)`.
//! - [`check_scheme`]: all of it on seeded random problems.
//!
//! # Examples
//! ```
//! use labelsmooth::check::{Tolerances, check_minimiser, check_point};
//! use labelsmooth::reference::Reference;
//! use labelsmooth::{Batch, Problem, Scheme, Smoothing, Weights};
//!
//! let smoothing = Smoothing::with_eps(Scheme::MlUniform, 0.1)?;
//! let batch = Batch::from_rows(&[[0.5, -2.0, 1.0]], &[[1u8, 0, 1]])?;
//! let problem = Problem::new(smoothing, Weights::default(), batch)?;
//! let tolerances = Tolerances::default();
//! let point = check_point(&problem, 0, &[3.0, -30.0, 1e-8], None)?;
//! assert!(point.grad_rel <= tolerances.derivative);
//! assert!(point.hess_rel <= tolerances.derivative);
//! assert!(point.min_eigen_ratio >= -tolerances.psd);
//! let at_minimiser = check_minimiser(&problem, 0, &Reference::default())?;
//! assert!(at_minimiser.is_some_and(|m| m.grad_mpfr <= tolerances.minimiser_mpfr));
//! # Ok::<(), labelsmooth::Error>(())
//! ```

mod ad;
mod entropy;
mod hessian;
mod minimiser;
mod point;
mod report;
mod row;
mod tolerance;

pub use ad::{AdDerivatives, ad_gradient, ad_hessian, ad_jacobian_of_gradient};
pub use entropy::{DivergenceCheck, check_divergence, target_entropy};
pub use hessian::{ClosedForm, closed_form};
pub use minimiser::{MinimiserCheck, check_minimiser, minimiser, minimiser_mpfr};
pub use point::{Fault, PointCheck, check_point, psd_ratio};
pub use report::{AdOptions, AdReport, adversarial_points, check_scheme};
pub use tolerance::{Tolerances, UNDERFLOW_FLOOR, relative_error};
