//! One row's coefficients, read from a validated problem, in `f64` and as exact rationals.

use rug::Rational;

use crate::reference::exact_value;
use crate::scheme::Param;
use crate::{Error, Family, Problem, Result};

/// Targets and weights of one row in `f64` (each rounded once from its exact value).
pub(crate) struct Row {
    pub(crate) family: Family,
    /// `q` (softmax family) or `t` (sigmoid family, ZLPR).
    pub(crate) t: Vec<f64>,
    /// `1 - t` from the parameters directly (sigmoid family, ZLPR; empty for softmax).
    pub(crate) tc: Vec<f64>,
    /// Class weights `w` (1 where absent).
    pub(crate) w: Vec<f64>,
    /// Positive weights `pi` (1 where absent).
    pub(crate) pi: Vec<f64>,
}

/// The same coefficients as exact rationals.
pub(crate) struct ExactRow {
    pub(crate) t: Vec<Rational>,
    /// `1 - t` (sigmoid family, ZLPR; empty for softmax).
    pub(crate) tc: Vec<Rational>,
    pub(crate) w: Vec<Rational>,
    pub(crate) pi: Vec<Rational>,
}

/// The labels of `row`, checked to exist, and that a point of length `len` suits them.
fn labels(problem: &Problem, row: usize, len: usize) -> Result<&[bool]> {
    let batch = problem.batch();
    if row >= batch.rows() {
        return Err(Error::RowOutOfRange {
            row,
            rows: batch.rows(),
        });
    }
    if len != batch.classes() {
        return Err(Error::PointLength {
            len,
            classes: batch.classes(),
        });
    }
    Ok(batch.labels(row))
}

fn weights<K>(w: &Option<Vec<Param>>, len: usize, value: impl Fn(&Param) -> K, one: K) -> Vec<K>
where
    K: Clone,
{
    match w {
        Some(w) => w.iter().map(value).collect(),
        None => vec![one; len],
    }
}

impl Row {
    /// Row `row` of `problem`, for points of length `len`.
    ///
    /// # Errors
    /// [`Error::RowOutOfRange`]; [`Error::PointLength`] when `len` is not N.
    pub(crate) fn new(problem: &Problem, row: usize, len: usize) -> Result<Row> {
        let labels = labels(problem, row, len)?;
        let smoothing = problem.smoothing();
        let w = problem.weights();
        Ok(Row {
            family: smoothing.scheme().family(),
            t: smoothing.targets(labels),
            tc: smoothing.complements(labels),
            w: weights(&w.class, len, Param::value, 1.0),
            pi: weights(&w.pos, len, Param::value, 1.0),
        })
    }
}

impl ExactRow {
    /// Row `row` of `problem` in exact rationals.
    ///
    /// # Errors
    /// As [`Row::new`].
    pub(crate) fn new(problem: &Problem, row: usize, len: usize) -> Result<ExactRow> {
        let labels = labels(problem, row, len)?;
        let smoothing = problem.smoothing();
        let w = problem.weights();
        Ok(ExactRow {
            t: smoothing.targets(labels),
            tc: smoothing.complements(labels),
            w: weights(&w.class, len, exact_value, Rational::from(1)),
            pi: weights(&w.pos, len, exact_value, Rational::from(1)),
        })
    }
}
