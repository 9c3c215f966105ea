//! A scheme, weights and a batch checked against each other; evaluation of the generic
//! formulas in `f32` or `f64`, and the named reductions.

use std::fmt;
use std::str::FromStr;

use num_dual::DualNum;

use crate::batch::Batch;
use crate::error::Error;
use crate::formula::RowTerms;
use crate::precision::Precision;
use crate::scheme::{Family, Field, Param, Scheme, Smoothing, check_entries};

/// Optional per-class weights `w` (both families) and positive weights `pi` (sigmoid family
/// only), one entry per class, finite and non-negative.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Weights {
    /// `w_k`, multiplying the loss of class `k` (default 1).
    pub class: Option<Vec<Param>>,
    /// `pi_k`, multiplying the positive part `-t_k log s_k` (PyTorch's `pos_weight`; default 1).
    pub pos: Option<Vec<Param>>,
}

/// How per-row losses are combined over a batch of B rows of N classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// No reduction: one loss per row (the sum over its classes).
    None,
    /// The sum over rows.
    Sum,
    /// The mean over rows of the per-row loss (timm's `sum_classes`; the usual multi-label
    /// choice).
    MeanOverRows,
    /// The sum over rows divided by `B * N`: the mean over all elements (PyTorch BCE `mean`).
    MeanOverElements,
    /// The sum over rows divided by the sum of the rows' true-class weights (PyTorch's
    /// weighted `CrossEntropyLoss` `mean`). Softmax family, one positive per row.
    WeightedMean,
}

impl Reduction {
    /// Every reduction.
    pub const ALL: [Reduction; 5] = [
        Reduction::None,
        Reduction::Sum,
        Reduction::MeanOverRows,
        Reduction::MeanOverElements,
        Reduction::WeightedMean,
    ];

    /// The name used on the command line and in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Reduction::None => "none",
            Reduction::Sum => "sum",
            Reduction::MeanOverRows => "mean_over_rows",
            Reduction::MeanOverElements => "mean_over_elements",
            Reduction::WeightedMean => "weighted_mean",
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Reduction {
    type Err = Error;

    /// # Errors
    /// [`Error::UnknownReduction`].
    fn from_str(name: &str) -> Result<Self, Error> {
        Reduction::ALL
            .into_iter()
            .find(|r| r.name() == name)
            .ok_or_else(|| Error::UnknownReduction {
                name: name.to_owned(),
            })
    }
}

/// A smoothing scheme, weights and a batch, checked against each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    smoothing: Smoothing,
    weights: Weights,
    batch: Batch,
}

/// The generic formulas at the batch's logits, in precision `F`.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<F> {
    /// One entry per row.
    pub rows: Vec<RowValues<F>>,
}

/// Targets, loss and gradient of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowValues<F> {
    /// The smoothed target of each class.
    pub targets: Vec<F>,
    /// The per-row loss (summed over classes, unreduced).
    pub loss: F,
    /// The gradient of the per-row loss with respect to the row's logits.
    pub gradient: Vec<F>,
}

impl Problem {
    /// Checks the batch against the scheme and the weights.
    ///
    /// # Errors
    /// [`Error::TooFewClasses`]; [`Error::LengthMismatch`] for a prior or weights not of length
    /// N; [`Error::InvalidEntry`] for a negative or non-finite weight;
    /// [`Error::WeightNotApplicable`] for `pos` outside the sigmoid family or any weight with
    /// `zlpr`; [`Error::NoPositiveLabel`] for a softmax-family row without positives;
    /// [`Error::SeveralPositives`] for a single-label scheme's row with more than one.
    pub fn new(smoothing: Smoothing, weights: Weights, batch: Batch) -> Result<Self, Error> {
        let scheme = smoothing.scheme();
        let classes = batch.classes();
        if classes < scheme.min_classes() {
            return Err(Error::TooFewClasses {
                scheme,
                classes,
                min: scheme.min_classes(),
            });
        }
        let check_len = |parameter, len| {
            if len == classes {
                Ok(())
            } else {
                Err(Error::LengthMismatch {
                    parameter,
                    len,
                    classes,
                })
            }
        };
        if scheme == Scheme::MlPrior {
            check_len("prior", smoothing.prior().len())?;
        }
        for (parameter, entries, applies) in [
            (
                "class_weights",
                &weights.class,
                scheme.family() != Family::Zlpr,
            ),
            (
                "pos_weight",
                &weights.pos,
                scheme.family() == Family::Sigmoid,
            ),
        ] {
            if let Some(entries) = entries {
                if !applies {
                    return Err(Error::WeightNotApplicable { scheme, parameter });
                }
                check_len(parameter, entries.len())?;
                check_entries(parameter, entries)?;
            }
        }
        if scheme.family() == Family::Softmax {
            for row in 0..batch.rows() {
                let positives = batch.labels(row).iter().filter(|&&y| y).count();
                if positives == 0 {
                    return Err(Error::NoPositiveLabel { scheme, row });
                }
                if scheme.single_label() && positives > 1 {
                    return Err(Error::SeveralPositives {
                        scheme,
                        row,
                        positives,
                    });
                }
            }
        }
        Ok(Problem {
            smoothing,
            weights,
            batch,
        })
    }

