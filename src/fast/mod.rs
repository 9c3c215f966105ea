//! The production fast path: fused, vectorised, rayon-parallel loss and gradient.
//!
//! A [`Loss`] is built once from a validated [`Smoothing`], a [`Reduction`] and optional
//! [`Weights`]; each batch is then evaluated with [`Loss::forward`] (the loss) or
//! [`Loss::forward_backward`] (the loss and its gradient with respect to the logits, written
//! into a caller buffer and scaled for the reduction). Logits are `f32` or `f64`, row-major
//! `B x N`; labels are [`Dense`] (`u8`, `bool`, `f32` or `f64`, each 0 or 1) or sparse
//! [`Csr`] (per-row sorted positive class indices), for which no dense target row is ever
//! built. (A sparse row of at most 1,024 classes whose positives are too many for the runs
//! between them to pay is spelled out as a row of `bool` labels on the stack and takes the
//! dense kernel: the dense rows' speed and bits.)
//!
//! # Semantics
//! Exactly the crate's formulas (see the crate docs): the same targets, weights and
//! reductions as [`crate::Problem`] and the reference, evaluated by other means.
//! - Sigmoid family: one pass over the row, `softplus(±z)` and `sigmoid(z)` from one
//!   `exp(-|z|)` (computed for a block of 512 elements, then used for that block's loss and
//!   gradient): loss `p softplus(-z) + q softplus(z)`, gradient `q s - p (1 - s)`, with
//!   `p = w pi t` and `q = w (1 - t)` per-row closed forms. The loss term is evaluated as
//!   `c |z| + (p + q) log1p(e)`, `c` being `p` or `q` by the sign of `z` and
//!   `e = exp(-|z|)`, and the gradient as one multiply-add in `e/(1 + e)` (see the kernels).
//! - Softmax family: a pass for `m = max z` (its first index `j` is then found by a scan
//!   that stops there), a pass for `r = sum_{k != j} exp(z_k - m)` and `sum c_k (m - z_k)`
//!   (storing `exp(z_k - m)` into the gradient buffer), and, for the gradient, a pass
//!   `g_k = e_k S/(1+r) - c_k`; the target `c_k = w_k q_k` is a per-row closed form
//!   (`(1-eps)/n + eps/N` on positives of `ml_uniform`, ...), and without weights or a prior
//!   so is `S = sum c_k` (`n` positives and `N - n` negatives, exact products in `f64`).
//!   `g_j` is `(S - c_j - c_j r)/(1 + r)`, free of cancellation. Sparse rows compute the
//!   gradient as all negatives and patch their positives (their sums take the same order
//!   as dense rows', so short rows give the dense rows' bits); so do dense rows of 4,096
//!   classes or more with at most 32 positives, listed while their labels are counted. The
//!   loss `sum c_k (m - z_k) + S log1p(r)` is finished eight rows at a time, after the rows,
//!   so the logarithm's latency overlaps their work. Long `f32` rows (1,024 classes and
//!   more) whose maximum is in `[0, 64]` sum `exp(z)` unshifted and scale by `exp(-m)`
//!   afterwards; without weights or a prior they do so in one pass that also finds `m`
//!   (`fused_parts`): `r` is the full sum less `j`'s term, and `sum c_k (m - z_k)` comes from
//!   the sums of the logits over the negatives and over the positives.
//! - ZLPR: a pass for the largest term of each half, a pass for the sums of both halves, a
//!   pass for the gradient (which needs both sums: ZLPR cannot be one pass).
//!
//! `exp` and `log1p` are branch-free polynomials that vectorise (module `math`). Loss terms
//! are summed in lanes of the logits' precision with each addition's rounding error kept
//! (two-sum), and every block of 512 elements the lanes move into an `f64` compensated sum,
//! so the loss carries almost no summation error and the inner loop has no `f64` in it
//! (which would halve its vector width for `f32`). Should a lane overflow where the `f64`
//! sum would not (logits near `f32::MAX`), the row runs again with every term summed in
//! `f64`. Per-row scalars (`log1p(r)`, `S/(1+r)`) are `f64`; `log1p(r)` is the polynomial
//! too (libm's took a tenth of a short row's time).
//!
//! # Accuracy
//! [`ulp_budget`] gives the largest error of the per-row loss and of each gradient entry,
//! in ulps of the exact value of the same inputs (parameters rounded once to the logit
//! type), checked against the MPFR reference by `tests/fast_accuracy.rs`; gradient entries
//! within the same number of units of round-off of their larger term also pass (they cross
//! zero), as for [`crate::ulp_budget`].
//!
//! # Non-finite logits and invalid labels
//! Checking every logit with a branch would cost a compare per element, so the kernels let a
//! non-finite logit make a row's sum non-finite (the sigmoid loss terms carry NaN through `|z|`,
//! the softmax sum of `c (m - z)` is NaN or infinite), or accumulate `z - z` (0 for every finite
//! `z`, NaN otherwise) in lanes in ZLPR's first pass, and test once per row; only a row that fails
//! is scanned again to name the column. Labels are checked the same way (a lane-wise "invalid"
//! flag). Errors are [`Error::NanLogit`], [`Error::InfiniteLogit`], [`Error::InvalidLabel`],
//! [`Error::NoPositiveLabel`], [`Error::SeveralPositives`], for the lowest failing row whatever the
//! thread count. On error the gradient buffer holds unspecified (finite or not) values. Every
//! finite logit gives a finite loss and gradient wherever the exact value is representable.
//!
//! # Parallelism and determinism
//! Rows are split into fixed-size chunks (a fixed number of elements, independent of the
//! thread count) run by rayon; per-row losses are written to their slot and the reduction
//! sums them in row order, so results are bit-identical for any number of threads. Small
//! batches run on the calling thread.
//!
//! # Vectorisation
//! With [`Dispatch::Auto`] each chunk runs through `pulp`'s runtime dispatch, compiled for
//! AVX-512 or AVX2 with fused multiply-add where the CPU has them; [`Dispatch::Portable`] (or
//! the environment variable `LABELSMOOTH_PORTABLE=1`) runs the same code compiled for the
//! baseline target, without fused multiply-adds. The two may differ in the last bits; both
//! stay within [`ulp_budget`] (the tests run both), and each is bit-identical across thread
//! counts. AVX-512 and AVX2 give the same bits: under AVX-512 the last step of `exp` is one
//! `vscalef`, which rounds as the portable two-step scaling does (tested bit for bit). Long
//! softmax rows also ask for their gradient's lines ahead of their second pass's stores.
//!
//! # Example
//! ```
//! use labelsmooth::fast::{Dense, Loss};
//! use labelsmooth::{Reduction, Scheme, Smoothing, Weights};
//!
//! let smoothing = Smoothing::with_eps(Scheme::BceSymmetric, 0.1)?;
//! let loss = Loss::new(&smoothing, Reduction::MeanOverRows, &Weights::default())?;
//! let logits = [0.5f32, -2.0, 1.0, 3.0, 0.0, -1.0];
//! let labels = [1u8, 0, 1, 0, 0, 1];
//! let mut grad = [0f32; 6];
//! let value = loss.forward_backward(&logits, &Dense::new(3, &labels), &mut grad)?;
//! assert!(value.reduced().is_some_and(|l| l > 0.0));
//! # Ok::<(), labelsmooth::Error>(())
//! ```

pub mod budget;
mod isa;
mod kernel;
mod math;
#[cfg(all(feature = "shared-kernels", not(test)))]
pub mod shared;

#[cfg(target_arch = "x86_64")]
use pulp::Simd;
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use isa::{Avx2, Avx512};
use isa::{Baseline, Isa, split};

