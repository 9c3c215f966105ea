//! The MPFR reference (feature `reference`): targets, per-row loss and gradient of every scheme
//! at a configurable precision, with every input taken exactly.
//!
//! - A logit is its exact binary64 value; a parameter or weight given as a decimal text is that
//!   exact decimal, one given as a binary64 value is that exact value.
//! - Targets, weights and their products are exact rationals; only the transcendental parts
//!   (`exp`, `ln`) are rounded, at `precision` bits, in forms without cancellation (all terms of
//!   a loss are non-negative; shifts are differences of exact inputs).
//! - Results are `rug::Float`s at `precision` bits; callers round them once, to binary64 or
//!   binary32 or a decimal text.
//!
//! This code shares no formula code with the `f32`/`f64` path except the target formulas,
//! which it evaluates in exact rationals.

mod exact;

use rug::{Float, Rational};

use crate::error::Error;
use crate::problem::{Problem, Reduction};
use crate::scheme::{Family, Param};

pub use exact::exact_value;

/// The MPFR reference at a fixed precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    precision: u32,
}

/// The reference values of a whole problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceEvaluation {
    /// The working precision in bits.
    pub precision: u32,
    /// One entry per row.
    pub rows: Vec<ReferenceRow>,
}

/// Reference targets, loss and gradient of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRow {
    /// The exact smoothed targets.
    pub targets: Vec<Rational>,
    /// The per-row loss.
    pub loss: Float,
    /// The gradient of the per-row loss with respect to the row's logits.
    pub gradient: Vec<Float>,
}

impl Default for Reference {
    fn default() -> Self {
        Reference {
            precision: Reference::DEFAULT_PRECISION,
        }
    }
}

impl Reference {
    /// 256 bits, about 77 significant decimal digits.
    pub const DEFAULT_PRECISION: u32 = 256;
    /// The smallest supported precision (a little above binary64's 53 bits).
    pub const MIN_PRECISION: u32 = 64;
    /// The largest supported precision.
    pub const MAX_PRECISION: u32 = 1 << 16;

    /// A reference working at `bits` bits.
    ///
    /// # Errors
    /// [`Error::PrecisionOutOfRange`] outside `[MIN_PRECISION, MAX_PRECISION]`.
    pub fn new(bits: u32) -> Result<Self, Error> {
        if (Self::MIN_PRECISION..=Self::MAX_PRECISION).contains(&bits) {
            Ok(Reference { precision: bits })
        } else {
            Err(Error::PrecisionOutOfRange {
                bits,
                min: Self::MIN_PRECISION,
                max: Self::MAX_PRECISION,
            })
        }
    }

    /// The working precision in bits.
    pub fn precision(&self) -> u32 {
        self.precision
    }

    /// Targets, loss and gradient of every row of `problem`.
    pub fn evaluate(&self, problem: &Problem) -> ReferenceEvaluation {
        let batch = problem.batch();
        let rows = (0..batch.rows())
            .map(|row| {
                let z: Vec<Float> = batch.logits(row).iter().map(|&x| self.float(x)).collect();
                self.row(problem, &z, batch.labels(row))
            })
            .collect();
        ReferenceEvaluation {
            precision: self.precision,
            rows,
        }
    }

    /// Targets, loss and gradient of row `row` of `problem` at the logits `z` (any point,
    /// given as MPFR numbers of any precision, taken exactly) instead of the batch's.
    ///
    /// # Errors
    /// [`Error::RowOutOfRange`]; [`Error::PointLength`] when `z` is not of length N.
    pub fn row_at(
        &self,
        problem: &Problem,
        row: usize,
        z: &[Float],
    ) -> Result<ReferenceRow, Error> {
        let batch = problem.batch();
        if row >= batch.rows() {
            return Err(Error::RowOutOfRange {
                row,
                rows: batch.rows(),
            });
        }
        if z.len() != batch.classes() {
            return Err(Error::PointLength {
                len: z.len(),
                classes: batch.classes(),
            });
        }
        Ok(self.row(problem, z, batch.labels(row)))
    }

