//! Per-row loss and closed-form gradient, written once for every number type that implements
//! num-dual's [`DualNum`]: `f32`, `f64` and dual numbers (so the AD checks differentiate the
//! very code that is evaluated).
//!
//! Every loss is computed as a sum of non-negative terms, so it carries no cancellation:
//! - softmax family: `-log p_k = (m - z_k) + log1p(r)`, with `m = max z` and
//!   `r = sum_{k != argmax} exp(z_k - m)`;
//! - sigmoid family: `-t log s - (1-t) log(1-s) = t softplus(-z) + (1-t) softplus(z)`, with
//!   `softplus(x) = max(x, 0) + log1p(exp(-|x|))` and both `t` and `1 - t` computed from the
//!   parameters directly (never `1 - t` from a rounded `t`);
//! - ZLPR: `log(1 + sum a_k e^{x_k})` as `log1p(sum)`, or, when a term exceeds 1, as
//!   `y_j + log1p(rest)` with `y_j = x_j + log a_j` the log of the largest term.

use num_dual::{DualNum, DualNumFloat};

use crate::scheme::Family;

/// Everything about one row except its logits.
pub(crate) struct RowTerms<'a, F> {
    pub(crate) family: Family,
    /// `q` (softmax family) or `t` (sigmoid family, ZLPR), one per class.
    pub(crate) targets: &'a [F],
    /// `1 - t` per class (sigmoid family and ZLPR; empty for the softmax family).
    pub(crate) complements: &'a [F],
    pub(crate) class_weights: Option<&'a [F]>,
    pub(crate) pos_weight: Option<&'a [F]>,
}

impl<F: DualNumFloat> RowTerms<'_, F> {
    /// The per-row loss at logits `z` (as long as the row).
    pub(crate) fn loss<T: DualNum<Primitive = F>>(&self, z: &[T]) -> T {
        match self.family {
            Family::Softmax => self.softmax_loss(z),
            Family::Sigmoid => self.sigmoid_loss(z),
            Family::Zlpr => self.zlpr_loss(z),
        }
    }

    /// The closed-form gradient of [`Self::loss`] with respect to `z`.
    pub(crate) fn gradient<T: DualNum<Primitive = F>>(&self, z: &[T]) -> Vec<T> {
        match self.family {
            Family::Softmax => self.softmax_gradient(z),
            Family::Sigmoid => self.sigmoid_gradient(z),
            Family::Zlpr => self.zlpr_gradient(z),
        }
    }

    fn class_weight(&self, k: usize) -> F {
        self.class_weights
            .and_then(|w| w.get(k).copied())
            .unwrap_or(F::one())
    }

    fn positive_weight(&self, k: usize) -> F {
        self.pos_weight
            .and_then(|w| w.get(k).copied())
            .unwrap_or(F::one())
    }

    /// `c_k = w_k q_k`, the coefficient of `-log p_k`.
    fn softmax_coefficients(&self) -> impl Iterator<Item = F> + '_ {
        (0..self.targets.len()).map(|k| self.class_weight(k) * self.targets[k])
    }

    fn softmax_loss<T: DualNum<Primitive = F>>(&self, z: &[T]) -> T {
        let norm = Normaliser::new(z);
        let log1p_rest = norm.rest.ln_1p();
        let mut loss = T::from(F::zero());
        for (c, zk) in self.softmax_coefficients().zip(z) {
            // A zero coefficient contributes 0 even where `m - z_k` overflows.
            if c != F::zero() {
                loss += shift_times(&norm.max, zk, c) + log1p_rest.clone() * c;
            }
        }
        loss
    }

    fn softmax_gradient<T: DualNum<Primitive = F>>(&self, z: &[T]) -> Vec<T> {
        let norm = Normaliser::new(z);
        let c: Vec<F> = self.softmax_coefficients().collect();
        let total = c.iter().fold(F::zero(), |s, &ck| s + ck);
        let others = c
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != norm.argmax)
            .fold(F::zero(), |s, (_, &ck)| s + ck);
        let inv = (norm.rest.clone() + F::one()).recip();
        c.iter()
            .zip(z)
            .enumerate()
            .map(|(k, (&ck, zk))| {
                if k == norm.argmax {
                    // p_j S - c_j with p_j = 1/(1+r), as (sum_{k!=j} c_k - c_j r)/(1+r): no
                    // cancellation of 1/(1+r) against 1 when r is tiny.
                    (-(norm.rest.clone() * ck) + others) * inv.clone()
                } else {
                    shifted_exp(zk, &norm.max) * inv.clone() * total - ck
                }
            })
            .collect()
    }

    fn sigmoid_loss<T: DualNum<Primitive = F>>(&self, z: &[T]) -> T {
        let mut loss = T::from(F::zero());
        for (k, zk) in z.iter().enumerate() {
            // Coefficients first, so a term overflows only where its exact value does.
            let w = self.class_weight(k);
            let pos = w * self.positive_weight(k) * self.targets[k];
            let neg = w * self.complements[k];
            let parts = Softplus::new(zk);
            if pos != F::zero() {
                loss += parts.of_minus_z() * pos;
            }
            if neg != F::zero() {
                loss += parts.of_z() * neg;
            }
        }
        loss
    }

    fn sigmoid_gradient<T: DualNum<Primitive = F>>(&self, z: &[T]) -> Vec<T> {
        z.iter()
            .enumerate()
            .map(|(k, zk)| {
                let (t, tc) = (self.targets[k], self.complements[k]);
                let (s, one_minus_s) = Softplus::new(zk).sigmoids();
                // (1-t) s - pi t (1-s): both products exact-signed, no 1 - s cancellation.
                (s * tc - one_minus_s * (self.positive_weight(k) * t)) * self.class_weight(k)
            })
            .collect()
    }

    fn zlpr_halves<T: DualNum<Primitive = F>>(&self, z: &[T]) -> [LogOnePlusSum<T>; 2] {
        let minus_z: Vec<T> = z.iter().map(|zk| -zk.clone()).collect();
        [
            LogOnePlusSum::new(self.complements, z),
            LogOnePlusSum::new(self.targets, &minus_z),
        ]
    }

    fn zlpr_loss<T: DualNum<Primitive = F>>(&self, z: &[T]) -> T {
        let [up, down] = self.zlpr_halves(z);
        up.value() + down.value()
    }

    fn zlpr_gradient<T: DualNum<Primitive = F>>(&self, z: &[T]) -> Vec<T> {
        let [up, down] = self.zlpr_halves(z);
        (0..z.len()).map(|k| up.share(k) - down.share(k)).collect()
    }
}

