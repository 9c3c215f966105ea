//! The loss at the minimiser (the entropy of the target) and the divergence `L(z) - L(z*)`,
//! in MPFR.
//!
//! - Softmax family: `L(z*) = -sum_k c_k ln(c_k / S)`, i.e. `S H(c / S)`; with unit weights
//!   and `sum q = 1` this is the entropy `H(q) = -sum q ln q`. For every `z`,
//!   `L(z) - L(z*) = S KL(c/S || p) >= 0`.
//! - Sigmoid family: with `D_k = pi_k t_k + 1 - t_k` and `s*_k = pi_k t_k / D_k`,
//!   `L(z*) = sum_k w_k D_k h(s*_k)` where `h(x) = -x ln x - (1-x) ln(1-x)`; with unit
//!   weights, `sum_k h(t_k)`. For every `z`, `L(z) - L(z*) = sum_k w_k D_k KL(s*_k || s_k)`
//!   (Bernoulli), since `-pi t ln s - (1-t) ln(1-s) = D (-s* ln s - (1-s*) ln(1-s))`.
//! - ZLPR: `A = B = 1 + sum_k sqrt(t_k (1-t_k))` at `z*`, so `L(z*) = 2 ln(1 + sum_k
//!   sqrt(t_k (1-t_k)))`; `L(z) - L(z*) >= 0` by convexity (no closed-form divergence).

use rug::{Float, Rational};

use super::minimiser::minimiser_mpfr;
use super::row::ExactRow;
use super::tolerance::{Tolerances, ratio, within};
use crate::reference::Reference;
use crate::{Family, Problem, Result};

/// The measured divergence at one point, in MPFR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DivergenceCheck {
    /// `(L(z) - L(z*)) / (|L(z)| + |L(z*)|)`: never below minus a few rounding errors of the
    /// working precision.
    pub excess: f64,
    /// Softmax and sigmoid families: `|L(z) - L(z*) - KL| / (|L(z)| + |L(z*)|)`, with `KL` the
    /// weighted Kullback-Leibler divergence of the module docs computed directly.
    pub identity_rel: Option<f64>,
}

impl DivergenceCheck {
    /// Every measured error outside `tolerances`, as `"check: measured (tolerance)"`.
    pub fn failures(&self, tolerances: &Tolerances) -> Vec<String> {
        let t = tolerances.divergence;
        let mut out = Vec::new();
        // Written as "not within" so that NaN fails.
        if !within(-self.excess, t) {
            out.push(format!(
                "L(z) - L(z*) < 0: {:e} (tolerance {t:e})",
                self.excess
            ));
        }
        if let Some(x) = self.identity_rel.filter(|x| !within(*x, t)) {
            out.push(format!("divergence identity: {x:e} (tolerance {t:e})"));
        }
        out
    }
}

/// The loss of row `row` at its minimiser, from the targets alone (see the module docs), at
/// `bits` bits. Meaningful where [`super::minimiser`] finds a minimiser; the formula's value
/// otherwise (a zero coefficient contributes 0).
///
/// # Errors
/// [`crate::Error::RowOutOfRange`].
pub fn target_entropy(problem: &Problem, row: usize, bits: u32) -> Result<Float> {
    let len = problem.batch().classes();
    let e = ExactRow::new(problem, row, len)?;
    let zero = Float::with_val(bits, 0);
    // -x ln(x / d), 0 for x = 0.
    let term = |x: &Rational, d: &Rational| {
        if *x == 0 {
            zero.clone()
        } else {
            -(Float::with_val(bits, Rational::from(x / d)).ln() * x)
        }
    };
    Ok(match problem.smoothing().scheme().family() {
        Family::Softmax => {
            let c: Vec<Rational> =
                e.t.iter()
                    .zip(&e.w)
                    .map(|(q, w)| Rational::from(q * w))
                    .collect();
            let total = c.iter().fold(Rational::new(), |s, x| s + x);
            c.iter().fold(zero.clone(), |s, x| s + term(x, &total))
        }
        Family::Sigmoid => (0..len).fold(zero.clone(), |s, k| {
            let pos = Rational::from(&e.pi[k] * &e.t[k]);
            let d = Rational::from(&pos + &e.tc[k]);
            s + (term(&pos, &d) + term(&e.tc[k], &d)) * &e.w[k]
        }),
        Family::Zlpr => {
            let sum = (0..len).fold(Float::with_val(bits, 1), |s, k| {
                s + Float::with_val(bits, Rational::from(&e.t[k] * &e.tc[k])).sqrt()
            });
            sum.ln() * 2u32
        }
    })
}