use crate::error::Error;
use crate::problem::{Reduction, Weights};
use crate::scheme::{Family, Param, Scheme, Smoothing, check_entries};

pub use budget::ulp_budget;
pub use kernel::DenseLabel;
pub use math::Real;

use kernel::{
    Acc, BinPlain, BinWeighted, Check, Const, Extremes, Half, RowFault, SoftPlain, SoftSums,
    SoftWeighted,
};

/// The smallest parallel chunk, in elements: on the 2-core machine of the README's
/// figures, two threads never lose to one from two chunks of this size up (1.0x at 2,560
/// elements, 1.1-1.75x at 4,000-20,000; `examples/throughput.rs` at 16-256 rows of 80 and
/// 4-16 rows of 1,000, chunks of 1,024 to 8,192 elements compared).
const CHUNK_MIN: usize = 1024;
/// The largest parallel chunk, in elements: big batches get chunks of this size, a few per
/// thread for balance without a task per handful of rows.
const CHUNK_MAX: usize = 8 * 1024;
/// Chunks per thread aimed at between the two sizes above.
const CHUNKS_PER_THREAD: usize = 4;

/// How the kernels are compiled and chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dispatch {
    /// The best instruction set the CPU has (AVX2/FMA on x86-64), unless the environment
    /// variable `LABELSMOOTH_PORTABLE` is `1`.
    #[default]
    Auto,
    /// The baseline target only (SSE2 on x86-64): the portable fallback.
    Portable,
}

/// Dense labels of a batch: `B x N` values, row-major, each 0 or 1.
#[derive(Debug, Clone, Copy)]
pub struct Dense<'a, L> {
    classes: usize,
    labels: &'a [L],
}

impl<'a, L: DenseLabel> Dense<'a, L> {
    /// `labels` as rows of `classes` entries (checked against the logits per batch).
    pub fn new(classes: usize, labels: &'a [L]) -> Self {
        Dense { classes, labels }
    }
}

/// Sparse labels: row `r`'s positive classes are `indices[offsets[r]..offsets[r + 1]]`,
/// strictly increasing and below `classes` (compressed sparse rows).
#[derive(Debug, Clone, Copy)]
pub struct Csr<'a> {
    classes: usize,
    offsets: &'a [usize],
    indices: &'a [u32],
}

impl<'a> Csr<'a> {
    /// Checks the structure: `offsets` starts at 0, never decreases and ends at
    /// `indices.len()`; each row's indices are strictly increasing and below `classes`.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] for no offsets; [`Error::LengthMismatch`] (parameter
    /// `"indices"`) when the last offset is not `indices.len()`; [`Error::InvalidLabel`]
    /// naming the row for offsets that decrease or reach past the indices (`column` is the
    /// position of the offending offset), or an index out of range, unsorted or repeated
    /// (`column` is the index).
    pub fn new(classes: usize, offsets: &'a [usize], indices: &'a [u32]) -> Result<Self, Error> {
        let Some((&first, _)) = offsets.split_first() else {
            return Err(Error::EmptyBatch { rows: 0, classes });
        };
        let last = offsets.last().copied().unwrap_or(0);
        if first != 0 || last != indices.len() {
            return Err(Error::LengthMismatch {
                parameter: "indices",
                len: indices.len(),
                classes: last.saturating_sub(first),
            });
        }
        for (row, pair) in offsets.windows(2).enumerate() {
            let (a, b) = (pair[0], pair[1]);
            let Some(row_indices) = indices.get(a..b) else {
                return Err(Error::InvalidLabel {
                    row,
                    column: row + 1,
                    value: format!(
                        "offsets {a}..{b} decrease or reach past the {} indices",
                        indices.len()
                    ),
                });
            };
            let mut previous: Option<u32> = None;
            for &k in row_indices {
                let column = k as usize;
                if column >= classes {
                    return Err(Error::InvalidLabel {
                        row,
                        column,
                        value: format!("index {k} out of range for {classes} classes"),
                    });
                }
                if previous.is_some_and(|p| p >= k) {
                    return Err(Error::InvalidLabel {
                        row,
                        column,
                        value: format!("index {k} not above the previous index of the row"),
                    });
                }
                previous = Some(k);
            }
        }
        Ok(Csr {
            classes,
            offsets,
            indices,
        })
    }

    /// The positive classes of row `row` (empty past the end).
    pub fn row(&self, row: usize) -> &'a [u32] {
        match (self.offsets.get(row), self.offsets.get(row + 1)) {
            (Some(&a), Some(&b)) => self.indices.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// One row's labels as the kernels see them.
#[derive(Clone, Copy)]
enum RowRef<'a, L> {
    Dense(&'a [L]),
    Sparse(&'a [u32]),
}

mod sealed {
    pub trait Sealed {}
}

/// Labels of a batch: [`Dense`] or [`Csr`].
pub trait Labels: Sync + sealed::Sealed {
    /// The dense label type (`bool` for sparse labels, unused).
    #[doc(hidden)]
    type Item: DenseLabel;
    /// N.
    fn classes(&self) -> usize;
    /// B, or `None` when the dense length is not a whole number of rows (the length of the
    /// short last row is then `len % N`).
    fn rows(&self) -> Result<usize, usize>;
    #[doc(hidden)]
    #[allow(private_interfaces)]
    fn row(&self, row: usize) -> RowRef<'_, Self::Item>;
}

impl<L: DenseLabel> sealed::Sealed for Dense<'_, L> {}
impl sealed::Sealed for Csr<'_> {}

impl<L: DenseLabel> Labels for Dense<'_, L> {
    type Item = L;
    fn classes(&self) -> usize {
        self.classes
    }
    fn rows(&self) -> Result<usize, usize> {
        match self.labels.len().checked_rem(self.classes) {
            Some(0) => Ok(self.labels.len() / self.classes),
            Some(rest) => Err(rest),
            None => Ok(0),
        }
    }
    #[allow(private_interfaces)]
    fn row(&self, row: usize) -> RowRef<'_, L> {
        let start = row * self.classes;
        RowRef::Dense(self.labels.get(start..start + self.classes).unwrap_or(&[]))
    }
}

impl Labels for Csr<'_> {
    type Item = bool;
    fn classes(&self) -> usize {
        self.classes
    }
    fn rows(&self) -> Result<usize, usize> {
        Ok(self.offsets.len() - 1)
    }
    #[allow(private_interfaces)]
    fn row(&self, row: usize) -> RowRef<'_, bool> {
        RowRef::Sparse(Csr::row(self, row))
    }
}

/// The loss of a batch: one value under a reduction, or one per row under
/// [`Reduction::None`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value<T> {
    /// The reduced loss.
    Reduced(T),
    /// One loss per row.
    PerRow(Vec<T>),
}

impl<T: Copy> Value<T> {
    /// The reduced loss (`None` for per-row values).
    pub fn reduced(&self) -> Option<T> {
        match self {
            Value::Reduced(v) => Some(*v),
            Value::PerRow(_) => None,
        }
    }

    /// The per-row losses (`None` for a reduced value).
    pub fn per_row(&self) -> Option<&[T]> {
        match self {
            Value::Reduced(_) => None,
            Value::PerRow(v) => Some(v),
        }
    }
}

/// Per-class data of one precision, rounded once from the parameters.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct ClassData<T> {
    eps: f64,
    alpha: f64,
    beta: f64,
    class: Option<Vec<T>>,
    pos: Option<Vec<T>>,
    /// `eps u_k` of `ml_prior`.
    prior: Option<Vec<T>>,
}