    /// The scheme and its parameters.
    pub fn smoothing(&self) -> &Smoothing {
        &self.smoothing
    }

    /// The weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The batch.
    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// The smoothed targets of row `row` in precision `F`.
    ///
    /// # Errors
    /// [`Error::RowOutOfRange`].
    pub fn targets<F: Precision>(&self, row: usize) -> Result<Vec<F>, Error> {
        Ok(self.smoothing.targets(self.labels(row)?))
    }

    /// The per-row loss of row `row` at logits `z` (any point, not only the batch's), in any
    /// number type of num-dual: `f32`, `f64` or a dual number, whose derivative parts then
    /// carry the derivatives of the loss.
    ///
    /// # Errors
    /// [`Error::RowOutOfRange`]; [`Error::PointLength`] when `z` is not of length N.
    pub fn loss_at<T>(&self, row: usize, z: &[T]) -> Result<T, Error>
    where
        T: DualNum,
        T::Primitive: Precision,
    {
        let data = self.row_data::<T::Primitive>(row, z.len())?;
        Ok(data.terms(self.smoothing.scheme().family()).loss(z))
    }

    /// The closed-form gradient of [`Problem::loss_at`] with respect to `z`.
    ///
    /// # Errors
    /// As [`Problem::loss_at`].
    pub fn gradient_at<T>(&self, row: usize, z: &[T]) -> Result<Vec<T>, Error>
    where
        T: DualNum,
        T::Primitive: Precision,
    {
        let data = self.row_data::<T::Primitive>(row, z.len())?;
        Ok(data.terms(self.smoothing.scheme().family()).gradient(z))
    }

    /// Targets, loss and gradient of every row at the batch's logits rounded to `F`, with the
    /// parameters rounded once to `F`.
    pub fn evaluate<F: Precision>(&self) -> Evaluation<F> {
        let family = self.smoothing.scheme().family();
        let rows = (0..self.batch.rows())
            .map(|row| {
                let z: Vec<F> = self
                    .batch
                    .logits(row)
                    .iter()
                    .map(|&x| F::round_from(x))
                    .collect();
                let data = self.row_data_unchecked::<F>(row);
                let terms = data.terms(family);
                RowValues {
                    loss: terms.loss(&z),
                    gradient: terms.gradient(&z),
                    targets: data.targets,
                }
            })
            .collect();
        Evaluation { rows }
    }

    /// What the sum of per-row losses is divided by under `reduction`, exactly in `K`
    /// (`None` for [`Reduction::None`]).
    ///
    /// # Errors
    /// [`Error::ReductionNotApplicable`] for [`Reduction::WeightedMean`] outside the softmax
    /// family, with a row of several positives, or with a zero sum of weights.
    pub(crate) fn divisor<K: Field>(
        &self,
        reduction: Reduction,
        weight: impl Fn(&Param) -> K,
    ) -> Result<Option<K>, Error> {
        let (rows, classes) = (self.batch.rows(), self.batch.classes());
        Ok(match reduction {
            Reduction::None => None,
            Reduction::Sum => Some(K::from_count(1)),
            Reduction::MeanOverRows => Some(K::from_count(rows)),
            Reduction::MeanOverElements => Some(K::from_count(rows * classes)),
            Reduction::WeightedMean => Some(self.weighted_mean_divisor(weight)?),
        })
    }

