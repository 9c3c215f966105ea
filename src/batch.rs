//! A validated batch: B rows of N finite logits and N binary labels.

use crate::error::Error;

/// A label value as a caller may hold it: `bool`, an integer, or a float; only 0 and 1 are
/// labels.
pub trait Label: Copy {
    /// `Some(true)` for 1, `Some(false)` for 0, `None` for anything else.
    fn to_binary(self) -> Option<bool>;
    /// The value as text, for error messages.
    fn describe(self) -> String;
}

macro_rules! numeric_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            fn to_binary(self) -> Option<bool> {
                #[allow(clippy::float_cmp)]
                match self {
                    v if v == 1 as $t => Some(true),
                    v if v == 0 as $t => Some(false),
                    _ => None,
                }
            }
            fn describe(self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}
numeric_label!(u8, i8, u16, i16, u32, i32, u64, i64, usize, f32, f64);

impl Label for bool {
    fn to_binary(self) -> Option<bool> {
        Some(self)
    }
    fn describe(self) -> String {
        self.to_string()
    }
}

/// Logits and labels of B rows of N classes, row-major, checked: the same N in every row, at
/// least one row and one class, labels 0 or 1, logits finite.
///
/// # Infinite and NaN logits
/// Both are refused with an error naming the row and column. A NaN has no loss. An infinite
/// logit has an infinite loss under every smoothed target (every target is strictly between
/// 0 and 1 once `eps > 0`), so accepting it would only move the error to the caller's
/// optimiser; a caller who masks classes should drop them from the row instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    rows: usize,
    classes: usize,
    logits: Vec<f64>,
    labels: Vec<bool>,
}

impl Batch {
    /// A batch from row-major slices of `rows * classes` logits and labels.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`], [`Error::RaggedRow`] (a slice whose length is not a multiple of
    /// `classes`: the short last row is named), [`Error::RowCountMismatch`],
    /// [`Error::InvalidLabel`], [`Error::NanLogit`], [`Error::InfiniteLogit`].
    pub fn new<L: Label>(classes: usize, logits: &[f64], labels: &[L]) -> Result<Self, Error> {
        if classes == 0 || logits.is_empty() {
            return Err(Error::EmptyBatch {
                rows: logits.len().checked_div(classes).unwrap_or(0),
                classes,
            });
        }
        let whole_rows = |what, len: usize| {
            if len.is_multiple_of(classes) {
                Ok(len / classes)
            } else {
                Err(Error::RaggedRow {
                    what,
                    row: len / classes,
                    len: len % classes,
                    expected: classes,
                })
            }
        };
        let rows = whole_rows("logits", logits.len())?;
        let label_rows = whole_rows("labels", labels.len())?;
        if rows != label_rows {
            return Err(Error::RowCountMismatch {
                logits: rows,
                labels: label_rows,
            });
        }
        Batch::checked(rows, classes, logits.to_vec(), labels)
    }

    /// A batch from one vector per row.
    ///
    /// # Errors
    /// As [`Batch::new`]; a row whose length differs from row 0's is [`Error::RaggedRow`].
    pub fn from_rows<R, S, L>(logits: &[R], labels: &[S]) -> Result<Self, Error>
    where
        R: AsRef<[f64]>,
        S: AsRef<[L]>,
        L: Label,
    {
        let classes = logits.first().map_or(0, |r| r.as_ref().len());
        if logits.len() != labels.len() {
            return Err(Error::RowCountMismatch {
                logits: logits.len(),
                labels: labels.len(),
            });
        }
        if classes == 0 {
            return Err(Error::EmptyBatch {
                rows: logits.len(),
                classes,
            });
        }
        let check_row = |what, row, len| {
            if len == classes {
                Ok(())
            } else {
                Err(Error::RaggedRow {
                    what,
                    row,
                    len,
                    expected: classes,
                })
            }
        };
        let mut flat_logits = Vec::with_capacity(logits.len() * classes);
        let mut flat_labels = Vec::with_capacity(labels.len() * classes);
        for (row, (z, y)) in logits.iter().zip(labels).enumerate() {
            check_row("logits", row, z.as_ref().len())?;
            check_row("labels", row, y.as_ref().len())?;
            flat_logits.extend_from_slice(z.as_ref());
            flat_labels.extend_from_slice(y.as_ref());
        }
        Batch::checked(logits.len(), classes, flat_logits, &flat_labels)
    }

