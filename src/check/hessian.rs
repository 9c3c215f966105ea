//! Closed-form Hessians of every family, in `f64`, written independently of the crate's
//! formulas (only the targets and weights are shared), and the magnitudes the comparisons are
//! judged against.
//!
//! - Softmax family, `L = S lse(z) - sum_k c_k z_k` with `c = w q`, `S = sum_k c_k`,
//!   `p = softmax(z)`: `H = S (diag p - p p^T)`.
//! - Sigmoid family, `L = sum_k w_k [pi_k t_k softplus(-z_k) + (1-t_k) softplus(z_k)]`:
//!   `H = diag(w s (1-s) (pi t + 1 - t))`, `s = sigmoid(z)` (with `pi = 1`, `diag(w s (1-s))`).
//! - ZLPR, `L = ln A + ln B`, `A = 1 + sum_k (1-t_k) e^{z_k}`, `B = 1 + sum_k t_k e^{-z_k}`:
//!   with `a_k = (1-t_k) e^{z_k} / A` and `b_k = t_k e^{-z_k} / B` the gradient is `a - b`,
//!   and since `d a_j / d z_k = a_j (delta_jk - a_k)` and `d b_j / d z_k = -b_j (delta_jk - b_k)`,
//!   `H = diag(a + b) - a a^T - b b^T`.
//!
//! Every `1 - p_k` (and `1 - a_k`, `1 - b_k`) is formed as the sum of the other terms over the
//! same denominator, never by subtraction, so the diagonal keeps its relative accuracy when
//! one share is close to 1.

use nalgebra::DMatrix;

use super::row::Row;
use super::tolerance::UNDERFLOW_FLOOR;
use crate::{Family, Problem, Result};

/// The closed forms at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedForm {
    /// The Hessian of the per-row loss, N x N.
    pub hessian: DMatrix<f64>,
    /// Per class, the magnitude of the two terms whose difference the gradient entry is:
    /// `S p_k + c_k` (softmax), `w_k ((1-t_k) s_k + pi_k t_k (1-s_k))` (sigmoid),
    /// `a_k + b_k` (ZLPR).
    pub gradient_scale: Vec<f64>,
    /// The row's overall scale (`S`, `max_k w_k (pi_k t_k + 1 - t_k)`, or 1 for ZLPR) times
    /// [`UNDERFLOW_FLOOR`]: gradient and Hessian entries are compared absolutely below it.
    pub floor: f64,
}

/// `e^{a - b}` for `a <= b`-ish finite inputs, with the rounding error of `a - b` put back:
/// `a - b = hi + lo` exactly (two-sum), `e^{hi + lo} ~ e^{hi} (1 + lo)`. Without it the
/// rounding of a difference of logits near 1e4 costs about 1e-12 relative.
fn exp_difference(a: f64, b: f64) -> f64 {
    let hi = a - b;
    if !hi.is_finite() {
        return hi.exp();
    }
    let bb = hi - a;
    let lo = (a - (hi - bb)) + (-b - bb);
    hi.exp() * (1.0 + lo)
}

/// Shares `x_k = c_k e^{v_k} / D` of the terms `c_k e^{v_k}` (`c_k >= 0`) in
/// `D = [1 +] sum_j c_j e^{v_j}`, and their complements `1 - x_k` as the sum of the other
/// terms over `D`. The terms are scaled by the largest (when it exceeds the 1, if any), as
/// `(c_k / c_j) e^{v_k - v_j}`, so nothing overflows and no logit is rounded.
fn shares(c: &[f64], v: &[f64], with_one: bool) -> (Vec<f64>, Vec<f64>) {
    let n = c.len();
    let mut top: Option<(usize, f64)> = None;
    for k in (0..n).filter(|&k| c[k] > 0.0) {
        let y = c[k].ln() + v[k];
        let beaten = top.map_or(!with_one || y > 0.0, |(_, best)| y > best);
        if beaten {
            top = Some((k, y));
        }
    }
    let (terms, one): (Vec<f64>, f64) = match top {
        Some((j, y)) => (
            (0..n)
                .map(|k| {
                    if c[k] > 0.0 {
                        c[k] / c[j] * exp_difference(v[k], v[j])
                    } else {
                        0.0
                    }
                })
                .collect(),
            if with_one { (-y).exp() } else { 0.0 },
        ),
        None if with_one => (
            (0..n)
                .map(|k| if c[k] > 0.0 { c[k] * v[k].exp() } else { 0.0 })
                .collect(),
            1.0,
        ),
        None => return (vec![0.0; n], vec![1.0; n]),
    };
    let denominator = terms.iter().fold(one, |s, &e| s + e);
    let share = terms.iter().map(|e| e / denominator).collect();
    let complement = (0..n)
        .map(|k| {
            let others = terms
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != k)
                .fold(one, |s, (_, &e)| s + e);
            others / denominator
        })
        .collect();
    (share, complement)
}