/// `m = max z` (by real part) and `r = sum_{k != argmax} exp(z_k - m)`, so that
/// `log sum exp z = m + log1p(r)`.
struct Normaliser<T> {
    argmax: usize,
    max: T,
    rest: T,
}

impl<F: DualNumFloat, T: DualNum<Primitive = F>> Normaliser<T> {
    fn new(z: &[T]) -> Self {
        let mut argmax = 0;
        for (k, zk) in z.iter().enumerate() {
            if zk.re() > z[argmax].re() {
                argmax = k;
            }
        }
        let max = z.get(argmax).cloned().unwrap_or_else(|| T::from(F::zero()));
        let mut rest = T::from(F::zero());
        for (k, zk) in z.iter().enumerate() {
            if k != argmax {
                rest += shifted_exp(zk, &max);
            }
        }
        Normaliser { argmax, max, rest }
    }
}

/// `(m - z) c` for `m >= z`, finite whenever the exact value is: `m - z` alone overflows for
/// logits of opposite signs near the top of the range, so it is then halved first (exact).
fn shift_times<F: DualNumFloat, T: DualNum<Primitive = F>>(m: &T, z: &T, c: F) -> T {
    let d = m.clone() - z;
    if d.re().is_finite() {
        return d * c;
    }
    let half = F::one() / (F::one() + F::one());
    (m.clone() * half - z.clone() * half) * c * (F::one() + F::one())
}

/// `exp(z - m)`, with the rounding error of `z - m` put back: `z - m = hi + lo` exactly
/// (Knuth's two-sum), and `exp(hi + lo) = exp(hi) (1 + lo)` to first order. Without it the
/// rounding of `z - m` costs up to `|z - m|` units in the last place of the result.
fn shifted_exp<F: DualNumFloat, T: DualNum<Primitive = F>>(z: &T, m: &T) -> T {
    let hi = z.clone() - m;
    if !hi.re().is_finite() {
        return hi.exp();
    }
    let bb = hi.clone() - z;
    let lo = (z.clone() - (hi.clone() - &bb)) + (-m.clone() - bb);
    hi.exp() * (lo + F::one())
}