    fn checked<L: Label>(
        rows: usize,
        classes: usize,
        logits: Vec<f64>,
        labels: &[L],
    ) -> Result<Self, Error> {
        let at = |i: usize| (i / classes, i % classes);
        let labels = labels
            .iter()
            .enumerate()
            .map(|(i, &y)| {
                y.to_binary().ok_or_else(|| {
                    let (row, column) = at(i);
                    Error::InvalidLabel {
                        row,
                        column,
                        value: y.describe(),
                    }
                })
            })
            .collect::<Result<Vec<bool>, Error>>()?;
        if let Some(i) = logits.iter().position(|z| !z.is_finite()) {
            let (row, column) = at(i);
            return Err(if logits[i].is_nan() {
                Error::NanLogit { row, column }
            } else {
                Error::InfiniteLogit {
                    row,
                    column,
                    value: logits[i],
                }
            });
        }
        Ok(Batch {
            rows,
            classes,
            logits,
            labels,
        })
    }

    /// B, the number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// N, the number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The logits of row `row` (empty past the end).
    pub fn logits(&self, row: usize) -> &[f64] {
        self.row_slice(&self.logits, row)
    }

    /// The labels of row `row` (empty past the end).
    pub fn labels(&self, row: usize) -> &[bool] {
        self.row_slice(&self.labels, row)
    }

    fn row_slice<'a, T>(&self, flat: &'a [T], row: usize) -> &'a [T] {
        let start = row.saturating_mul(self.classes);
        flat.get(start..start.saturating_add(self.classes))
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_checked() {
        let ok = Batch::from_rows(&[vec![0.5, -2.0], vec![1.0, 0.0]], &[[1u8, 0], [0, 1]]).unwrap();
        assert_eq!((ok.rows(), ok.classes()), (2, 2));
        assert_eq!(ok.logits(1), [1.0, 0.0]);
        assert_eq!(ok.labels(1), [false, true]);
        assert_eq!(ok.logits(2), [] as [f64; 0]);
        assert_eq!(
            Batch::from_rows(&[vec![0.5, -2.0], vec![1.0]], &[[1u8, 0], [0, 1]]),
            Err(Error::RaggedRow {
                what: "logits",
                row: 1,
                len: 1,
                expected: 2
            })
        );
        assert_eq!(
            Batch::from_rows(&[vec![0.5, -2.0]], &[vec![1u8, 0, 0]]),
            Err(Error::RaggedRow {
                what: "labels",
                row: 0,
                len: 3,
                expected: 2
            })
        );
        assert_eq!(
            Batch::from_rows(&[vec![0.5, -2.0]], &[[1u8, 0], [0, 1]]),
            Err(Error::RowCountMismatch {
                logits: 1,
                labels: 2
            })
        );
        assert_eq!(
            Batch::new(2, &[0.0, 1.0, 2.0], &[1u8, 0]),
            Err(Error::RaggedRow {
                what: "logits",
                row: 1,
                len: 1,
                expected: 2
            })
        );
        assert_eq!(
            Batch::new(2, &[0.0, 1.0, 2.0, 3.0], &[1u8, 0]),
            Err(Error::RowCountMismatch {
                logits: 2,
                labels: 1
            })
        );
        assert!(matches!(
            Batch::new::<u8>(0, &[], &[]),
            Err(Error::EmptyBatch { .. })
        ));
        assert!(matches!(
            Batch::from_rows::<Vec<f64>, Vec<u8>, u8>(&[], &[]),
            Err(Error::EmptyBatch {
                rows: 0,
                classes: 0
            })
        ));
    }

    #[test]
    fn labels_and_logits_are_checked() {
        assert_eq!(
            Batch::new(2, &[0.0, 1.0, 2.0, 3.0], &[1.0, 0.0, 0.0, 0.5]),
            Err(Error::InvalidLabel {
                row: 1,
                column: 1,
                value: "0.5".into()
            })
        );
        assert_eq!(
            Batch::new(2, &[0.0, 1.0], &[2i32, 0]),
            Err(Error::InvalidLabel {
                row: 0,
                column: 0,
                value: "2".into()
            })
        );
        assert_eq!(
            Batch::new(2, &[0.0, 1.0, f64::NAN, 3.0], &[true, false, false, true]),
            Err(Error::NanLogit { row: 1, column: 0 })
        );
        assert_eq!(
            Batch::new(2, &[0.0, f64::NEG_INFINITY], &[true, false]),
            Err(Error::InfiniteLogit {
                row: 0,
                column: 1,
                value: f64::NEG_INFINITY
            })
        );
        assert!(Batch::new(1, &[f64::MAX, -f64::MAX], &[1u8, 0]).is_ok());
    }
}
