//! A validated scheme with its parameters, and the target formulas (written once, for every
//! number type: `f32`, `f64`, and exact rationals in the reference).

use std::ops::{Add, Div, Mul, Sub};

use super::catalog::{ALPHA_BETA_RANGE, Family, ParameterSet, Scheme};
use super::param::Param;
use crate::error::Error;

/// The parameters a caller may give; each scheme reads only its own (see
/// [`Scheme::parameters`]) and ignores the rest ([`Params::unused_by`] lists them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    /// The smoothing `eps` of every scheme but `bce_asymmetric` and `zlpr`.
    pub eps: Option<Param>,
    /// Taken from positive targets by `bce_asymmetric` and `zlpr`.
    pub alpha: Option<Param>,
    /// Given to negative targets by `bce_asymmetric` and `zlpr`.
    pub beta: Option<Param>,
    /// The class distribution `u` of `ml_prior`.
    pub prior: Option<Vec<Param>>,
}

impl Params {
    /// Only `eps`.
    pub fn eps(eps: impl Into<Param>) -> Self {
        Params {
            eps: Some(eps.into()),
            ..Params::default()
        }
    }

    /// Only `alpha` and `beta`.
    pub fn alpha_beta(alpha: impl Into<Param>, beta: impl Into<Param>) -> Self {
        Params {
            alpha: Some(alpha.into()),
            beta: Some(beta.into()),
            ..Params::default()
        }
    }

    /// `eps` and a prior.
    pub fn eps_prior(eps: impl Into<Param>, prior: Vec<Param>) -> Self {
        Params {
            eps: Some(eps.into()),
            prior: Some(prior),
            ..Params::default()
        }
    }

    /// The names of the given parameters that `scheme` does not read.
    pub fn unused_by(&self, scheme: Scheme) -> Vec<&'static str> {
        let used = scheme.parameters();
        let mut unused = Vec::new();
        if self.eps.is_some() && used == ParameterSet::AlphaBeta {
            unused.push("eps");
        }
        if used != ParameterSet::AlphaBeta {
            if self.alpha.is_some() {
                unused.push("alpha");
            }
            if self.beta.is_some() {
                unused.push("beta");
            }
        }
        if self.prior.is_some() && used != ParameterSet::EpsPrior {
            unused.push("prior");
        }
        unused
    }
}

/// A scheme together with valid parameters.
///
/// Constructed once by [`Smoothing::new`], which checks every range; the formulas that use it
/// cannot fail.
#[derive(Debug, Clone, PartialEq)]
pub struct Smoothing {
    scheme: Scheme,
    eps: Param,
    alpha: Param,
    beta: Param,
    prior: Vec<Param>,
}