/// `ln sigmoid(x) = -softplus(-x) = min(x, 0) - ln(1 + e^{-|x|})`, without overflow.
fn ln_sigmoid(x: &Float) -> Float {
    let magnitude = Float::with_val(x.prec(), x.abs_ref());
    let tail = (-magnitude).exp().ln_1p();
    if x.is_sign_negative() {
        Float::with_val(x.prec(), x - &tail)
    } else {
        -tail
    }
}

/// Checks `L(z) >= L(z*)` for row `row` at the point `z` in MPFR, and the divergence identity
/// of the softmax and sigmoid families. `None` when the row has no finite minimiser.
///
/// # Errors
/// [`crate::Error::RowOutOfRange`]; [`crate::Error::PointLength`] when `z` is not of length N.
pub fn check_divergence(
    problem: &Problem,
    row: usize,
    z: &[f64],
    reference: &Reference,
) -> Result<Option<DivergenceCheck>> {
    let bits = reference.precision();
    let x: Vec<Float> = z.iter().map(|&v| Float::with_val(bits, v)).collect();
    let loss = reference.row_at(problem, row, &x)?.loss;
    if minimiser_mpfr(problem, row, bits)?.is_none() {
        return Ok(None);
    }
    let best = target_entropy(problem, row, bits)?;
    let e = ExactRow::new(problem, row, z.len())?;
    let scale = Float::with_val(bits, loss.abs_ref()) + Float::with_val(bits, best.abs_ref());
    let excess = Float::with_val(bits, &loss - &best);
    let kl = match problem.smoothing().scheme().family() {
        Family::Softmax => {
            // ln p_k = (z_k - m) - ln sum_j e^{z_j - m}, every difference exact at 256 bits.
            let Some(first) = x.first() else {
                return Ok(None);
            };
            let m = x
                .iter()
                .fold(first.clone(), |m, v| if *v > m { v.clone() } else { m });
            let lse = x
                .iter()
                .fold(Float::with_val(bits, 0), |s, v| {
                    s + Float::with_val(bits, v - &m).exp()
                })
                .ln();
            let c: Vec<Rational> =
                e.t.iter()
                    .zip(&e.w)
                    .map(|(q, w)| Rational::from(q * w))
                    .collect();
            let total = c.iter().fold(Rational::new(), |s, v| s + v);
            let mut kl = Float::with_val(bits, 0);
            for (ck, xk) in c.iter().zip(&x) {
                let ln_p = Float::with_val(bits, xk - &m) - &lse;
                let ln_target = Float::with_val(bits, Rational::from(ck / &total)).ln();
                kl += (ln_target - ln_p) * ck;
            }
            Some(kl)
        }
        Family::Sigmoid => {
            let mut kl = Float::with_val(bits, 0);
            for (k, xk) in x.iter().enumerate() {
                let pos = Rational::from(&e.pi[k] * &e.t[k]);
                let d = Rational::from(&pos + &e.tc[k]);
                let minus = Float::with_val(bits, -xk);
                // D KL(s* || s) = pos (ln s* - ln s) + tc (ln(1-s*) - ln(1-s)).
                let part = |a: &Rational, ln_s: Float| {
                    if *a == 0 {
                        Float::with_val(bits, 0)
                    } else {
                        (Float::with_val(bits, Rational::from(a / &d)).ln() - ln_s) * a
                    }
                };
                kl += (part(&pos, ln_sigmoid(xk)) + part(&e.tc[k], ln_sigmoid(&minus))) * &e.w[k];
            }
            Some(kl)
        }
        Family::Zlpr => None,
    };
    let scale = scale.to_f64();
    let identity_rel = kl.map(|kl| {
        let gap = Float::with_val(bits, &excess - &kl);
        ratio(gap.to_f64().abs(), scale)
    });
    let excess = excess.to_f64();
    Ok(Some(DivergenceCheck {
        excess: if excess < 0.0 {
            -ratio(-excess, scale)
        } else {
            ratio(excess, scale)
        },
        identity_rel,
    }))
}
