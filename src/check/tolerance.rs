//! How the checks compare numbers: relative errors against the magnitude of the terms, and
//! the tolerances they must stay within.

/// Magnitudes below this fraction of a row's scale are compared absolutely.
///
/// Entries of a gradient or Hessian such as `S p_j p_k` or `w s (1-s)` fall into the
/// subnormal range (below `2^-1022`) at logits several hundred apart, where an operation
/// rounds to a multiple of `2^-1074` instead of to 53 significant bits, and where one side may
/// have flushed a factor to 0 that the other kept: the absolute error there is up to `2^-1022`
/// times the row's scale. Relative to `2^-960` (about `1e-289`, far below anything a training
/// run can see) that is `2^-62`, well within every tolerance.
pub const UNDERFLOW_FLOOR: f64 = 1.026_134_200_324_594_1e-289; // 2^-960

/// `|a - b| / max(|a|, |b|, scale)`: the error of `a` against `b` relative to the larger of
/// the two values and `scale`, the magnitude of the terms whose sum (or difference) they are.
///
/// A value that is a difference of terms (a gradient entry `S p_k - c_k`, which vanishes at
/// the minimiser) can only be computed to a few rounding errors of those terms, so judging it
/// relative to itself would fail wherever it cancels. `scale = 0` compares purely relatively.
/// Two equal values (including two zeros) give 0; a NaN on either side gives `+inf`, so a
/// NaN can never pass.
pub fn relative_error(a: f64, b: f64, scale: f64) -> f64 {
    if a == b {
        return 0.0;
    }
    let diff = (a - b).abs();
    if diff.is_nan() {
        return f64::INFINITY;
    }
    let denominator = a.abs().max(b.abs()).max(scale.abs());
    if denominator == 0.0 {
        f64::INFINITY
    } else {
        diff / denominator
    }
}

/// `numerator / denominator` for non-negative magnitudes, with `0 / 0 = 0` (a quantity that
/// vanishes exactly where its scale does is exact) and `x / 0 = +inf` for `x > 0`.
pub(crate) fn ratio(numerator: f64, denominator: f64) -> f64 {
    if numerator == 0.0 {
        0.0
    } else if numerator.is_nan() || denominator == 0.0 {
        f64::INFINITY
    } else {
        numerator / denominator
    }
}

/// Whether `measured <= tolerance`; false for NaN, so a NaN never passes.
pub(crate) fn within(measured: f64, tolerance: f64) -> bool {
    measured <= tolerance
}

/// What each check must stay within. [`Tolerances::default`] gives the documented values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// AD gradient against the closed form, AD Hessian and the AD Jacobian of the closed-form
    /// gradient against the closed-form Hessian (relative, see [`relative_error`]).
    ///
    /// Both sides are `f64` evaluations of O(N) operations on non-negative terms; the only
    /// cancellations are `x - x^2` forms (`p_k - p_k^2`, `r/(1+r) - r^2/(1+r)^2`, ...) that
    /// lose at most a factor `1 + r <= N` with `r` the normaliser's rest, so with N up to a
    /// few dozen the error stays below `2^10` rounding errors. `2^-40` (about `9.1e-13`)
    /// leaves a margin of 4 and still catches a closed form off by one part in `10^12`.
    pub derivative: f64,
    /// Positive semi-definiteness: `min eigenvalue >= -psd * max |eigenvalue|`. The
    /// eigensolver's backward error is a few rounding errors of the largest eigenvalue, and
    /// the Hessian entries carry the error above: `2^-36` (about `1.5e-11`).
    pub psd: f64,
    /// Softmax family: `|(H 1)_j| <= null * sum_k |H_jk|` (the row of the AD Hessian sums to
    /// zero up to the rounding of its terms), and `|L(z + c) - L(z)| <= null * scale` with
    /// `scale = |L| + S max_k |z_k + c|`: rounding `z_k + c` moves each logit by half an ulp of
    /// `|z_k + c|`, which moves the loss by at most `sum_k |g_k| <= 2S` times that. `2^-40`.
    pub null: f64,
    /// `f64` gradient at the rounded minimiser: `|g_k| <= minimiser_f64 * scale_k * (1 + |z*|)`
    /// with `scale_k` the magnitude of the gradient's terms: rounding `z*` to `f64` moves it
    /// by `2^-53 |z*|`, which moves `g` by the Hessian (at most the term scale) times that.
    /// `2^-40`.
    pub minimiser_f64: f64,
    /// MPFR gradient at the minimiser built in MPFR, relative to the term scale: at 256 bits
    /// the rounding of `ln` leaves about `2^-250` (`1e-75`); `1e-70`.
    pub minimiser_mpfr: f64,
    /// MPFR loss at the minimiser against the entropy of the target, relative: `1e-60`.
    pub entropy_mpfr: f64,
    /// MPFR `L(z) - L(z*) >= -divergence * (|L(z)| + |L(z*)|)`, and the KL identity of the
    /// softmax and sigmoid families to the same relative tolerance: `1e-60`.
    pub divergence: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            derivative: 2f64.powi(-40),
            psd: 2f64.powi(-36),
            null: 2f64.powi(-40),
            minimiser_f64: 2f64.powi(-40),
            minimiser_mpfr: 1e-70,
            entropy_mpfr: 1e-60,
            divergence: 1e-60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_error_uses_the_largest_magnitude() {
        assert_eq!(relative_error(1.0, 1.0, 0.0), 0.0);
        assert_eq!(relative_error(0.0, 0.0, 0.0), 0.0);
        assert_eq!(relative_error(2.0, 1.0, 0.0), 0.5);
        assert_eq!(relative_error(1e-20, 0.0, 1.0), 1e-20);
        assert_eq!(relative_error(f64::NAN, 1.0, 1.0), f64::INFINITY);
        assert_eq!(relative_error(1e-300, 0.0, 0.0), 1.0);
        assert!(relative_error(1e-308, 0.0, UNDERFLOW_FLOOR) < 1e-18);
        assert_eq!(UNDERFLOW_FLOOR, 2f64.powi(-960));
    }

    #[test]
    fn ratio_of_zeros_is_zero() {
        assert_eq!(ratio(0.0, 0.0), 0.0);
        assert_eq!(ratio(1.0, 0.0), f64::INFINITY);
        assert_eq!(ratio(1.0, 4.0), 0.25);
    }
}