impl<T: Real> ClassData<T> {
    fn new(smoothing: &Smoothing, weights: &Weights) -> Self {
        let round = |p: &Param| T::from_param(p);
        let eps = round(smoothing.eps()).to_f64();
        let vector = |w: &Option<Vec<Param>>| w.as_ref().map(|w| w.iter().map(round).collect());
        let prior = (smoothing.scheme() == Scheme::MlPrior).then(|| {
            smoothing
                .prior()
                .iter()
                .map(|u| T::from_f64(eps * round(u).to_f64()))
                .collect()
        });
        ClassData {
            eps,
            alpha: round(smoothing.alpha()).to_f64(),
            beta: round(smoothing.beta()).to_f64(),
            class: vector(&weights.class),
            pos: vector(&weights.pos),
            prior,
        }
    }
}

/// Which precision's class data a logit type reads.
#[doc(hidden)]
pub trait Precise: Real {
    fn data(loss: &Loss) -> &ClassData<Self>;
}

impl Precise for f32 {
    fn data(loss: &Loss) -> &ClassData<f32> {
        &loss.data32
    }
}

impl Precise for f64 {
    fn data(loss: &Loss) -> &ClassData<f64> {
        &loss.data64
    }
}

/// A smoothed multi-label loss, validated once and evaluated per batch.
#[derive(Debug, Clone)]
pub struct Loss {
    scheme: Scheme,
    reduction: Reduction,
    /// N, when a per-class vector fixes it.
    classes: Option<(usize, &'static str)>,
    data32: ClassData<f32>,
    data64: ClassData<f64>,
    dispatch: Dispatch,
}

impl Loss {
    /// Validates the weights and reduction against the scheme.
    ///
    /// # Errors
    /// [`Error::WeightNotApplicable`] for positive weights outside the sigmoid family or any
    /// weight with `zlpr`; [`Error::InvalidEntry`] for a negative or non-finite weight;
    /// [`Error::LengthMismatch`] when the class weights, positive weights and prior differ
    /// in length; [`Error::ReductionNotApplicable`] for [`Reduction::WeightedMean`] outside
    /// the softmax family.
    pub fn new(
        smoothing: &Smoothing,
        reduction: Reduction,
        weights: &Weights,
    ) -> Result<Self, Error> {
        let scheme = smoothing.scheme();
        let family = scheme.family();
        let mut classes: Option<(usize, &'static str)> = None;
        if scheme == Scheme::MlPrior {
            classes = Some((smoothing.prior().len(), "prior"));
        }
        for (parameter, entries, applies) in [
            ("class_weights", &weights.class, family != Family::Zlpr),
            ("pos_weight", &weights.pos, family == Family::Sigmoid),
        ] {
            if let Some(entries) = entries {
                if !applies {
                    return Err(Error::WeightNotApplicable { scheme, parameter });
                }
                check_entries(parameter, entries)?;
                match classes {
                    Some((n, _)) if n != entries.len() => {
                        return Err(Error::LengthMismatch {
                            parameter,
                            len: entries.len(),
                            classes: n,
                        });
                    }
                    _ => classes = Some((entries.len(), parameter)),
                }
            }
        }
        if reduction == Reduction::WeightedMean && family != Family::Softmax {
            return Err(Error::ReductionNotApplicable {
                reduction: reduction.name(),
                reason: format!("{scheme} is not in the softmax family"),
            });
        }
        let dispatch = match std::env::var("LABELSMOOTH_PORTABLE").as_deref() {
            Ok("1") => Dispatch::Portable,
            _ => Dispatch::Auto,
        };
        Ok(Loss {
            scheme,
            reduction,
            classes,
            data32: ClassData::new(smoothing, weights),
            data64: ClassData::new(smoothing, weights),
            dispatch,
        })
    }

    /// The same loss with the given dispatch.
    #[must_use]
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Self {
        self.dispatch = dispatch;
        self
    }

    /// The dispatch in use.
    pub fn dispatch(&self) -> Dispatch {
        self.dispatch
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The reduction.
    pub fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// The loss of a batch: `logits` row-major `B x N`, `labels` with the same `B` and `N`.
    ///
    /// # Errors
    /// Shapes: [`Error::EmptyBatch`], [`Error::RaggedRow`], [`Error::RowCountMismatch`],
    /// [`Error::LengthMismatch`] (per-class vectors of another N), [`Error::TooFewClasses`].
    /// Values: [`Error::NanLogit`], [`Error::InfiniteLogit`], [`Error::InvalidLabel`],
    /// [`Error::NoPositiveLabel`], [`Error::SeveralPositives`]; and
    /// [`Error::ReductionNotApplicable`] for a weighted mean over rows with several positives
    /// or true-class weights summing to 0.
    pub fn forward<T: Precise, Y: Labels>(
        &self,
        logits: &[T],
        labels: &Y,
    ) -> Result<Value<T>, Error> {
        self.run::<T, Y, false>(logits, labels, &mut [])
    }

    /// The loss of a batch and its gradient with respect to the logits, written into `grad`
    /// (as long as `logits`), scaled for the reduction (unscaled per-row gradients for
    /// [`Reduction::None`]).
    ///
    /// # Errors
    /// As [`Loss::forward`]; [`Error::LengthMismatch`] (parameter `"gradient"`, `classes`
    /// holding the expected length) when `grad` is not as long as `logits`.
    pub fn forward_backward<T: Precise, Y: Labels>(
        &self,
        logits: &[T],
        labels: &Y,
        grad: &mut [T],
    ) -> Result<Value<T>, Error> {
        if grad.len() != logits.len() {
            return Err(Error::LengthMismatch {
                parameter: "gradient",
                len: grad.len(),
                classes: logits.len(),
            });
        }
        self.run::<T, Y, true>(logits, labels, grad)
    }

    fn run<T: Precise, Y: Labels, const BACK: bool>(
        &self,
        logits: &[T],
        labels: &Y,
        grad: &mut [T],
    ) -> Result<Value<T>, Error> {
        let classes = labels.classes();
        let scheme = self.scheme;
        if classes == 0 || logits.is_empty() {
            return Err(Error::EmptyBatch {
                rows: logits.len().checked_div(classes).unwrap_or(0),
                classes,
            });
        }
        if !logits.len().is_multiple_of(classes) {
            return Err(Error::RaggedRow {
                what: "logits",
                row: logits.len() / classes,
                len: logits.len() % classes,
                expected: classes,
            });
        }
        let rows = logits.len() / classes;
        let label_rows = labels.rows().map_err(|len| Error::RaggedRow {
            what: "labels",
            row: rows,
            len,
            expected: classes,
        })?;
        if label_rows != rows {
            return Err(Error::RowCountMismatch {
                logits: rows,
                labels: label_rows,
            });
        }
        if let Some((n, parameter)) = self.classes.filter(|&(n, _)| n != classes) {
            return Err(Error::LengthMismatch {
                parameter,
                len: n,
                classes,
            });
        }
        if classes < scheme.min_classes() {
            return Err(Error::TooFewClasses {
                scheme,
                classes,
                min: scheme.min_classes(),
            });
        }
        let data = T::data(self);
        let divisor = match self.reduction {
            Reduction::None => None,
            Reduction::Sum => Some(1.0),
            Reduction::MeanOverRows => Some(rows as f64),
            Reduction::MeanOverElements => Some(rows as f64 * classes as f64),
            Reduction::WeightedMean => Some(self.weighted_divisor(data, labels, rows)?),
        };
        let scale = divisor.map_or(1.0, |d| 1.0 / d);
        let ctx = Ctx::new(scheme, data, classes, scale);
        let mut losses = vec![0.0f64; rows];
        // Rows are never split and every row's loss is its own slot, summed in row order
        // below: the chunking changes no bit of the result, only the speed.
        let threads = rayon::current_num_threads();
        let chunk_elements =
            (rows * classes / (CHUNKS_PER_THREAD * threads)).clamp(CHUNK_MIN, CHUNK_MAX);
        let rows_per_chunk = (chunk_elements / classes).max(1);
        let chunk = |first: usize, out: &mut [f64], g: &mut [T]| -> Result<(), (usize, Error)> {
            self.chunk::<T, Y, BACK>(&ctx, logits, labels, first, out, g)
        };
        let parallel = rows > rows_per_chunk && rows * classes >= 2 * CHUNK_MIN && threads > 1;
        let failure = if !parallel {
            chunk(0, &mut losses, grad).err()
        } else if BACK {
            losses
                .par_chunks_mut(rows_per_chunk)
                .zip(grad.par_chunks_mut(rows_per_chunk * classes))
                .enumerate()
                .filter_map(|(i, (out, g))| chunk(i * rows_per_chunk, out, g).err())
                .min_by_key(|(row, _)| *row)
        } else {
            losses
                .par_chunks_mut(rows_per_chunk)
                .enumerate()
                .filter_map(|(i, out)| chunk(i * rows_per_chunk, out, &mut []).err())
                .min_by_key(|(row, _)| *row)
        };
        if let Some((_, error)) = failure {
            return Err(error);
        }
        Ok(match divisor {
            None => Value::PerRow(losses.into_iter().map(T::from_f64).collect()),
            Some(d) => {
                let mut total = Acc::new();
                for l in losses {
                    total.add(l);
                }
                Value::Reduced(T::from_f64(total.total() / d))
            }
        })
    }

    /// The sum over rows of the true class's weight.
    fn weighted_divisor<T: Real, Y: Labels>(
        &self,
        data: &ClassData<T>,
        labels: &Y,
        rows: usize,
    ) -> Result<f64, Error> {
        let not_applicable = |reason: String| Error::ReductionNotApplicable {
            reduction: Reduction::WeightedMean.name(),
            reason,
        };
        let mut total = Acc::new();
        let mut positive = false;
        for row in 0..rows {
            let several = || {
                not_applicable(format!(
                    "row {row} has several positive labels; the weighted mean needs one per row"
                ))
            };
            let k = match labels.row(row) {
                RowRef::Sparse(&[k]) => k as usize,
                RowRef::Sparse([]) => {
                    return Err(Error::NoPositiveLabel {
                        scheme: self.scheme,
                        row,
                    });
                }
                RowRef::Sparse(_) => return Err(several()),
                RowRef::Dense(y) => {
                    if let Some(column) = y.iter().position(|v| !v.valid()) {
                        return Err(Error::InvalidLabel {
                            row,
                            column,
                            value: y[column].describe(),
                        });
                    }
                    let mut hits = y.iter().enumerate().filter(|(_, v)| v.positive());
                    match (hits.next(), hits.next()) {
                        (Some((k, _)), None) => k,
                        (None, _) => {
                            return Err(Error::NoPositiveLabel {
                                scheme: self.scheme,
                                row,
                            });
                        }
                        _ => return Err(several()),
                    }
                }
            };
            let w = data
                .class
                .as_ref()
                .and_then(|w| w.get(k))
                .map_or(1.0, |w| w.to_f64());
            positive |= w > 0.0;
            total.add(w);
        }
        if !positive {
            return Err(not_applicable(
                "the rows' true-class weights sum to 0".to_owned(),
            ));
        }
        Ok(total.total())
    }

    fn chunk<T: Precise, Y: Labels, const BACK: bool>(
        &self,
        ctx: &Ctx<'_, T>,
        logits: &[T],
        labels: &Y,
        first: usize,
        out: &mut [f64],
        grad: &mut [T],
    ) -> Result<(), (usize, Error)> {
        macro_rules! op {
            ($fma:literal, $isa:expr, $family:ident) => {
                ChunkOp::<T, Y, _, BACK, $fma, $family> {
                    ctx,
                    isa: $isa,
                    logits,
                    labels,
                    first,
                    out,
                    grad,
                }
            };
        }
        macro_rules! dispatch {
            ($family:ident) => {
                match (self.dispatch, Level::detect()) {
                    (Dispatch::Portable, _) => op!(false, Baseline, $family).run(),
                    #[cfg(target_arch = "x86_64")]
                    (Dispatch::Auto, Level::V4(simd)) => {
                        Simd::vectorize(simd, op!(true, Avx512(simd), $family))
                    }
                    #[cfg(target_arch = "x86_64")]
                    (Dispatch::Auto, Level::V3(simd)) => {
                        Simd::vectorize(simd, op!(true, Avx2(simd), $family))
                    }
                    // Without AVX2 the portable code, compiled for the baseline target (as
                    // `pulp::Arch::dispatch` would run it, from three more copies of the
                    // code).
                    (Dispatch::Auto, _) => op!(false, Baseline, $family).run(),
                }
            };
        }
        // A function per family, under each dispatch: one with all three took LLVM about
        // twice as long (its loop passes cost more the larger the function around a loop).
        let fault = match ctx.scheme.family() {
            Family::Sigmoid => dispatch!(SIGMOID),
            Family::Softmax => dispatch!(SOFTMAX),
            Family::Zlpr => dispatch!(ZLPR),
        };
        match fault {
            Ok(()) => Ok(()),
            Err((row, fault)) => {
                let n = ctx.classes;
                let z = logits.get(row * n..(row + 1) * n).unwrap_or(&[]);
                Err((row, self.describe(fault, row, z, labels.row(row))))
            }
        }
    }

    /// The typed error of a row fault, naming the column where there is one.
    fn describe<T: Real, L: DenseLabel>(
        &self,
        fault: RowFault,
        row: usize,
        z: &[T],
        labels: RowRef<'_, L>,
    ) -> Error {
        let scheme = self.scheme;
        match fault {
            RowFault::NonFinite => {
                let column = z
                    .iter()
                    .position(|x| x.abs().partial_cmp(&T::MAX).is_none_or(|o| o.is_gt()))
                    .unwrap_or_default();
                let value = z.get(column).map_or(f64::NAN, |x| x.to_f64());
                if value.is_nan() {
                    Error::NanLogit { row, column }
                } else {
                    Error::InfiniteLogit { row, column, value }
                }
            }
            RowFault::BadLabel => {
                let (column, value) = match labels {
                    RowRef::Dense(y) => {
                        let column = y.iter().position(|v| !v.valid()).unwrap_or_default();
                        (
                            column,
                            y.get(column).map(|v| v.describe()).unwrap_or_default(),
                        )
                    }
                    RowRef::Sparse(_) => (0, String::new()),
                };
                Error::InvalidLabel { row, column, value }
            }
            RowFault::NoPositive => Error::NoPositiveLabel { scheme, row },
            RowFault::Several(positives) => Error::SeveralPositives {
                scheme,
                row,
                positives,
            },
        }
    }
}

/// Everything a row kernel needs besides the row.
struct Ctx<'a, T> {
    scheme: Scheme,
    classes: usize,
    /// `1 / divisor` of the reduction.
    scale: f64,
    class: Option<&'a [T]>,
    pos: Option<&'a [T]>,
    prior: Option<&'a [T]>,
    eps: f64,
    /// Sigmoid family and ZLPR: `(taken, given)`, targets `1 - taken` and `given`.
    shifts: (f64, f64),
}

impl<'a, T: Real> Ctx<'a, T> {
    fn new(scheme: Scheme, data: &'a ClassData<T>, classes: usize, scale: f64) -> Self {
        let eps = data.eps;
        let big_n = classes as f64;
        let shifts = match scheme {
            Scheme::BceHalf => (eps / 2.0, eps / 2.0),
            Scheme::BcePerClass => (eps - eps / big_n, eps / big_n),
            Scheme::BceSymmetric => (eps, eps),
            _ => (data.alpha, data.beta),
        };
        Ctx {
            scheme,
            classes,
            scale,
            class: data.class.as_deref(),
            pos: data.pos.as_deref(),
            prior: data.prior.as_deref(),
            eps,
            shifts,
        }
    }