/// The closed-form Hessian and gradient term scales of row `row` of `problem` at `z`.
///
/// # Errors
/// [`crate::Error::RowOutOfRange`]; [`crate::Error::PointLength`] when `z` is not of length N.
pub fn closed_form(problem: &Problem, row: usize, z: &[f64]) -> Result<ClosedForm> {
    let r = Row::new(problem, row, z.len())?;
    let n = z.len();
    Ok(match r.family {
        Family::Softmax => {
            let c: Vec<f64> = r.t.iter().zip(&r.w).map(|(q, w)| q * w).collect();
            let total: f64 = c.iter().sum();
            let (p, pc) = shares(&vec![1.0; n], z, false);
            let hessian = DMatrix::from_fn(n, n, |j, k| {
                if j == k {
                    total * p[j] * pc[j]
                } else {
                    -total * p[j] * p[k]
                }
            });
            ClosedForm {
                hessian,
                gradient_scale: p.iter().zip(&c).map(|(pk, ck)| total * pk + ck).collect(),
                floor: total * UNDERFLOW_FLOOR,
            }
        }
        Family::Sigmoid => {
            let mut diagonal = Vec::with_capacity(n);
            let mut gradient_scale = Vec::with_capacity(n);
            let mut scale = 0f64;
            for (k, &x) in z.iter().enumerate() {
                // s = 1 / (1 + e^-z) and 1 - s = e^-z / (1 + e^-z) for z >= 0, and the mirror
                // image for z < 0, so that neither underflows early through an overflowed exp.
                let e = (-x.abs()).exp();
                let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
                let (s, sc) = if x >= 0.0 { (big, small) } else { (small, big) };
                let (pos, neg) = (r.pi[k] * r.t[k], r.tc[k]);
                diagonal.push(r.w[k] * s * sc * (pos + neg));
                gradient_scale.push(r.w[k] * (neg * s + pos * sc));
                scale = scale.max(r.w[k] * (pos + neg));
            }
            ClosedForm {
                hessian: DMatrix::from_fn(n, n, |j, k| if j == k { diagonal[j] } else { 0.0 }),
                gradient_scale,
                floor: scale * UNDERFLOW_FLOOR,
            }
        }
        Family::Zlpr => {
            let minus_z: Vec<f64> = z.iter().map(|x| -x).collect();
            let (a, ac) = shares(&r.tc, z, true);
            let (b, bc) = shares(&r.t, &minus_z, true);
            let hessian = DMatrix::from_fn(n, n, |j, k| {
                if j == k {
                    a[j] * ac[j] + b[j] * bc[j]
                } else {
                    -(a[j] * a[k] + b[j] * b[k])
                }
            });
            ClosedForm {
                hessian,
                gradient_scale: a.iter().zip(&b).map(|(x, y)| x + y).collect(),
                floor: UNDERFLOW_FLOOR,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_complements_add_up() {
        let (x, xc) = shares(&[1.0, 1.0, 0.0], &[0.0, 1.0, 5.0], false);
        for k in 0..3 {
            assert!((x[k] + xc[k] - 1.0).abs() < 1e-15);
        }
        assert_eq!(x[2], 0.0);
        // A dominant term keeps a tiny complement, not 0.
        let (x, xc) = shares(&[1.0], &[700.0], true);
        assert_eq!(x[0], 1.0);
        assert!(xc[0] > 0.0 && (xc[0] / (-700f64).exp() - 1.0).abs() < 1e-12);
    }
}
