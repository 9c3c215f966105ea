//! The minimiser of each family's loss, from the targets, in `f64` and in MPFR, and the check
//! that the gradient vanishes there.
//!
//! - Softmax family: `g = S p - c` with `c = w q`, `S = sum c`, vanishes at `p* = c / S`, so
//!   `z* = ln c` (up to a common shift). Finite when every `c_k > 0`: every target
//!   (`eps > 0` for the schemes that give negatives 0) and every class weight positive.
//! - Sigmoid family: `g_k = w_k (s_k (pi_k t_k + 1 - t_k) - pi_k t_k)` vanishes at
//!   `s*_k = pi_k t_k / (pi_k t_k + 1 - t_k)`, `z*_k = ln(pi_k t_k / (1 - t_k))` (`logit(t_k)`
//!   when `pi_k = 1`). Finite when `0 < t_k < 1` and `pi_k > 0` (`eps > 0`, or
//!   `alpha, beta > 0`); a zero class weight makes the class constant, and `z*_k` still a
//!   minimiser.
//! - ZLPR: with `u = e^z`, `A = 1 + sum (1-t) u`, `B = 1 + sum t/u`, `g_j = (1-t_j) u_j / A -
//!   t_j / (u_j B)` vanishes iff `u_j^2 = t_j A / ((1-t_j) B)`. With `u_j = sqrt(t_j / (1-t_j))`
//!   both sums become `1 + sum_k sqrt(t_k (1-t_k))`, so `A = B` and the condition holds:
//!   `z* = logit(t) / 2`. Finite when every `0 < t_k < 1` (`alpha, beta > 0`). The loss is a
//!   sum of two log-sum-exps of affine maps, hence convex, so `z*` is a global minimiser.

use rug::{Float, Rational};

use super::ad::ad_gradient;
use super::entropy::target_entropy;
use super::hessian::closed_form;
use super::row::{ExactRow, Row};
use super::tolerance::{Tolerances, ratio, within};
use crate::reference::Reference;
use crate::{Family, Problem, Result};

/// The measured errors at the minimiser of one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinimiserCheck {
    /// Worst `|g_k| / (scale_k (1 + max_j |z*_j|))` of the `f64` closed-form and AD
    /// gradients at `z*` rounded to `f64`, `scale_k` the magnitude of the gradient's terms.
    pub grad_f64: f64,
    /// Worst `|g_k| / scale_k` of the MPFR reference gradient at `z*` built in MPFR.
    pub grad_mpfr: f64,
    /// `|L(z*) - L*| / |L*|` in MPFR, `L*` the entropy of the target
    /// ([`target_entropy`]).
    pub entropy_rel: f64,
}

impl MinimiserCheck {
    /// Every measured error outside `tolerances`, as `"check: measured (tolerance)"`.
    pub fn failures(&self, tolerances: &Tolerances) -> Vec<String> {
        let t = tolerances;
        [
            ("minimiser gradient (f64)", self.grad_f64, t.minimiser_f64),
            (
                "minimiser gradient (MPFR)",
                self.grad_mpfr,
                t.minimiser_mpfr,
            ),
            (
                "loss at the minimiser vs entropy",
                self.entropy_rel,
                t.entropy_mpfr,
            ),
        ]
        .into_iter()
        // Written as "not within" so that NaN fails.
        .filter(|&(_, measured, tolerance)| !within(measured, tolerance))
        .map(|(name, measured, tolerance)| {
            format!("{name}: {measured:e} (tolerance {tolerance:e})")
        })
        .collect()
    }
}

/// Whether row `row` has a finite minimiser (see the module docs), decided exactly.
fn has_minimiser(problem: &Problem, exact: &ExactRow) -> bool {
    let positive = |x: &Rational| *x > 0;
    match problem.smoothing().scheme().family() {
        Family::Softmax => exact.t.iter().zip(&exact.w).all(|(q, w)| *q > 0 && *w > 0),
        Family::Sigmoid => {
            exact.t.iter().all(positive)
                && exact.tc.iter().all(positive)
                && exact.pi.iter().all(positive)
        }
        Family::Zlpr => exact.t.iter().all(positive) && exact.tc.iter().all(positive),
    }
}