impl Smoothing {
    /// Validates the parameters `scheme` reads.
    ///
    /// Ranges: softmax family `0 <= eps <= 1`; `bce_half` and `bce_per_class` `0 <= eps < 1`;
    /// `bce_symmetric` `0 <= eps < 1/2`; `bce_asymmetric` and `zlpr` `alpha, beta >= 0`,
    /// `alpha + beta < 1`; the prior of `ml_prior` finite, non-negative, summing to 1 within
    /// `8 N` units of binary64 round-off (normalise it in `f64`). Ranges are checked on the
    /// binary64 value, the one the formulas use. The prior's length is checked against the
    /// classes of a batch by [`crate::Problem::new`].
    ///
    /// # Errors
    /// [`Error::MissingParameter`], [`Error::ParameterOutOfRange`], [`Error::InvalidEntry`],
    /// [`Error::PriorNotNormalised`].
    pub fn new(scheme: Scheme, params: &Params) -> Result<Self, Error> {
        let need = |p: &Option<Param>, parameter| {
            p.clone()
                .ok_or(Error::MissingParameter { scheme, parameter })
        };
        let zero = Param::new(0.0);
        let mut smoothing = Smoothing {
            scheme,
            eps: zero.clone(),
            alpha: zero.clone(),
            beta: zero,
            prior: Vec::new(),
        };
        match scheme.parameters() {
            ParameterSet::Eps | ParameterSet::EpsPrior => {
                let eps = need(&params.eps, "eps")?;
                let range = scheme.eps_range();
                if !range.contains(eps.value()) {
                    return Err(Error::ParameterOutOfRange {
                        scheme,
                        parameter: "eps",
                        value: eps.value(),
                        valid: range.text,
                    });
                }
                smoothing.eps = eps;
            }
            ParameterSet::AlphaBeta => {
                let alpha = need(&params.alpha, "alpha")?;
                let beta = need(&params.beta, "beta")?;
                let out_of_range = |parameter, value| Error::ParameterOutOfRange {
                    scheme,
                    parameter,
                    value,
                    valid: ALPHA_BETA_RANGE,
                };
                let (a, b) = (alpha.value(), beta.value());
                if a.is_nan() || a < 0.0 {
                    return Err(out_of_range("alpha", a));
                }
                if b.is_nan() || b < 0.0 {
                    return Err(out_of_range("beta", b));
                }
                if !sum_below_one(a, b) {
                    return Err(out_of_range("alpha + beta", a + b));
                }
                smoothing.alpha = alpha;
                smoothing.beta = beta;
            }
        }
        if scheme.parameters() == ParameterSet::EpsPrior {
            let prior = params.prior.clone().ok_or(Error::MissingParameter {
                scheme,
                parameter: "prior",
            })?;
            check_entries("prior", &prior)?;
            let sum: f64 = prior.iter().map(Param::value).sum();
            let tolerance = 8.0 * prior.len() as f64 * f64::EPSILON;
            let normalised = (sum - 1.0).abs() <= tolerance;
            if !normalised {
                return Err(Error::PriorNotNormalised { sum, tolerance });
            }
            smoothing.prior = prior;
        }
        Ok(smoothing)
    }