    /// `(pos, neg)` targets of a softmax-family row with `n` positives.
    fn soft_targets(&self, n: usize) -> (f64, f64) {
        let (eps, big_n, nf) = (self.eps, self.classes as f64, n as f64);
        match self.scheme {
            Scheme::Uniform => ((1.0 - eps) + eps / big_n, eps / big_n),
            Scheme::Others => (
                1.0 - eps,
                eps / (self.classes.saturating_sub(1).max(1) as f64),
            ),
            Scheme::ClassyVision => {
                let neg = eps / big_n;
                ((1.0 + neg) / (1.0 + eps), neg / (1.0 + eps))
            }
            Scheme::MlComplement if n == self.classes => (1.0 / nf, 0.0),
            Scheme::MlComplement => ((1.0 - eps) / nf, eps / (big_n - nf)),
            // ml_uniform; ml_prior's positive share (its eps u_k is per class).
            Scheme::MlPrior => ((1.0 - eps) / nf, 0.0),
            _ => ((1.0 - eps) / nf + eps / big_n, eps / big_n),
        }
    }
}

/// The instruction sets with fused multiply-add that the kernels use when the CPU has them.
enum Level {
    #[cfg(target_arch = "x86_64")]
    V4(pulp::x86::V4),
    #[cfg(target_arch = "x86_64")]
    V3(pulp::x86::V3),
    Other,
}

impl Level {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(simd) = pulp::x86::V4::try_new() {
                return Level::V4(simd);
            }
            if let Some(simd) = pulp::x86::V3::try_new() {
                return Level::V3(simd);
            }
        }
        Level::Other
    }
}