    fn weighted_mean_divisor<K: Field>(&self, weight: impl Fn(&Param) -> K) -> Result<K, Error> {
        let not_applicable = |reason: String| Error::ReductionNotApplicable {
            reduction: Reduction::WeightedMean.name(),
            reason,
        };
        if self.smoothing.scheme().family() != Family::Softmax {
            return Err(not_applicable(format!(
                "{} is not in the softmax family",
                self.smoothing.scheme()
            )));
        }
        let mut total = K::from_count(0);
        let mut positive = false;
        for row in 0..self.batch.rows() {
            let labels = self.batch.labels(row);
            let mut hits = labels.iter().enumerate().filter(|(_, y)| **y);
            let (Some((k, _)), None) = (hits.next(), hits.next()) else {
                return Err(not_applicable(format!(
                    "row {row} has several positive labels; the weighted mean needs one per row"
                )));
            };
            match self.weights.class.as_ref().and_then(|w| w.get(k)) {
                Some(w) => {
                    positive |= w.value() > 0.0;
                    total = total + weight(w);
                }
                None => {
                    positive = true;
                    total = total + K::from_count(1);
                }
            }
        }
        if !positive {
            return Err(not_applicable(
                "the rows' true-class weights sum to 0".to_owned(),
            ));
        }
        Ok(total)
    }

    /// The loss under `reduction` and its gradient with respect to all B x N logits
    /// (row-major), from an evaluation of this problem. For [`Reduction::None`] the loss has
    /// one entry per row and the gradient is unscaled.
    ///
    /// # Errors
    /// As for the divisor: [`Error::ReductionNotApplicable`].
    pub fn reduce<F: Precision>(
        &self,
        evaluation: &Evaluation<F>,
        reduction: Reduction,
    ) -> Result<(Vec<F>, Vec<F>), Error> {
        let divisor = self.divisor(reduction, |p: &Param| <F as Precision>::from_param(p))?;
        let gradient = evaluation
            .rows
            .iter()
            .flat_map(|r| r.gradient.iter().copied());
        Ok(match divisor {
            None => (
                evaluation.rows.iter().map(|r| r.loss).collect(),
                gradient.collect(),
            ),
            Some(d) => {
                let total = evaluation.rows.iter().fold(F::zero(), |s, r| s + r.loss);
                (vec![total / d], gradient.map(|g| g / d).collect())
            }
        })
    }

    fn labels(&self, row: usize) -> Result<&[bool], Error> {
        if row < self.batch.rows() {
            Ok(self.batch.labels(row))
        } else {
            Err(Error::RowOutOfRange {
                row,
                rows: self.batch.rows(),
            })
        }
    }

    fn row_data<F: Precision>(&self, row: usize, len: usize) -> Result<RowData<F>, Error> {
        let classes = self.labels(row)?.len();
        if len != classes {
            return Err(Error::PointLength { len, classes });
        }
        Ok(self.row_data_unchecked(row))
    }

    /// Targets and weights of a row known to exist.
    fn row_data_unchecked<F: Precision>(&self, row: usize) -> RowData<F> {
        let labels = self.batch.labels(row);
        let convert = |w: &Option<Vec<Param>>| {
            w.as_ref().map(|w| {
                w.iter()
                    .map(<F as Precision>::from_param)
                    .collect::<Vec<F>>()
            })
        };
        RowData {
            targets: self.smoothing.targets(labels),
            complements: self.smoothing.complements(labels),
            class_weights: convert(&self.weights.class),
            pos_weight: convert(&self.weights.pos),
        }
    }
}

/// The owned data behind a [`RowTerms`].
struct RowData<F> {
    targets: Vec<F>,
    complements: Vec<F>,
    class_weights: Option<Vec<F>>,
    pos_weight: Option<Vec<F>>,
}

impl<F> RowData<F> {
    fn terms(&self, family: Family) -> RowTerms<'_, F> {
        RowTerms {
            family,
            targets: &self.targets,
            complements: &self.complements,
            class_weights: self.class_weights.as_deref(),
            pos_weight: self.pos_weight.as_deref(),
        }
    }
}