    fn row(&self, problem: &Problem, z: &[Float], labels: &[bool]) -> ReferenceRow {
        let smoothing = problem.smoothing();
        let targets: Vec<Rational> = smoothing.targets(labels);
        let weights = problem.weights();
        let exact = |w: &Option<Vec<Param>>| -> Vec<Rational> {
            match w {
                Some(w) => w.iter().map(exact_value).collect(),
                None => vec![Rational::from(1); z.len()],
            }
        };
        let class_weights = exact(&weights.class);
        let (loss, gradient) = match smoothing.scheme().family() {
            Family::Softmax => self.softmax(z, &targets, &class_weights),
            Family::Sigmoid => {
                let complements: Vec<Rational> = smoothing.complements(labels);
                self.sigmoid(
                    z,
                    &targets,
                    &complements,
                    &class_weights,
                    &exact(&weights.pos),
                )
            }
            Family::Zlpr => {
                let complements: Vec<Rational> = smoothing.complements(labels);
                self.zlpr(z, &targets, &complements)
            }
        };
        ReferenceRow {
            targets,
            loss,
            gradient,
        }
    }

    fn float(&self, x: f64) -> Float {
        Float::with_val(self.precision, x)
    }

    /// `a - b` rounded once to the working precision.
    fn difference(&self, a: &Float, b: &Float) -> Float {
        Float::with_val(self.precision, a - b)
    }

    /// `|x|` at the working precision (exact when `x` is a binary64 value).
    fn magnitude(&self, x: &Float) -> Float {
        Float::with_val(self.precision, x.abs_ref())
    }

    /// `x` at the working precision.
    fn exactly(&self, x: &Float) -> Float {
        Float::with_val(self.precision, x)
    }

    fn rational(&self, x: &Rational) -> Float {
        Float::with_val(self.precision, x)
    }