/// The families as [`ChunkOp`]'s parameter `FAMILY` (ZLPR: any other value).
const SIGMOID: u8 = 0;
const SOFTMAX: u8 = 1;
const ZLPR: u8 = 2;

/// A chunk of rows, run under `pulp`'s dispatch.
struct ChunkOp<'a, 'c, T, Y, I, const BACK: bool, const FMA: bool, const FAMILY: u8> {
    ctx: &'a Ctx<'c, T>,
    isa: I,
    logits: &'a [T],
    labels: &'a Y,
    first: usize,
    out: &'a mut [f64],
    grad: &'a mut [T],
}

impl<T: Real, Y: Labels, I: Isa, const BACK: bool, const FMA: bool, const FAMILY: u8> pulp::WithSimd
    for ChunkOp<'_, '_, T, Y, I, BACK, FMA, FAMILY>
{
    type Output = Result<(), (usize, RowFault)>;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> Self::Output {
        self.run()
    }
}

impl<T: Real, Y: Labels, I: Isa, const BACK: bool, const FMA: bool, const FAMILY: u8>
    ChunkOp<'_, '_, T, Y, I, BACK, FMA, FAMILY>
{
    #[inline(always)]
    fn run(self) -> Result<(), (usize, RowFault)> {
        let n = self.ctx.classes;
        let mut parts = [SoftParts::default(); SOFT_GROUP];
        let mut expanded = [false; EXPAND];
        // The sigmoid and softmax rows' scratch, on a cache line's boundary: a 64-byte vector
        // of it then never straddles two lines (unaligned, it cost long softmax rows 3-7%
        // forward and backward under AVX-512, once the chunk function was per family).
        #[repr(C, align(64))]
        struct Scratch<T>([T; kernel::BLOCK_ELEMENTS]);
        let mut scratch = Scratch([T::ZERO; kernel::BLOCK_ELEMENTS]);
        let exps = &mut scratch.0;
        // Whether the last long softmax row missed the fused pass (a hint, see
        // `softmax_row`: it changes no row's bits).
        let mut missed = false;
        for (gi, group) in self.out.chunks_mut(SOFT_GROUP).enumerate() {
            for i in 0..group.len() {
                let local = gi * SOFT_GROUP + i;
                let row = self.first + local;
                let z = &self.logits[row * n..(row + 1) * n];
                let g: &mut [T] = if BACK {
                    &mut self.grad[local * n..(local + 1) * n]
                } else {
                    &mut []
                };
                let y = self.labels.row(row);
                let value = match y {
                    // A short sparse row that would look its labels up chunk by chunk is
                    // spelled out as dense labels on the stack instead: the dense kernel's
                    // speed and, by construction, its bits.
                    RowRef::Sparse(positives) if n <= EXPAND && !takes_runs(n, positives) => {
                        mark(&mut expanded, positives, true);
                        let y = RowRef::Dense(&expanded[..n]);
                        let count = Some(positives.len());
                        let value =
                            Self::row_value(self.ctx, self.isa, z, g, y, count, exps, &mut missed);
                        mark(&mut expanded, positives, false);
                        value
                    }
                    y => Self::row_value(self.ctx, self.isa, z, g, y, None, exps, &mut missed),
                }
                .map(|value| match value {
                    RowValue::Loss(loss) => loss,
                    // Its loss is written after the group, below.
                    RowValue::Soft(p) => {
                        parts[i] = p;
                        0.0
                    }
                });
                group[i] = value.map_err(|fault| (row, fault))?;
            }
            // A softmax row's logarithm, taken after its group: its latency (a division
            // and a polynomial, a sixth of a short row's time) then overlaps other rows.
            if FAMILY == SOFTMAX {
                for (loss, p) in group.iter_mut().zip(&parts) {
                    *loss = p.loss::<FMA>();
                }
            }
        }
        Ok(())
    }

    /// One row's loss, or a softmax row's parts of it; `count` is the number of positives
    /// when it is known (a sparse row spelled out as dense labels), `exps` the sigmoid and
    /// softmax rows' scratch.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn row_value<L: DenseLabel>(
        ctx: &Ctx<'_, T>,
        isa: I,
        z: &[T],
        g: &mut [T],
        y: RowRef<'_, L>,
        count: Option<usize>,
        exps: &mut [T; kernel::BLOCK_ELEMENTS],
        missed: &mut bool,
    ) -> Result<RowValue, RowFault> {
        match FAMILY {
            SIGMOID => split!(
                I,
                sigmoid_row::<T, _, I, BACK, FMA>(ctx, isa, z, g, y, exps)
            )
            .map(RowValue::Loss),
            SOFTMAX => split!(
                I,
                softmax_row::<T, _, I, BACK, FMA>(ctx, isa, z, g, y, count, exps, missed)
            )
            .map(RowValue::Soft),
            _ => split!(I, zlpr_row::<T, _, I, BACK, FMA>(ctx, z, g, y)).map(RowValue::Loss),
        }
    }
}

/// What [`ChunkOp::row_value`] gives.
enum RowValue {
    Loss(f64),
    Soft(SoftParts),
}

/// Sparse rows up to this long that would look their labels up chunk by chunk run as dense
/// labels, see [`ChunkOp::run`] (a kibibyte on the stack).
const EXPAND: usize = 1024;

