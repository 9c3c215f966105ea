//! The catalog: every smoothing scheme, its family, its parameters and their ranges.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A label-smoothing scheme of the catalog (`CATALOG.md`).
///
/// [`Scheme::ALL`] lists them all; every check of the crate iterates over it, so a scheme added
/// here is picked up (and its missing checks reported) everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `q = (1-eps) y + eps/N`, one positive (PyTorch, Keras, timm, fastai, optax, burn).
    Uniform,
    /// `q = 1-eps` on the label, `eps/(N-1)` elsewhere; one positive, `N >= 2`.
    Others,
    /// `q = (y + eps/N) / (1 + eps)`, one positive (mmpretrain `classy_vision`).
    ClassyVision,
    /// `q = (1-eps) y/n + eps/N`, `n >= 1` positives.
    MlUniform,
    /// `q = (1-eps) y/n + eps (1-y)/(N-n)`, and `y/n` when every label is positive.
    MlComplement,
    /// `q = (1-eps) y/n + eps u`, `u` a class distribution.
    MlPrior,
    /// Binary targets `1 - eps/2` and `eps/2` (Keras `BinaryCrossentropy`).
    BceHalf,
    /// Binary targets `1 - eps + eps/N` and `eps/N` (timm, burn, optax on multi-hot).
    BcePerClass,
    /// Binary targets `1 - eps` and `eps`, `eps < 1/2` (mmpretrain `multi_label`).
    BceSymmetric,
    /// Binary targets `1 - alpha` and `beta`, `alpha + beta < 1`.
    BceAsymmetric,
    /// Soft-label ZLPR loss with targets `1 - alpha` and `beta` (hard ZLPR at 0, 0).
    Zlpr,
}

/// How a scheme turns targets into a loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Categorical cross-entropy against a target distribution over the N classes.
    Softmax,
    /// Binary cross-entropy per label.
    Sigmoid,
    /// `log(1 + sum (1-t) e^z) + log(1 + sum t e^-z)`.
    Zlpr,
}

/// The scalar parameters a scheme reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterSet {
    /// `eps` only.
    Eps,
    /// `eps` and a prior `u` over the classes.
    EpsPrior,
    /// `alpha` (taken from positives) and `beta` (given to negatives).
    AlphaBeta,
}

impl Scheme {
    /// Every scheme, in catalog order.
    pub const ALL: [Scheme; 11] = [
        Scheme::Uniform,
        Scheme::Others,
        Scheme::ClassyVision,
        Scheme::MlUniform,
        Scheme::MlComplement,
        Scheme::MlPrior,
        Scheme::BceHalf,
        Scheme::BcePerClass,
        Scheme::BceSymmetric,
        Scheme::BceAsymmetric,
        Scheme::Zlpr,
    ];