    /// Shorthand for [`Smoothing::new`] with only `eps`.
    ///
    /// # Errors
    /// As [`Smoothing::new`].
    pub fn with_eps(scheme: Scheme, eps: impl Into<Param>) -> Result<Self, Error> {
        Smoothing::new(scheme, &Params::eps(eps))
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `eps` (0 for schemes that do not read it).
    pub fn eps(&self) -> &Param {
        &self.eps
    }

    /// `alpha` (0 for schemes that do not read it).
    pub fn alpha(&self) -> &Param {
        &self.alpha
    }

    /// `beta` (0 for schemes that do not read it).
    pub fn beta(&self) -> &Param {
        &self.beta
    }

    /// The prior (empty for schemes other than `ml_prior`).
    pub fn prior(&self) -> &[Param] {
        &self.prior
    }

    /// The target of every class of one row, in the number type `K`.
    ///
    /// The row must suit the scheme (checked by [`crate::Problem::new`]): at least one
    /// positive for the softmax family, exactly one for single-label schemes, `prior` as long
    /// as the row.
    pub(crate) fn targets<K: Field>(&self, labels: &[bool]) -> Vec<K> {
        let classes = labels.len();
        let positives = labels.iter().filter(|&&y| y).count();
        let param = |p: &Param| K::from_param(p);
        let count = K::from_count;
        let (one, big_n, n) = (count(1), count(classes), count(positives));
        let eps = param(&self.eps);
        let (pos, neg) = match self.scheme {
            Scheme::Uniform => (one - eps.clone() + eps.clone() / big_n.clone(), eps / big_n),
            Scheme::Others => {
                let others = count(classes.saturating_sub(1).max(1));
                (one - eps.clone(), eps / others)
            }
            Scheme::ClassyVision => {
                let scale = one.clone() + eps.clone();
                let neg = eps / big_n;
                ((one + neg.clone()) / scale.clone(), neg / scale)
            }
            Scheme::MlUniform => (
                (one - eps.clone()) / n + eps.clone() / big_n.clone(),
                eps / big_n,
            ),
            Scheme::MlComplement if positives == classes => (one / n, count(0)),
            Scheme::MlComplement => ((one - eps.clone()) / n, eps / count(classes - positives)),
            Scheme::MlPrior => {
                let share = (one - eps.clone()) / n;
                return labels
                    .iter()
                    .zip(&self.prior)
                    .map(|(&y, u)| {
                        let smoothed = eps.clone() * param(u);
                        if y {
                            share.clone() + smoothed
                        } else {
                            smoothed
                        }
                    })
                    .collect();
            }
            Scheme::BceHalf
            | Scheme::BcePerClass
            | Scheme::BceSymmetric
            | Scheme::BceAsymmetric
            | Scheme::Zlpr => {
                let (taken, given) = self.binary_shifts::<K>(classes);
                (one - taken, given)
            }
        };
        labels
            .iter()
            .map(|&y| if y { pos.clone() } else { neg.clone() })
            .collect()
    }

    /// `1 - t` for every class of one row, computed from the parameters directly (sigmoid
    /// family and ZLPR; empty for the softmax family, whose formulas do not use it).
    pub(crate) fn complements<K: Field>(&self, labels: &[bool]) -> Vec<K> {
        if self.scheme.family() == Family::Softmax {
            return Vec::new();
        }
        let (taken, given) = self.binary_shifts::<K>(labels.len());
        let kept = K::from_count(1) - given;
        labels
            .iter()
            .map(|&y| if y { taken.clone() } else { kept.clone() })
            .collect()
    }

    /// `(taken, given)` of a binary scheme: positives get `1 - taken`, negatives `given`.
    fn binary_shifts<K: Field>(&self, classes: usize) -> (K, K) {
        let eps = K::from_param(&self.eps);
        let big_n = K::from_count(classes);
        match self.scheme {
            Scheme::BceHalf => {
                let half = eps / K::from_count(2);
                (half.clone(), half)
            }
            Scheme::BcePerClass => (eps.clone() - eps.clone() / big_n.clone(), eps / big_n),
            Scheme::BceSymmetric => (eps.clone(), eps),
            _ => (K::from_param(&self.alpha), K::from_param(&self.beta)),
        }
    }
}

/// Whether `a + b < 1` exactly, for finite non-negative `a`, `b` (no false verdict from the
/// rounding of the sum).
fn sum_below_one(a: f64, b: f64) -> bool {
    let s = a + b;
    // Knuth's two-sum: a + b = s + err exactly.
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    s < 1.0 || (s == 1.0 && err < 0.0)
}

/// Checks that every entry of a vector parameter is finite and non-negative.
pub(crate) fn check_entries(parameter: &'static str, entries: &[Param]) -> Result<(), Error> {
    match entries
        .iter()
        .position(|p| !(p.value().is_finite() && p.value() >= 0.0))
    {
        Some(index) => Err(Error::InvalidEntry {
            parameter,
            index,
            value: entries[index].value(),
        }),
        None => Ok(()),
    }
}

/// The arithmetic the target formulas need: a field with exact small integers and a way to
/// read a [`Param`]. Implemented for `f32`, `f64`, and (in the reference) exact rationals.
pub(crate) trait Field:
    Clone + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    /// The integer `n` (class and label counts; exact in every implementation here for
    /// counts below 2^24).
    fn from_count(n: usize) -> Self;
    /// The parameter's value, rounded once to this type (exact for rationals).
    fn from_param(p: &Param) -> Self;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn targets_match_hand_derived_values() {
        // eps = 0.25 and N = 4 keep every target a short binary fraction, so f64 is exact.
        let labels = [true, false, true, false];
        let cases: [(Scheme, [f64; 2]); 6] = [
            (Scheme::MlUniform, [0.75 / 2.0 + 0.0625, 0.0625]),
            (Scheme::MlComplement, [0.375, 0.125]),
            (Scheme::BceHalf, [0.875, 0.125]),
            (Scheme::BcePerClass, [0.8125, 0.0625]),
            (Scheme::BceSymmetric, [0.75, 0.25]),
            (Scheme::Zlpr, [0.75, 0.25]),
        ];
        for (scheme, [pos, neg]) in cases {
            let params = Params {
                eps: Some(0.25.into()),
                alpha: Some(0.25.into()),
                beta: Some(0.25.into()),
                prior: None,
            };
            let s = Smoothing::new(scheme, &params).unwrap();
            assert_eq!(
                bits(&s.targets::<f64>(&labels)),
                bits(&[pos, neg, pos, neg]),
                "{scheme}"
            );
        }
        let one_hot = [false, true, false, false];
        let s = Smoothing::with_eps(Scheme::Uniform, 0.25).unwrap();
        assert_eq!(s.targets::<f64>(&one_hot), [0.0625, 0.8125, 0.0625, 0.0625]);
        let s = Smoothing::with_eps(Scheme::Others, 0.25).unwrap();
        assert_eq!(s.targets::<f64>(&one_hot)[..2], [0.25 / 3.0, 0.75]);
        let s = Smoothing::with_eps(Scheme::ClassyVision, 0.25).unwrap();
        assert_eq!(s.targets::<f64>(&one_hot)[..2], [0.05, 0.85]);
        let prior = [0.5, 0.25, 0.125, 0.125].map(Param::new).to_vec();
        let s = Smoothing::new(Scheme::MlPrior, &Params::eps_prior(0.5, prior)).unwrap();
        assert_eq!(s.targets::<f64>(&labels), [0.5, 0.125, 0.3125, 0.0625]);
        let s = Smoothing::with_eps(Scheme::MlComplement, 0.25).unwrap();
        assert_eq!(s.targets::<f64>(&[true, true]), [0.5, 0.5]);
    }