/// Dense sigmoid and softmax rows at least this long list their positives, when they have
/// at most [`kernel::PATCHED`], and run as sparse rows: passes without label reads, see
/// `sigmoid_row` and `softmax_row` (measured: on 80-class softmax rows the listing cost more
/// than it saved, 1.0 against 0.5 ns per element).
const LIST_ROW: usize = 4096;

/// Softmax rows at least this long may sum `exp(z)` unshifted, see `softmax_row` (measured:
/// on 80-class rows the per-row `exp(-m)` and check cost more than it saved, 0.75 against
/// 0.70 ns per element forward and backward; on 100000-class rows 12% faster).
const UNSHIFTED_ROW: usize = 1024;

/// Softmax rows whose losses are finished together, see [`ChunkOp::run`].
const SOFT_GROUP: usize = 8;

/// The parts of a softmax row's loss `linear + total ln(1 + rest)`.
#[derive(Clone, Copy, Default)]
struct SoftParts {
    linear: f64,
    total: f64,
    rest: f64,
}

impl SoftParts {
    #[inline(always)]
    fn loss<const FMA: bool>(self) -> f64 {
        self.linear + self.total * math::ln_1p_f64::<FMA>(self.rest)
    }
}

/// Runs `body` over the segments of a row: the whole row with its dense labels; for sparse
/// labels either the runs between positives and the positives themselves (long runs) or the
/// whole row with a per-chunk lookup of the positives.
macro_rules! segments {
    ($isa:ty, $labels:expr, $n:expr, |$range:ident, $src:ident| $body:expr) => {
        match $labels {
            RowRef::Dense(y) => {
                let $range = 0..$n;
                let $src = kernel::Dense(y);
                split!($isa, $body);
            }
            // Few positives in a long row: runs of negatives between them, no label reads.
            RowRef::Sparse(positives) if takes_runs($n, positives) => {
                let mut previous = 0usize;
                for &p in positives {
                    let p = p as usize;
                    {
                        let $range = previous..p;
                        let $src = Const(false);
                        split!($isa, $body);
                    }
                    {
                        let $range = p..p + 1;
                        let $src = Const(true);
                        split!($isa, $body);
                    }
                    previous = p + 1;
                }
                let $range = previous..$n;
                let $src = Const(false);
                split!($isa, $body);
            }
            // Otherwise the whole row, each chunk's labels looked up in the sorted indices.
            RowRef::Sparse(positives) => {
                let $range = 0..$n;
                let $src = kernel::Sparse(positives);
                split!($isa, $body);
            }
        }
    };
}

/// Sparse rows whose average run of negatives is at least this long are processed run by
/// run; shorter runs would leave most elements to the remainders (scalar in the softmax
/// family, a padded chunk in the sigmoid family).
const LONG_RUNS: usize = 8 * kernel::W;

/// Whether a sparse row of `n` classes takes the runs between its `positives` (see
/// [`LONG_RUNS`]) rather than the whole row with its labels looked up or spelled out.
#[inline(always)]
fn takes_runs(n: usize, positives: &[u32]) -> bool {
    n >= LONG_RUNS * (positives.len() + 1)
}

/// Sets the `positives` of a sparse row in `labels` to `value` (the stack labels a short
/// sparse row is spelled out in, then cleared for the next row). `Csr::new` checked each
/// index is below N, and N is within `labels` here.
#[inline(always)]
fn mark(labels: &mut [bool], positives: &[u32], value: bool) {
    for &k in positives {
        if let Some(y) = labels.get_mut(k as usize) {
            *y = value;
        }
    }
}

