//! Errors in ULPs of the `f32` and `f64` formulas against the MPFR reference.

use rug::Float;

use crate::reference::{Reference, ReferenceEvaluation};
use crate::{Family, Param, Precision, Problem};

/// Distance in units in the last place between two finite `f64`s, counting the representable
/// values between them (across zero too).
pub fn ulps_f64(a: f64, b: f64) -> u64 {
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    key(a).abs_diff(key(b))
}

/// As [`ulps_f64`] for `f32`.
pub fn ulps_f32(a: f32, b: f32) -> u64 {
    let key = |x: f32| {
        let bits = x.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits } else { bits })
    };
    key(a).abs_diff(key(b))
}

/// The ULP distance in precision `F`, and the exact value rounded once to `F`.
pub trait Measured: Precision {
    /// ULPs between two values.
    fn ulps(a: Self, b: Self) -> u64;
    /// The MPFR value rounded once to this precision.
    fn from_exact(x: &Float) -> Self;
}

impl Measured for f64 {
    fn ulps(a: f64, b: f64) -> u64 {
        ulps_f64(a, b)
    }
    fn from_exact(x: &Float) -> f64 {
        x.to_f64()
    }
}

impl Measured for f32 {
    fn ulps(a: f32, b: f32) -> u64 {
        ulps_f32(a, b)
    }
    fn from_exact(x: &Float) -> f32 {
        x.to_f32()
    }
}

/// The worst errors seen: per-row loss and gradient entries, in ULPs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worst {
    /// Per-row loss.
    pub loss: u64,
    /// Gradient entries (see [`gradient_error`] for the floor where they cross zero).
    pub grad: u64,
}

impl Worst {
    /// The larger of two.
    pub fn max(self, other: Worst) -> Worst {
        Worst {
            loss: self.loss.max(other.loss),
            grad: self.grad.max(other.grad),
        }
    }
}

/// The error of a gradient entry: ULPs of the exact value, or, if fewer, units of round-off
/// of the larger of the two terms whose difference the entry is (`scale`), so an entry that
/// cancels to near zero is judged against the size of what cancelled.
pub fn gradient_error<F: Measured>(computed: F, exact: &Float, scale: f64) -> u64 {
    let in_ulps = F::ulps(computed, F::from_exact(exact));
    let unit = scale * Precision::to_f64(F::epsilon());
    let absolute = (Float::with_val(128, Precision::to_f64(computed)) - exact)
        .abs()
        .to_f64();
    let in_units = if unit > 0.0 {
        (absolute / unit).ceil() as u64
    } else {
        u64::MAX
    };
    in_ulps.min(in_units)
}

/// The magnitude of the larger term of gradient entry `k` of row `row`: `S = sum w q` for the
/// softmax family (`p_k S - w_k q_k`, `p_k <= 1`), `w max(1-t, pi t)` for the sigmoid family,
/// 1 for ZLPR (a difference of two shares in [0, 1]).
pub fn gradient_scale(problem: &Problem, row: usize, k: usize) -> f64 {
    let Ok(targets) = problem.targets::<f64>(row) else {
        return 0.0;
    };
    let weight = |w: &Option<Vec<Param>>, j: usize| {
        w.as_ref().and_then(|w| w.get(j)).map_or(1.0, Param::value)
    };
    let weights = problem.weights();
    match problem.smoothing().scheme().family() {
        Family::Softmax => (0..targets.len())
            .map(|j| weight(&weights.class, j) * targets[j])
            .sum(),
        Family::Sigmoid => {
            let t = targets.get(k).copied().unwrap_or(0.0);
            weight(&weights.class, k) * (1.0 - t).max(weight(&weights.pos, k) * t)
        }
        Family::Zlpr => 1.0,
    }
}

/// The worst errors of `problem.evaluate::<F>()` against `exact` (the reference of the same
/// problem). Rows with a logit beyond the `f32` range are skipped in `f32` (not `f32` inputs).
pub fn measure<F: Measured>(problem: &Problem, exact: &ReferenceEvaluation) -> Worst {
    measure_with::<F>(problem, exact, 1.0)
}

/// [`measure`] with every computed gradient entry first scaled by `factor` (1 in normal use;
/// the report's fault injection passes another, to show that the check fails).
pub(crate) fn measure_with<F: Measured>(
    problem: &Problem,
    exact: &ReferenceEvaluation,
    factor: f64,
) -> Worst {
    let machine = problem.evaluate::<F>();
    let mut worst = Worst::default();
    for (row, (e, m)) in exact.rows.iter().zip(&machine.rows).enumerate() {
        let logits = problem.batch().logits(row);
        if F::NAME == "f32" && logits.iter().any(|x| x.abs() > f64::from(f32::MAX)) {
            continue;
        }
        worst.loss = worst.loss.max(F::ulps(m.loss, F::from_exact(&e.loss)));
        for (k, (g, ge)) in m.gradient.iter().zip(&e.gradient).enumerate() {
            let g = if factor == 1.0 {
                *g
            } else {
                F::round_from(Precision::to_f64(*g) * factor)
            };
            worst.grad = worst
                .grad
                .max(gradient_error(g, ge, gradient_scale(problem, row, k)));
        }
    }
    worst
}

/// [`measure`] with a fresh reference evaluation.
pub fn measure_against<F: Measured>(problem: &Problem, reference: &Reference) -> Worst {
    measure::<F>(problem, &reference.evaluate(problem))
}