/// The minimiser `z*` of row `row` in `f64` (the softmax family's with `max z* = ln max c`),
/// or `None` when the loss has no finite minimiser there.
///
/// # Errors
/// [`crate::Error::RowOutOfRange`].
pub fn minimiser(problem: &Problem, row: usize) -> Result<Option<Vec<f64>>> {
    let len = problem.batch().classes();
    if !has_minimiser(problem, &ExactRow::new(problem, row, len)?) {
        return Ok(None);
    }
    let r = Row::new(problem, row, len)?;
    let z = (0..len).map(|k| match r.family {
        Family::Softmax => (r.t[k] * r.w[k]).ln(),
        Family::Sigmoid => (r.pi[k] * r.t[k] / r.tc[k]).ln(),
        Family::Zlpr => 0.5 * (r.t[k] / r.tc[k]).ln(),
    });
    Ok(Some(z.collect()))
}

/// The minimiser `z*` of row `row` computed in MPFR at `bits` bits from the exact targets and
/// weights, or `None` when the loss has no finite minimiser there.
///
/// # Errors
/// [`crate::Error::RowOutOfRange`].
pub fn minimiser_mpfr(problem: &Problem, row: usize, bits: u32) -> Result<Option<Vec<Float>>> {
    let len = problem.batch().classes();
    let e = ExactRow::new(problem, row, len)?;
    if !has_minimiser(problem, &e) {
        return Ok(None);
    }
    let ln = |x: Rational| Float::with_val(bits, &x).ln();
    let z = (0..len).map(|k| match problem.smoothing().scheme().family() {
        Family::Softmax => ln(Rational::from(&e.t[k] * &e.w[k])),
        Family::Sigmoid => ln(Rational::from(&e.pi[k] * &e.t[k]) / &e.tc[k]),
        Family::Zlpr => ln(Rational::from(&e.t[k] / &e.tc[k])) / 2u32,
    });
    Ok(Some(z.collect()))
}

/// Checks row `row` at its minimiser: the `f64` gradients (closed form and AD) at `z*`
/// rounded to `f64`, the MPFR reference gradient at `z*` built in MPFR, and the MPFR loss
/// there against the entropy of the target. `None` when the row has no finite minimiser.
///
/// # Errors
/// [`crate::Error::RowOutOfRange`].
pub fn check_minimiser(
    problem: &Problem,
    row: usize,
    reference: &Reference,
) -> Result<Option<MinimiserCheck>> {
    let (Some(z), Some(exact_z)) = (
        minimiser(problem, row)?,
        minimiser_mpfr(problem, row, reference.precision())?,
    ) else {
        return Ok(None);
    };
    let scale = closed_form(problem, row, &z)?.gradient_scale;
    let size = 1.0 + z.iter().fold(0f64, |m, x| m.max(x.abs()));
    let closed = problem.gradient_at::<f64>(row, &z)?;
    let (_, ad) = ad_gradient(problem, row, &z)?;
    let mut grad_f64 = 0f64;
    let mut grad_mpfr = 0f64;
    let exact = reference.row_at(problem, row, &exact_z)?;
    for (k, s) in scale.iter().enumerate() {
        for g in [closed.get(k), ad.get(k)].into_iter().flatten() {
            grad_f64 = grad_f64.max(ratio(g.abs(), s * size));
        }
        if let Some(g) = exact.gradient.get(k) {
            grad_mpfr = grad_mpfr.max(ratio(g.to_f64().abs(), *s));
        }
    }
    let entropy = target_entropy(problem, row, reference.precision())?;
    let diff = Float::with_val(reference.precision(), &exact.loss - &entropy);
    let entropy_rel = ratio(diff.to_f64().abs(), entropy.to_f64().abs());
    Ok(Some(MinimiserCheck {
        grad_f64,
        grad_mpfr,
        entropy_rel,
    }))
}