#[inline(always)]
fn sigmoid_row<T: Real, L: DenseLabel, I: Isa, const BACK: bool, const FMA: bool>(
    ctx: &Ctx<'_, T>,
    isa: I,
    z: &[T],
    g: &mut [T],
    labels: RowRef<'_, L>,
    exps: &mut [T; kernel::BLOCK_ELEMENTS],
) -> Result<f64, RowFault> {
    let (taken, given) = ctx.shifts;
    let s = ctx.scale;
    let r = T::from_f64;
    // Positives: t = 1 - taken, 1 - t = taken; negatives: t = given, 1 - t = 1 - given.
    let plain = BinPlain {
        pos: [r(1.0 - taken), r(taken), r((1.0 - taken) * s), r(taken * s)],
        neg: [r(given), r(1.0 - given), r(given * s), r((1.0 - given) * s)],
    };
    let n = ctx.classes;
    let c = BinWeighted {
        plain,
        class: ctx.class,
        pos: ctx.pos,
    };
    let weighted = ctx.class.is_some() || ctx.pos.is_some();
    // A long dense row with few positives runs as those positives (sparse labels), with no
    // label reads in its pass and the sparse row's bits. Counting replaces the pass's own
    // label check; a row with a bad label keeps its labels, and the pass reports it (after a
    // non-finite logit, as in every other row).
    let mut first = [0u32; kernel::PATCHED];
    let labels = match labels {
        RowRef::Dense(y) if n >= LIST_ROW && u32::try_from(n).is_ok() => {
            match kernel::count_dense(y, &mut first) {
                (count, true) if count <= kernel::PATCHED && takes_runs(n, &first[..count]) => {
                    RowRef::Sparse(&first[..count])
                }
                _ => labels,
            }
        }
        other => other,
    };
    // A non-finite logit makes the total NaN or infinite; so does a lane that overflowed,
    // and then the row runs again with `f64` sums.
    macro_rules! pass {
        ($wide:literal) => {{
            let mut acc = Acc::new();
            let mut bad = false;
            if weighted {
                segments!(I, labels, n, |range, src| kernel::sigmoid_segment::<
                    T,
                    _,
                    _,
                    I,
                    BACK,
                    FMA,
                    $wide,
                >(
                    z, g, range, src, c, isa, exps, &mut acc, &mut bad
                ));
            } else {
                segments!(I, labels, n, |range, src| kernel::sigmoid_segment::<
                    T,
                    _,
                    _,
                    I,
                    BACK,
                    FMA,
                    $wide,
                >(
                    z, g, range, src, plain, isa, exps, &mut acc, &mut bad
                ));
            }
            let total = acc.total();
            #[allow(clippy::eq_op)]
            if !total.is_finite() && z.iter().any(|&x| x - x != T::ZERO) {
                return Err(RowFault::NonFinite);
            }
            (total, bad)
        }};
    }
    let (total, bad) = match pass!(false) {
        (total, _) if !total.is_finite() => pass!(true),
        done => done,
    };
    if bad {
        return Err(RowFault::BadLabel);
    }
    Ok(total)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn softmax_row<T: Real, L: DenseLabel, I: Isa, const BACK: bool, const FMA: bool>(
    ctx: &Ctx<'_, T>,
    isa: I,
    z: &[T],
    g: &mut [T],
    labels: RowRef<'_, L>,
    count: Option<usize>,
    exps: &mut [T; kernel::BLOCK_ELEMENTS],
    missed: &mut bool,
) -> Result<SoftParts, RowFault> {
    let n = ctx.classes;
    // The classes of a long dense row's first positives; `listed` of them when that is all.
    let mut first = [0u32; kernel::PATCHED];
    let mut listed = 0;
    let positives = match (labels, count) {
        // A sparse row spelled out as dense labels: `Csr::new` checked its indices, so its
        // labels are valid and its positives are its indices (counting the spelled-out
        // labels took a sixth of such a row's profile).
        (RowRef::Dense(_), Some(count)) => count,
        (RowRef::Dense(y), None) => {
            // Classes listed as `u32`, as CSR indices are.
            let long = n >= LIST_ROW && u32::try_from(n).is_ok();
            let (count, ok) = kernel::count_dense(y, if long { &mut first } else { &mut [] });
            if !ok {
                return Err(RowFault::BadLabel);
            }
            if long && count <= kernel::PATCHED {
                listed = count;
            }
            count
        }
        (RowRef::Sparse(p), _) => p.len(),
    };
    if positives == 0 {
        return Err(RowFault::NoPositive);
    }
    if ctx.scheme.single_label() && positives > 1 {
        return Err(RowFault::Several(positives));
    }
    // A dense row whose positives are listed runs as those positives (sparse labels): the
    // sums take the runs between them and read no labels, and give the sparse row's bits.
    let segment_labels = match labels {
        RowRef::Dense(_) if listed > 0 && takes_runs(n, &first[..listed]) => {
            RowRef::Sparse(&first[..listed])
        }
        other => other,
    };
    let (pos, neg) = ctx.soft_targets(positives);
    let s = ctx.scale;
    let r = T::from_f64;
    let plain = SoftPlain {
        pos: [r(pos), r(pos * s)],
        neg: [r(neg), r(neg * s)],
    };
    let weighted = SoftWeighted {
        plain,
        share: r(pos),
        prior: ctx.prior,
        class: ctx.class,
        scale: r(s),
    };
    let plain_only = ctx.prior.is_none() && ctx.class.is_none();
    // A long row with plain coefficients tries the fused pass first (the maximum found as
    // the row is summed, one pass fewer), unless the row before missed it; then it looks at
    // the maximum first. Either way the row gets the fused pass's bits exactly when its
    // maximum is in range and `fused_parts` accepts the row: a function of the row alone.
    let fused = plain_only && n >= UNSHIFTED_ROW && T::UNSHIFTED_MAX.is_some();
    let mut found = None;
    if fused {
        let attempt = if *missed {
            let (m, j) = kernel::max_and_index(z, isa);
            found = Some((m, j));
            unshifted_max(m)
        } else {
            true
        };
        if attempt {
            let parts = fused_parts::<T, _, I, BACK, FMA>(
                ctx,
                isa,
                z,
                g,
                segment_labels,
                plain,
                positives,
                exps,
            );
            *missed = parts.is_none();
            if let Some((parts, a, j)) = parts {
                if BACK {
                    soft_gradient(ctx.scale, g, labels, &first[..listed], plain, parts, a, j);
                }
                return Ok(parts);
            }
        }
    }
    // A NaN or infinite logit makes the linear sum NaN or infinite (`m - z` is), so it is
    // looked for only when a sum is not finite.
    // A `match`, not `unwrap_or_else`: a closure may be left out of line, and so out of the
    // function that has the dispatched target features (it was, 30% slower on 80 classes).
    let (m, j) = match found {
        Some(found) => found,
        None => kernel::max_and_index(z, isa),
    };
    // A lane that overflowed (the `f64` sums might not) makes a sum infinite: the row runs
    // again with `f64` sums. `$shifted`: see `unshifted` below.
    macro_rules! pass {
        ($wide:literal, $shifted:literal) => {{
            let mut sums = SoftSums {
                rest: Acc::new(),
                linear: Acc::new(),
                total: Acc::new(),
            };
            if plain_only {
                segments!(I, segment_labels, n, |range, src| kernel::softmax_sums::<
                    T,
                    _,
                    _,
                    I,
                    BACK,
                    FMA,
                    $wide,
                    $shifted,
                >(
                    z, g, range, src, plain, m, j, isa, exps, &mut sums
                ));
            } else {
                segments!(I, segment_labels, n, |range, src| kernel::softmax_sums::<
                    T,
                    _,
                    _,
                    I,
                    BACK,
                    FMA,
                    $wide,
                    $shifted,
                >(
                    z, g, range, src, weighted, m, j, isa, exps, &mut sums
                ));
            }
            sums
        }};
    }
    // A row whose maximum is in `[0, UNSHIFTED_MAX]` (`f32` only) sums `exp(z)`, not
    // `exp(z - m)`, and scales the sum (and the gradient's factor) by `exp(-m)` in `f64`: the
    // argument is `z` exactly, so the two-sum splitting `z - m` and the step adding its
    // low part back are left out (seven of a chunk's 40 vector operations). `exp(z) <=
    // e^64` overflows no lane, and with `m >= 0` no `exp(z)` underflows where `exp(z - m)`
    // would not (and `exp(z) exp(-m)` rounds once where it is subnormal, as `exp(z - m)`).
    let unshifted = n >= UNSHIFTED_ROW && unshifted_max(m);
    let mut sums = if unshifted {
        pass!(false, false)
    } else {
        pass!(false, true)
    };
    // Whether `sums` hold `exp(z)`, to be scaled by `exp(-m)`.
    let mut scaled = unshifted;
    if !sums.finite() {
        #[allow(clippy::eq_op)] // x - x is 0 exactly for finite x.
        if z.iter().any(|&x| x - x != T::ZERO) {
            return Err(RowFault::NonFinite);
        }
        scaled = false;
        sums = pass!(true, true);
    }
    // `(rest, total, a)`: the loss's `rest` and `total` and the gradient's factor `a`.
    let finish = |sums: &SoftSums, scaled: bool| {
        let shift = if scaled { (-m.to_f64()).exp() } else { 1.0 };
        let rest = sums.rest.total() * shift;
        let total = if plain_only {
            plain_total(plain, positives, n)
        } else {
            sums.total.total()
        };
        (rest, total, total * s / (1.0 + rest) * shift)
    };
    let (mut rest, mut total, mut a) = finish(&sums, scaled);
    // Scaled by `exp(-m)`, `a` must stay a normal `T` (it is rounded to one); where it would
    // not, the row runs again shifted (it is below the least normal only for a scale or
    // weights far below any in use: `a >= S scale exp(-64) / N`).
    if BACK && scaled && a < T::MIN_NORMAL.to_f64() {
        sums = pass!(false, true);
        (rest, total, a) = finish(&sums, false);
    }
    let parts = SoftParts {
        linear: sums.linear.total(),
        total,
        rest,
    };
    if BACK {
        let listed = &first[..listed];
        if plain_only {
            soft_gradient(s, g, labels, listed, plain, parts, a, j);
        } else {
            soft_gradient(s, g, labels, listed, weighted, parts, a, j);
        }
    }
    Ok(parts)
}

/// Whether a softmax row whose maximum is `m` sums `exp(z)` unshifted (see `softmax_row`),
/// when it is long enough.
#[inline(always)]
fn unshifted_max<T: Real>(m: T) -> bool {
    T::UNSHIFTED_MAX.is_some_and(|top| (0.0..=top).contains(&m.to_f64()))
}

/// `sum c_k` of a row with plain coefficients and `positives` of `n` classes: exact
/// products in `f64` (an `f32` target times a count below 2^29), one rounding.
#[inline(always)]
fn plain_total<T: Real>(plain: SoftPlain<T>, positives: usize, n: usize) -> f64 {
    let positives = positives as f64;
    plain.pos[0].to_f64() * positives + plain.neg[0].to_f64() * (n as f64 - positives)
}

/// A softmax row's loss parts, gradient factor `a` and maximum's index from the fused pass
/// ([`kernel::softmax_sums_fused`]; plain coefficients, `exp(z)` unshifted and stored in `g`
/// when `BACK`). `None` where the row takes the maximum first instead: a sum not finite (a
/// non-finite logit, or an `exp` beyond `f32`), the maximum outside `[0, UNSHIFTED_MAX]`,
/// the maximum's own term over 2^20 times the others' sum (taken from the full sum, theirs
/// would keep too few bits), or `a` below the least normal.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fused_parts<T: Real, L: DenseLabel, I: Isa, const BACK: bool, const FMA: bool>(
    ctx: &Ctx<'_, T>,
    isa: I,
    z: &[T],
    g: &mut [T],
    labels: RowRef<'_, L>,
    plain: SoftPlain<T>,
    positives: usize,
    exps: &mut [T; kernel::BLOCK_ELEMENTS],
) -> Option<(SoftParts, f64, usize)> {
    let n = ctx.classes;
    let mut sums = kernel::FusedSums::new();
    segments!(I, labels, n, |range, src| kernel::softmax_sums_fused::<
        T,
        _,
        I,
        BACK,
        FMA,
    >(
        z, g, range, src, isa, exps, &mut sums
    ));
    let m = sums.top;
    if !sums.finite() || !unshifted_max(m) {
        return None;
    }
    let block = z.get(sums.top_block.clone())?;
    let i = kernel::first_index(block, m, isa);
    if block.get(i) != Some(&m) {
        return None;
    }
    let j = sums.top_block.start + i;
    // The maximum's term as the pass computed it: a lane's `exp` and the remainder's have
    // the same bits.
    let (p, t) = m.exp_nonpos_parts::<FMA>();
    let top = T::exp_scale(p, t).to_f64();
    // Its sum less the maximum's term is the others' sum to `2^-53 (1 + top / others)`
    // (both finite here).
    let others = sums.exps.total() - top;
    if others < top * (-20f64).exp2() {
        return None;
    }
    let shift = (-m.to_f64()).exp();
    let rest = others * shift;
    // `sum c_k (m - z_k)` by group, each a sum of non-negative terms: the logits' sums are
    // exact to a relative `(BLOCK u)^2` of `sum |z|`, far below what the loss resolves.
    let (mf, count) = (m.to_f64(), positives as f64);
    let on_positives = sums.positives.total();
    let on_negatives = sums.logits.total() - on_positives;
    let linear = plain.neg[0].to_f64() * ((n as f64 - count) * mf - on_negatives)
        + plain.pos[0].to_f64() * (count * mf - on_positives);
    let total = plain_total(plain, positives, n);
    let a = total * ctx.scale / (1.0 + rest) * shift;
    if BACK && a < T::MIN_NORMAL.to_f64() {
        return None;
    }
    Some((
        SoftParts {
            linear,
            total,
            rest,
        },
        a,
        j,
    ))
}