    /// The catalog's identifier, e.g. `"ml_uniform"`.
    pub const fn name(self) -> &'static str {
        match self {
            Scheme::Uniform => "uniform",
            Scheme::Others => "others",
            Scheme::ClassyVision => "classy_vision",
            Scheme::MlUniform => "ml_uniform",
            Scheme::MlComplement => "ml_complement",
            Scheme::MlPrior => "ml_prior",
            Scheme::BceHalf => "bce_half",
            Scheme::BcePerClass => "bce_per_class",
            Scheme::BceSymmetric => "bce_symmetric",
            Scheme::BceAsymmetric => "bce_asymmetric",
            Scheme::Zlpr => "zlpr",
        }
    }

    /// The loss family.
    pub const fn family(self) -> Family {
        match self {
            Scheme::Uniform
            | Scheme::Others
            | Scheme::ClassyVision
            | Scheme::MlUniform
            | Scheme::MlComplement
            | Scheme::MlPrior => Family::Softmax,
            Scheme::BceHalf
            | Scheme::BcePerClass
            | Scheme::BceSymmetric
            | Scheme::BceAsymmetric => Family::Sigmoid,
            Scheme::Zlpr => Family::Zlpr,
        }
    }

    /// The parameters the scheme reads.
    pub const fn parameters(self) -> ParameterSet {
        match self {
            Scheme::MlPrior => ParameterSet::EpsPrior,
            Scheme::BceAsymmetric | Scheme::Zlpr => ParameterSet::AlphaBeta,
            _ => ParameterSet::Eps,
        }
    }

    /// Whether a row must have exactly one positive label.
    pub const fn single_label(self) -> bool {
        matches!(
            self,
            Scheme::Uniform | Scheme::Others | Scheme::ClassyVision
        )
    }

    /// The smallest number of classes the scheme is defined for.
    pub const fn min_classes(self) -> usize {
        match self {
            Scheme::Others => 2,
            _ => 1,
        }
    }

    /// The parameter range [`crate::Smoothing::new`] accepts, as text: `"0 <= eps < 1/2"`,
    /// `"alpha >= 0, beta >= 0, alpha + beta < 1"`.
    pub const fn valid_range(self) -> &'static str {
        match self.parameters() {
            ParameterSet::AlphaBeta => ALPHA_BETA_RANGE,
            _ => self.eps_range().text,
        }
    }

    /// The valid range of `eps` (schemes that read `eps`).
    pub(crate) const fn eps_range(self) -> EpsRange {
        match self {
            Scheme::BceSymmetric => EpsRange {
                hi_twice: 1,
                hi_inclusive: false,
                text: "0 <= eps < 1/2",
            },
            Scheme::BceHalf | Scheme::BcePerClass => EpsRange {
                hi_twice: 2,
                hi_inclusive: false,
                text: "0 <= eps < 1",
            },
            _ => EpsRange {
                hi_twice: 2,
                hi_inclusive: true,
                text: "0 <= eps <= 1",
            },
        }
    }
}

/// `0 <= eps < hi` or `0 <= eps <= hi`, with `hi = hi_twice / 2` (so the bound is exact in
/// binary and the check is exact).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EpsRange {
    pub(crate) hi_twice: u8,
    pub(crate) hi_inclusive: bool,
    pub(crate) text: &'static str,
}

impl EpsRange {
    /// Whether `eps` lies in the range (`false` for NaN).
    pub(crate) fn contains(self, eps: f64) -> bool {
        // eps * 2 is exact (barring overflow, which is out of range anyway).
        let twice = eps * 2.0;
        let hi = f64::from(self.hi_twice);
        eps >= 0.0 && (twice < hi || (self.hi_inclusive && twice == hi))
    }
}

/// The text of the alpha/beta range shared by `bce_asymmetric` and `zlpr`.
pub(crate) const ALPHA_BETA_RANGE: &str = "alpha >= 0, beta >= 0, alpha + beta < 1";

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scheme {
    type Err = Error;

    /// Parses a catalog identifier such as `"bce_symmetric"`.
    ///
    /// # Errors
    /// [`Error::UnknownScheme`] when no scheme has that name.
    fn from_str(name: &str) -> Result<Self, Error> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| Error::UnknownScheme {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for s in Scheme::ALL {
            assert_eq!(s.name().parse::<Scheme>(), Ok(s));
        }
        let mut names: Vec<_> = Scheme::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Scheme::ALL.len());
        assert!(matches!(
            "ml_unifrom".parse::<Scheme>(),
            Err(Error::UnknownScheme { .. })
        ));
    }

    #[test]
    fn eps_ranges_are_exact_at_their_edges() {
        let sym = Scheme::BceSymmetric.eps_range();
        assert!(sym.contains(0.0));
        assert!(sym.contains(0.5_f64.next_down()));
        assert!(!sym.contains(0.5));
        assert!(!sym.contains(-f64::from_bits(1)));
        let uni = Scheme::Uniform.eps_range();
        assert!(uni.contains(1.0));
        assert!(!uni.contains(1.0_f64.next_up()));
        assert!(!uni.contains(f64::NAN));
        let half = Scheme::BceHalf.eps_range();
        assert!(!half.contains(1.0));
        assert!(half.contains(1.0_f64.next_down()));
    }
}