    #[test]
    fn out_of_range_parameters_name_the_range() {
        let err = Smoothing::with_eps(Scheme::BceSymmetric, 0.5).unwrap_err();
        assert_eq!(
            err,
            Error::ParameterOutOfRange {
                scheme: Scheme::BceSymmetric,
                parameter: "eps",
                value: 0.5,
                valid: "0 <= eps < 1/2",
            }
        );
        assert!(err.to_string().contains("0 <= eps < 1/2"));
        for (scheme, eps) in [
            (Scheme::Uniform, -0.1),
            (Scheme::Uniform, 1.5),
            (Scheme::BceHalf, 1.0),
            (Scheme::BcePerClass, f64::NAN),
        ] {
            assert!(matches!(
                Smoothing::with_eps(scheme, eps),
                Err(Error::ParameterOutOfRange {
                    parameter: "eps",
                    ..
                })
            ));
        }
        let ab = |a: f64, b: f64| Smoothing::new(Scheme::BceAsymmetric, &Params::alpha_beta(a, b));
        assert!(matches!(
            ab(-0.1, 0.1),
            Err(Error::ParameterOutOfRange {
                parameter: "alpha",
                ..
            })
        ));
        assert!(matches!(
            ab(0.1, -f64::from_bits(1)),
            Err(Error::ParameterOutOfRange {
                parameter: "beta",
                ..
            })
        ));
        assert!(matches!(
            ab(0.5, 0.5),
            Err(Error::ParameterOutOfRange {
                parameter: "alpha + beta",
                ..
            })
        ));
        // 0.5 + (0.5 - 2^-54) rounds to 1 in binary64, but the exact sum is below 1.
        assert!(ab(0.5, 0.5 - 2f64.powi(-54)).is_ok());
        assert!(matches!(
            Smoothing::new(Scheme::Zlpr, &Params::eps(0.1)),
            Err(Error::MissingParameter {
                parameter: "alpha",
                ..
            })
        ));
    }

    #[test]
    fn priors_are_checked() {
        let prior = |v: &[f64]| Params::eps_prior(0.1, v.iter().copied().map(Param::new).collect());
        assert_eq!(
            Smoothing::new(Scheme::MlPrior, &prior(&[0.5, -0.25, 0.75])),
            Err(Error::InvalidEntry {
                parameter: "prior",
                index: 1,
                value: -0.25
            })
        );
        assert!(matches!(
            Smoothing::new(Scheme::MlPrior, &prior(&[0.5, 0.25])),
            Err(Error::PriorNotNormalised { sum, .. }) if sum == 0.75
        ));
        assert!(Smoothing::new(Scheme::MlPrior, &prior(&[0.1, 0.2, 0.7])).is_ok());
        assert!(matches!(
            Smoothing::new(Scheme::MlPrior, &Params::eps(0.1)),
            Err(Error::MissingParameter {
                parameter: "prior",
                ..
            })
        ));
    }
}