/// `softplus(z) = log(1 + e^z)` and `softplus(-z)` from one `exp(-|z|)`.
struct Softplus<T> {
    z: T,
    /// `exp(-|z|)`.
    e: T,
    /// `log1p(exp(-|z|))`.
    l: T,
}

impl<F: DualNumFloat, T: DualNum<Primitive = F>> Softplus<T> {
    fn new(z: &T) -> Self {
        let abs = if z.re() < F::zero() {
            -z.clone()
        } else {
            z.clone()
        };
        let e = (-abs).exp();
        let l = e.clone().ln_1p();
        Softplus { z: z.clone(), e, l }
    }

    /// `softplus(z) = max(z, 0) + log1p(exp(-|z|)) = -log(1 - s)`.
    fn of_z(&self) -> T {
        // The same branch as `new` (|z| = z for z >= 0), so the derivative at 0 is right.
        if self.z.re() >= F::zero() {
            self.z.clone() + &self.l
        } else {
            self.l.clone()
        }
    }

    /// `softplus(-z) = -log s`.
    fn of_minus_z(&self) -> T {
        if self.z.re() < F::zero() {
            self.l.clone() - &self.z
        } else {
            self.l.clone()
        }
    }

    /// `(s, 1 - s)` with `s = sigmoid(z)`, each without cancellation.
    fn sigmoids(&self) -> (T, T) {
        let big = (self.e.clone() + F::one()).recip();
        let small = self.e.clone() * &big;
        if self.z.re() < F::zero() {
            (small, big)
        } else {
            (big, small)
        }
    }
}

/// `log(1 + sum_k a_k exp(x_k))` for `a_k >= 0`, and its derivatives
/// `a_k exp(x_k) / (1 + sum)`.
///
/// When no term exceeds 1 the terms `a_k exp(x_k)` are summed as they are (nothing can
/// overflow, and each `exp` takes an exact input). Otherwise the sum is scaled by its largest
/// term `a_j exp(x_j)`: terms become `(a_k / a_j) exp(x_k - x_j)` (the shift of exact inputs
/// done as in [`shifted_exp`]), the value `y_j + log1p(rest)` with `y_j = x_j + log a_j`.
struct LogOnePlusSum<T> {
    /// The terms of the sum, divided by the largest when it exceeds 1.
    terms: Vec<T>,
    /// `1 + sum` divided by the same scale.
    denominator: T,
    value: T,
}

impl<F: DualNumFloat, T: DualNum<Primitive = F>> LogOnePlusSum<T> {
    fn new(coefficients: &[F], x: &[T]) -> Self {
        let zero = T::from(F::zero());
        // The index and log of the largest term, where that term exceeds 1.
        let mut top: Option<(usize, T)> = None;
        for (k, (&a, xk)) in coefficients.iter().zip(x).enumerate() {
            if a > F::zero() {
                let y = xk.clone() + a.ln();
                let best = top.as_ref().map_or(F::zero(), |(_, b)| b.re());
                if y.re() > best {
                    top = Some((k, y));
                }
            }
        }
        let term = |k: usize, a: F, xk: &T| match &top {
            _ if a == F::zero() => zero.clone(),
            Some((j, _)) if k == *j => T::from(F::one()),
            Some((j, _)) => shifted_exp(xk, &x[*j]) * (a / coefficients[*j]),
            None => xk.exp() * a,
        };
        let terms: Vec<T> = coefficients
            .iter()
            .zip(x)
            .enumerate()
            .map(|(k, (&a, xk))| term(k, a, xk))
            .collect();
        match top {
            Some((j, y)) => {
                let rest = terms
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != j)
                    .fold((-y.clone()).exp(), |s, (_, t)| s + t);
                LogOnePlusSum {
                    terms,
                    denominator: rest.clone() + F::one(),
                    value: y + rest.ln_1p(),
                }
            }
            None => {
                let sum = terms.iter().fold(zero, |s, t| s + t);
                LogOnePlusSum {
                    terms,
                    denominator: sum.clone() + F::one(),
                    value: sum.ln_1p(),
                }
            }
        }
    }

    fn value(&self) -> T {
        self.value.clone()
    }

    /// `a_k exp(x_k) / (1 + sum_j a_j exp(x_j))`, the derivative of the value in `x_k`.
    fn share(&self, k: usize) -> T {
        match self.terms.get(k) {
            Some(t) => t.clone() / &self.denominator,
            None => T::from(F::zero()),
        }
    }
}