    /// `L = sum c_k ((m - z_k) + ln1p(r))`, `c = w q`; `g_k = p_k S - c_k`, `S = sum c`.
    fn softmax(&self, z: &[Float], q: &[Rational], w: &[Rational]) -> (Float, Vec<Float>) {
        let argmax = (0..z.len()).fold(0, |j, k| if z[k] > z[j] { k } else { j });
        let m = &z[argmax];
        // exp(z_k - m): z_k - m is a difference of exact inputs, rounded once.
        let shifted: Vec<Float> = z.iter().map(|zk| self.difference(zk, m).exp()).collect();
        let rest = shifted
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != argmax)
            .fold(self.float(0.0), |s, (_, e)| s + e);
        let log1p_rest = rest.clone().ln_1p();
        let c: Vec<Rational> = q
            .iter()
            .zip(w)
            .map(|(qk, wk)| Rational::from(qk * wk))
            .collect();
        let total = c.iter().fold(Rational::new(), |s, ck| s + ck);
        let mut loss = self.float(0.0);
        for (ck, zk) in c.iter().zip(z) {
            if *ck != 0 {
                loss += (self.difference(m, zk) + &log1p_rest) * ck;
            }
        }
        let others = Rational::from(&total - &c[argmax]);
        let inv = (rest.clone() + 1u32).recip();
        let gradient = shifted
            .into_iter()
            .zip(&c)
            .enumerate()
            .map(|(k, (e, ck))| {
                if k == argmax {
                    // p_j S - c_j = (sum_{k != j} c_k - c_j r) / (1 + r): exact where the
                    // other coefficients vanish, however small r is.
                    (-(rest.clone() * ck) + &others) * &inv
                } else {
                    e * &inv * &total - ck
                }
            })
            .collect();
        (loss, gradient)
    }

    /// `L = sum w (pi t softplus(-z) + (1-t) softplus(z))`; `g = w ((1-t) s - pi t (1-s))`.
    fn sigmoid(
        &self,
        z: &[Float],
        t: &[Rational],
        tc: &[Rational],
        w: &[Rational],
        pi: &[Rational],
    ) -> (Float, Vec<Float>) {
        let mut loss = self.float(0.0);
        let mut gradient = Vec::with_capacity(z.len());
        for k in 0..z.len() {
            let pos = Rational::from(&pi[k] * &t[k]);
            let e = (-self.magnitude(&z[k])).exp();
            let l = e.clone().ln_1p();
            let (softplus_z, softplus_minus_z) = if z[k].is_sign_negative() {
                (l.clone(), l - &z[k])
            } else {
                (l.clone() + &z[k], l)
            };
            loss += softplus_minus_z * Rational::from(&pos * &w[k])
                + softplus_z * Rational::from(&tc[k] * &w[k]);
            let big = (e.clone() + 1u32).recip();
            let small = e * &big;
            let (s, one_minus_s) = if z[k] < 0 { (small, big) } else { (big, small) };
            gradient.push((s * &tc[k] - one_minus_s * &pos) * &w[k]);
        }
        (loss, gradient)
    }

    /// `L = ln(1 + sum a e^z) + ln(1 + sum b e^-z)`, `a = 1 - t`, `b = t`.
    fn zlpr(&self, z: &[Float], t: &[Rational], tc: &[Rational]) -> (Float, Vec<Float>) {
        let minus_z: Vec<Float> = z.iter().map(|x| -x.clone()).collect();
        let (up, up_shares) = self.log_one_plus_sum(tc, z);
        let (down, down_shares) = self.log_one_plus_sum(t, &minus_z);
        let gradient = up_shares
            .into_iter()
            .zip(down_shares)
            .map(|(u, d)| u - d)
            .collect();
        (up + down, gradient)
    }

    /// `ln(1 + sum_k a_k e^{x_k})` and its derivatives `a_k e^{x_k} / (1 + sum)`.
    ///
    /// MPFR's exponent range does not cover `e^{x}` for `x` near `f64::MAX`, so the sum is
    /// shifted by its largest term `a_j e^{x_j}` when that exceeds 1, and the ratios to it are
    /// formed as `(a_k / a_j) e^{x_k - x_j}` (differences of exact inputs, exact ratios).
    fn log_one_plus_sum(&self, a: &[Rational], x: &[Float]) -> (Float, Vec<Float>) {
        let zero = self.float(0.0);
        let log_term = |k: usize| self.rational(&a[k]).ln() + &x[k];
        let mut top: Option<(usize, Float)> = None;
        for k in (0..a.len()).filter(|&k| a[k] > 0) {
            let y = log_term(k);
            if top.as_ref().is_none_or(|(_, best)| y > *best) {
                top = Some((k, y));
            }
        }
        match top {
            Some((j, y)) if y > 0 => {
                let terms: Vec<Float> = (0..a.len())
                    .map(|k| {
                        if a[k] == 0 {
                            zero.clone()
                        } else {
                            let ratio = Rational::from(&a[k] / &a[j]);
                            self.difference(&x[k], &x[j]).exp() * &ratio
                        }
                    })
                    .collect();
                // 1 + sum = a_j e^{x_j} (e^{-y} + sum_k terms_k), terms_j = 1.
                let rest = terms
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != j)
                    .fold((-y.clone()).exp(), |s, (_, v)| s + v);
                let denominator = rest.clone() + 1u32;
                let value = y + rest.ln_1p();
                let shares = terms.into_iter().map(|v| v / &denominator).collect();
                (value, shares)
            }
            _ => {
                // No term exceeds 1: nothing overflows.
                let terms: Vec<Float> = (0..a.len())
                    .map(|k| {
                        if a[k] == 0 {
                            zero.clone()
                        } else {
                            self.exactly(&x[k]).exp() * &a[k]
                        }
                    })
                    .collect();
                let sum = terms.iter().fold(zero, |s, v| s + v);
                let denominator = sum.clone() + 1u32;
                let shares = terms.into_iter().map(|v| v / &denominator).collect();
                (sum.ln_1p(), shares)
            }
        }
    }
}

impl ReferenceEvaluation {
    /// The loss of the batch under `reduction` (the sum for [`Reduction::None`]).
    ///
    /// # Errors
    /// [`Error::ReductionNotApplicable`] (see [`Reduction::WeightedMean`]).
    pub fn reduced_loss(&self, problem: &Problem, reduction: Reduction) -> Result<Float, Error> {
        let total = self
            .rows
            .iter()
            .fold(Float::with_val(self.precision, 0), |s, r| s + &r.loss);
        Ok(match problem.divisor(reduction, exact_value)? {
            Some(d) => total / &d,
            None => total,
        })
    }
}

/// A decimal text of `x` with `digits` significant digits, in scientific notation (`"0"` for
/// zero), e.g. `"1.234e-5"`.
pub fn to_decimal(x: &Float, digits: usize) -> String {
    if x.is_zero() {
        return "0".to_owned();
    }
    x.to_string_radix(10, Some(digits))
}
