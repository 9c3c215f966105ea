//! Every derivative check at one point: AD gradient and Hessian against the closed forms,
//! positive semi-definiteness, and (softmax family) the null vector `1` and shift invariance.

use nalgebra::{DMatrix, SymmetricEigen};

use super::ad::{ad_gradient, ad_hessian, ad_jacobian_of_gradient};
use super::hessian::closed_form;
use super::row::Row;
use super::tolerance::{Tolerances, ratio, relative_error, within};
use crate::{Family, Problem, Result};

/// A deliberate error in the closed forms the checks compare against, to show that the
/// checks fail when a closed form is wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// The closed-form gradient multiplied by this factor.
    GradientScaled(f64),
    /// The closed-form Hessian multiplied by this factor.
    HessianScaled(f64),
    /// The closed-form Hessian without its off-diagonal entries (the softmax family's
    /// `-S p p^T` and ZLPR's `-a a^T - b b^T` off the diagonal, as if the loss were separable).
    HessianDiagonalOnly,
}

/// The shifts `c` of the shift-invariance check `L(z + c) = L(z)`.
const SHIFTS: [f64; 3] = [-2.5, 0.375, 40.0];

/// The measured errors at one point (see [`super::Tolerances`] for what they must stay
/// within).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointCheck {
    /// Worst [`relative_error`] of an AD gradient entry (first- and second-order duals) against
    /// [`Problem::gradient_at`], against the magnitude of the gradient's terms (absolute below
    /// the row's underflow floor, [`super::ClosedForm::floor`]).
    pub grad_rel: f64,
    /// Worst relative error of an entry of the AD Hessian of [`Problem::loss_at`] against the
    /// closed form (absolute below the row's underflow floor).
    pub hess_rel: f64,
    /// The same for the AD Jacobian of [`Problem::gradient_at`].
    pub jacobian_rel: f64,
    /// The smaller of [`psd_ratio`] of the AD and closed-form Hessians.
    pub min_eigen_ratio: f64,
    /// Softmax family: worst `|(H 1)_j| / sum_k |H_jk|` over the AD and closed-form Hessians.
    pub null_rel: Option<f64>,
    /// Softmax family: worst `|L(z + c) - L(z)| / (|L(z)| + S max_k |z_k + c|)` over a few
    /// shifts `c`.
    pub shift_rel: Option<f64>,
}

