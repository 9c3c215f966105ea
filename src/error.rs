//! The one error type of the crate.

use std::fmt;

use crate::scheme::Scheme;

/// Everything that can be wrong with the input to a loss.
///
/// Every variant names what is wrong: the parameter and its valid range, the row and column of
/// a bad entry, both lengths of a mismatch. Row and column indices are 0-based.
// The fields are named for what they hold; each variant's doc says what it means.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// No scheme of the catalog has this name.
    UnknownScheme { name: String },
    /// No reduction has this name.
    UnknownReduction { name: String },
    /// The scheme needs a parameter that was not given.
    MissingParameter {
        scheme: Scheme,
        parameter: &'static str,
    },
    /// A parameter given as text is not a plain decimal number such as `0.1` or `-2.5e-3`.
    InvalidDecimal { text: String },
    /// A parameter lies outside the scheme's valid range (`valid` spells the range out).
    ParameterOutOfRange {
        scheme: Scheme,
        parameter: &'static str,
        value: f64,
        valid: &'static str,
    },
    /// A vector parameter (prior, class weights, positive weights) has an entry that is not
    /// finite or is negative.
    InvalidEntry {
        parameter: &'static str,
        index: usize,
        value: f64,
    },
    /// The prior of `ml_prior` does not sum to 1.
    PriorNotNormalised { sum: f64, tolerance: f64 },
    /// A per-class vector does not have one entry per class.
    LengthMismatch {
        parameter: &'static str,
        len: usize,
        classes: usize,
    },
    /// A weight that the scheme's family does not use (`pos_weight` outside the sigmoid
    /// family, any weight for `zlpr`).
    WeightNotApplicable {
        scheme: Scheme,
        parameter: &'static str,
    },
    /// The batch has no rows, or its rows have no classes.
    EmptyBatch { rows: usize, classes: usize },
    /// The scheme needs more classes than the batch has (`others` divides by `N - 1`).
    TooFewClasses {
        scheme: Scheme,
        classes: usize,
        min: usize,
    },
    /// Logits and labels have different numbers of rows.
    RowCountMismatch { logits: usize, labels: usize },
    /// A row of `what` (`"logits"` or `"labels"`) has a length other than the first row's.
    RaggedRow {
        what: &'static str,
        row: usize,
        len: usize,
        expected: usize,
    },
    /// A label is neither 0 nor 1.
    InvalidLabel {
        row: usize,
        column: usize,
        value: String,
    },
    /// A softmax-family row has no positive label, so its target is undefined.
    NoPositiveLabel { scheme: Scheme, row: usize },
    /// A single-label scheme got a row with several positive labels.
    SeveralPositives {
        scheme: Scheme,
        row: usize,
        positives: usize,
    },
    /// A logit is NaN.
    NanLogit { row: usize, column: usize },
    /// A logit is infinite (see the crate docs for the policy).
    InfiniteLogit {
        row: usize,
        column: usize,
        value: f64,
    },
    /// A row index past the end of the batch.
    RowOutOfRange { row: usize, rows: usize },
    /// A point (logits at which to evaluate) with the wrong number of classes.
    PointLength { len: usize, classes: usize },
    /// The reduction does not apply to this problem (`reason` says why).
    ReductionNotApplicable {
        reduction: &'static str,
        reason: String,
    },
    /// An MPFR precision outside the supported range.
    PrecisionOutOfRange { bits: u32, min: u32, max: u32 },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownScheme { name } => {
                write!(f, "unknown scheme '{name}'; the catalog has: ")?;
                let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.name()).collect();
                write!(f, "{}", names.join(", "))
            }
            Error::UnknownReduction { name } => write!(
                f,
                "unknown reduction '{name}'; expected one of none, sum, mean_over_rows, \
                 mean_over_elements, weighted_mean"
            ),
            Error::MissingParameter { scheme, parameter } => {
                write!(f, "scheme {scheme} needs the parameter '{parameter}'")
            }
            Error::InvalidDecimal { text } => write!(
                f,
                "'{text}' is not a decimal number (expected digits with an optional sign, \
                 point and exponent, such as 0.1 or 2.5e-3)"
            ),
            Error::ParameterOutOfRange {
                scheme,
                parameter,
                value,
                valid,
            } => write!(
                f,
                "{parameter} = {value} is outside the valid range of {scheme}: {valid}"
            ),
            Error::InvalidEntry {
                parameter,
                index,
                value,
            } => write!(
                f,
                "{parameter}[{index}] = {value}: entries must be finite and non-negative"
            ),
            Error::PriorNotNormalised { sum, tolerance } => write!(
                f,
                "the prior sums to {sum}, not 1 (tolerance {tolerance:e}); ml_prior needs a \
                 class distribution"
            ),
            Error::LengthMismatch {
                parameter,
                len,
                classes,
            } => write!(
                f,
                "{parameter} has {len} entries but the batch has {classes} classes"
            ),
            Error::WeightNotApplicable { scheme, parameter } => {
                write!(f, "{parameter} does not apply to scheme {scheme}")
            }
            Error::EmptyBatch { rows, classes } => write!(
                f,
                "empty batch ({rows} rows of {classes} classes); need at least one row and \
                 one class"
            ),
            Error::TooFewClasses {
                scheme,
                classes,
                min,
            } => write!(
                f,
                "scheme {scheme} needs at least {min} classes, the batch has {classes}"
            ),
            Error::RowCountMismatch { logits, labels } => {
                write!(f, "logits have {logits} rows but labels have {labels}")
            }
            Error::RaggedRow {
                what,
                row,
                len,
                expected,
            } => write!(
                f,
                "{what} row {row} has {len} entries, expected {expected} like row 0"
            ),
            Error::InvalidLabel { row, column, value } => write!(
                f,
                "label at row {row}, column {column} is {value}; labels must be 0 or 1"
            ),
            Error::NoPositiveLabel { scheme, row } => write!(
                f,
                "row {row} has no positive label; the softmax-family scheme {scheme} needs \
                 at least one"
            ),
            Error::SeveralPositives {
                scheme,
                row,
                positives,
            } => write!(
                f,
                "row {row} has {positives} positive labels; the single-label scheme {scheme} \
                 needs exactly one (use ml_uniform, ml_complement or ml_prior)"
            ),
            Error::NanLogit { row, column } => {
                write!(f, "logit at row {row}, column {column} is NaN")
            }
            Error::InfiniteLogit { row, column, value } => write!(
                f,
                "logit at row {row}, column {column} is {value}; logits must be finite"
            ),
            Error::RowOutOfRange { row, rows } => {
                write!(f, "row {row} is out of range for a batch of {rows} rows")
            }
            Error::PointLength { len, classes } => write!(
                f,
                "the point has {len} logits but the problem has {classes} classes"
            ),
            Error::ReductionNotApplicable { reduction, reason } => {
                write!(f, "reduction {reduction} does not apply: {reason}")
            }
            Error::PrecisionOutOfRange { bits, min, max } => write!(
                f,
                "precision {bits} bits is outside the supported range [{min}, {max}]"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