/// A softmax row's gradient from the `exp` its sums pass left in `g` and the factor `a`:
/// one pass reading no logits (sparse rows, and dense rows whose positives are `listed`, as
/// all negatives with their positives patched: the same bits as a pass reading the labels,
/// without reading them), then the maximum's entry `j` from the loss parts.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn soft_gradient<T: Real, L: DenseLabel, C: kernel::SoftCoef<T>>(
    scale: f64,
    g: &mut [T],
    labels: RowRef<'_, L>,
    listed: &[u32],
    c: C,
    parts: SoftParts,
    a: f64,
    j: usize,
) {
    let a = T::from_f64(a);
    match labels {
        RowRef::Sparse(p) => kernel::softmax_gradient_sparse(g, p, c, a),
        RowRef::Dense(_) if !listed.is_empty() => kernel::softmax_gradient_sparse(g, listed, c, a),
        RowRef::Dense(y) => kernel::softmax_gradient(g, 0..g.len(), kernel::Dense(y), c, a),
    }
    let yj = match labels {
        RowRef::Dense(y) => y.get(j).is_some_and(|v| v.positive()),
        RowRef::Sparse(p) => p.binary_search(&(j as u32)).is_ok(),
    };
    let cj = c.at(j, yj)[0].to_f64();
    let SoftParts { total, rest, .. } = parts;
    if let Some(gj) = g.get_mut(j) {
        *gj = T::from_f64(((total - cj) - cj * rest) / (1.0 + rest) * scale);
    }
}

#[inline(always)]
fn zlpr_row<T: Real, L: DenseLabel, I: Isa, const BACK: bool, const FMA: bool>(
    ctx: &Ctx<'_, T>,
    z: &[T],
    g: &mut [T],
    labels: RowRef<'_, L>,
) -> Result<f64, RowFault> {
    let n = ctx.classes;
    let mut ext = Extremes::new();
    let mut check = Check::new();
    let mut bad = false;
    segments!(I, labels, n, |range, src| kernel::zlpr_extremes(
        z, range, src, &mut ext, &mut check, &mut bad
    ));
    if !check.ok() {
        return Err(RowFault::NonFinite);
    }
    if bad {
        return Err(RowFault::BadLabel);
    }
    let (taken, given) = ctx.shifts;
    let r = T::from_f64;
    // Coefficients [negatives, positives], rounded once to T as the targets are.
    let up_coef = [r(1.0 - given), r(taken)];
    let down_coef = [r(given), r(1.0 - taken)];
    let groups = [ext.of(0), ext.of(1)];
    let plan = |coef: [T; 2], sign: f64| -> (Half<T>, Option<f64>) {
        // The largest term a_g e^{x} of each group: x = sign z at its max (sign +1) or min.
        let mut top: Option<(f64, usize, T, usize)> = None; // (log, index, x, group)
        let mut x_max = f64::NEG_INFINITY;
        for (gi, group) in groups.iter().enumerate() {
            let (Some((hi, lo)), a) = (group, coef[gi]) else {
                continue;
            };
            if a.partial_cmp(&T::ZERO) != Some(std::cmp::Ordering::Greater) {
                continue;
            }
            let (zv, at) = if sign > 0.0 { *hi } else { *lo };
            let x = if sign > 0.0 { zv } else { -zv };
            x_max = x_max.max(x.to_f64());
            let y = x.to_f64() + a.to_f64().ln();
            if top.is_none_or(|(best, best_at, _, _)| y > best || (y == best && at < best_at)) {
                top = Some((y, at, x, gi));
            }
        }
        match top {
            Some((y, at, x, gi)) if y > 0.0 || x_max > T::EXP_HI.to_f64() - 2.0 => {
                let a_top = coef[gi].to_f64();
                let ratio = |a: T| r(a.to_f64() / a_top);
                (
                    Half {
                        coef: [ratio(coef[0]), ratio(coef[1])],
                        sign: r(sign),
                        shift: x,
                        skip: at,
                    },
                    Some(y),
                )
            }
            _ => (
                Half {
                    coef,
                    sign: r(sign),
                    shift: T::ZERO,
                    skip: usize::MAX,
                },
                None,
            ),
        }
    };
    let (up, up_top) = plan(up_coef, 1.0);
    let (down, down_top) = plan(down_coef, -1.0);
    let halves = [up, down];
    let mut sums = [Acc::new(), Acc::new()];
    segments!(I, labels, n, |range, src| kernel::zlpr_sums::<T, _, FMA>(
        z, range, src, halves, &mut sums
    ));
    let [su, sd] = sums;
    let finish = |sum: f64, top: Option<f64>| -> (f64, f64) {
        match top {
            Some(y) => {
                let rest = sum + (-y).exp();
                (y + rest.ln_1p(), 1.0 + rest)
            }
            None => (sum.ln_1p(), 1.0 + sum),
        }
    };
    let (vu, du) = finish(su.total(), up_top);
    let (vd, dd) = finish(sd.total(), down_top);
    if BACK {
        let inv = [r(ctx.scale / du), r(ctx.scale / dd)];
        segments!(
            I,
            labels,
            n,
            |range, src| kernel::zlpr_gradient::<T, _, FMA>(z, g, range, src, halves, inv)
        );
    }
    Ok(vu + vd)
}