impl PointCheck {
    /// Every measured error outside `tolerances`, as `"check: measured (tolerance)"`; empty
    /// when the point passes.
    pub fn failures(&self, tolerances: &Tolerances) -> Vec<String> {
        let t = tolerances;
        [
            ("AD gradient", self.grad_rel, t.derivative),
            ("AD Hessian", self.hess_rel, t.derivative),
            (
                "AD Jacobian of the gradient",
                self.jacobian_rel,
                t.derivative,
            ),
            ("negative eigenvalue", -self.min_eigen_ratio, t.psd),
            ("H 1 = 0", self.null_rel.unwrap_or(0.0), t.null),
            ("shift invariance", self.shift_rel.unwrap_or(0.0), t.null),
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

/// `min eigenvalue / max(max |eigenvalue|, floor)` of a symmetric matrix (its lower triangle
/// is read): at least `-tol` for a positive semi-definite matrix computed to relative accuracy
/// `tol`, `floor` keeping a matrix of subnormal entries (all noise) from counting; 0 for the
/// zero matrix; `-inf` when an entry is not finite or the eigensolver does not converge.
pub fn psd_ratio(h: &DMatrix<f64>, floor: f64) -> f64 {
    if h.iter().any(|x| !x.is_finite()) {
        return f64::NEG_INFINITY;
    }
    let Some(eigen) = SymmetricEigen::try_new(h.clone(), f64::EPSILON, 10_000) else {
        return f64::NEG_INFINITY;
    };
    let values = eigen.eigenvalues;
    let largest = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    let smallest = values.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    if smallest >= 0.0 {
        0f64.max(ratio(smallest, largest.max(floor)))
    } else {
        -ratio(-smallest, largest.max(floor))
    }
}

/// Worst entrywise [`relative_error`] of `a` against `b`, with `floor` as the scale.
fn worst_entry(a: &DMatrix<f64>, b: &DMatrix<f64>, floor: f64) -> f64 {
    a.iter()
        .zip(b.iter())
        .fold(0f64, |m, (x, y)| m.max(relative_error(*x, *y, floor)))
}

/// Worst `|sum_k H_jk| / max(sum_k |H_jk|, floor)`: how far `1` is from the null space.
fn null_residual(h: &DMatrix<f64>, floor: f64) -> f64 {
    h.row_iter().fold(0f64, |m, row| {
        let sum: f64 = row.iter().sum();
        let size: f64 = row.iter().map(|x| x.abs()).sum();
        m.max(ratio(sum.abs(), size.max(floor)))
    })
}

/// Runs every derivative check on row `row` of `problem` at the point `z`, with the closed
/// forms altered by `fault` if one is given.
///
/// # Errors
/// [`crate::Error::RowOutOfRange`]; [`crate::Error::PointLength`] when `z` is not of length N.
pub fn check_point(
    problem: &Problem,
    row: usize,
    z: &[f64],
    fault: Option<Fault>,
) -> Result<PointCheck> {
    let mut closed = closed_form(problem, row, z)?;
    let mut gradient = problem.gradient_at::<f64>(row, z)?;
    match fault {
        Some(Fault::GradientScaled(f)) => gradient.iter_mut().for_each(|g| *g *= f),
        Some(Fault::HessianScaled(f)) => closed.hessian *= f,
        Some(Fault::HessianDiagonalOnly) => {
            closed.hessian = DMatrix::from_diagonal(&closed.hessian.diagonal());
        }
        None => {}
    }
    let (_, first) = ad_gradient(problem, row, z)?;
    let second = ad_hessian(problem, row, z)?;
    let jacobian = ad_jacobian_of_gradient(problem, row, z)?;

    let mut grad_rel = 0f64;
    for (k, g) in gradient.iter().enumerate() {
        let scale = closed
            .gradient_scale
            .get(k)
            .map_or(0.0, |s| s.max(closed.floor));
        for ad in [first.get(k), second.gradient.get(k)].into_iter().flatten() {
            grad_rel = grad_rel.max(relative_error(*ad, *g, scale));
        }
    }
    let floor = closed.floor;
    let hess_rel = worst_entry(&second.hessian, &closed.hessian, floor);
    let jacobian_rel = worst_entry(&jacobian, &closed.hessian, floor);
    let min_eigen_ratio = psd_ratio(&second.hessian, floor).min(psd_ratio(&closed.hessian, floor));

    let (null_rel, shift_rel) = if problem.smoothing().scheme().family() == Family::Softmax {
        let null = null_residual(&second.hessian, floor).max(null_residual(&closed.hessian, floor));
        let r = Row::new(problem, row, z.len())?;
        let total: f64 = r.t.iter().zip(&r.w).map(|(q, w)| q * w).sum();
        let loss = problem.loss_at::<f64>(row, z)?;
        let mut shift = 0f64;
        for c in SHIFTS {
            let moved: Vec<f64> = z.iter().map(|x| x + c).collect();
            let spread = moved.iter().fold(0f64, |m, x| m.max(x.abs()));
            let shifted = problem.loss_at::<f64>(row, &moved)?;
            shift = shift.max(ratio((shifted - loss).abs(), loss.abs() + total * spread));
        }
        (Some(null), Some(shift))
    } else {
        (None, None)
    };
    Ok(PointCheck {
        grad_rel,
        hess_rel,
        jacobian_rel,
        min_eigen_ratio,
        null_rel,
        shift_rel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psd_ratio_sees_a_negative_eigenvalue() {
        let indefinite = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
        assert!((psd_ratio(&indefinite, 0.0) + 1.0 / 3.0).abs() < 1e-12);
        let definite = DMatrix::from_row_slice(2, 2, &[2.0, -1.0, -1.0, 2.0]);
        assert!((psd_ratio(&definite, 0.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(psd_ratio(&DMatrix::zeros(3, 3), 0.0), 0.0);
        let nan = DMatrix::from_row_slice(1, 1, &[f64::NAN]);
        assert_eq!(psd_ratio(&nan, 0.0), f64::NEG_INFINITY);
        let noise = DMatrix::from_row_slice(2, 2, &[1e-310, 2e-310, 2e-310, 1e-310]);
        assert!(psd_ratio(&noise, 1e-289) > -1e-18);
    }
}
