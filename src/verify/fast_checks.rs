//! The fast path's checks for the report: accuracy against the MPFR reference, agreement of
//! dense and sparse labels, and bit-identical results for 1, 2 and 7 threads.

use crate::Problem;
use crate::fast::{Csr, Dense, Loss, Precise, Value};
use crate::problem::Reduction;
use crate::reference::ReferenceEvaluation;

use super::accuracy::{Measured, Worst, gradient_error, gradient_scale};

/// Per-row losses and the gradient of `problem` by the fast path in precision `F`, with dense
/// labels, and whether CSR labels gave the same bits.
fn evaluate<F: Measured + Precise>(problem: &Problem) -> Result<(Vec<F>, Vec<F>, bool), String> {
    let batch = problem.batch();
    let (rows, classes) = (batch.rows(), batch.classes());
    let logits: Vec<F> = (0..rows)
        .flat_map(|r| batch.logits(r).iter().map(|&x| F::round_from(x)))
        .collect();
    let labels: Vec<u8> = (0..rows)
        .flat_map(|r| batch.labels(r).iter().map(|&y| u8::from(y)))
        .collect();
    let loss = Loss::new(problem.smoothing(), Reduction::None, problem.weights())
        .map_err(|e| e.to_string())?;
    let mut grad = vec![F::zero(); logits.len()];
    let value = loss
        .forward_backward(&logits, &Dense::new(classes, &labels), &mut grad)
        .map_err(|e| e.to_string())?;
    let per_row = match value {
        Value::PerRow(v) => v,
        Value::Reduced(_) => return Err("reduction none gave a reduced value".into()),
    };
    // The same batch with sparse labels must give the same bits.
    let mut offsets = vec![0usize];
    let mut indices = Vec::new();
    for r in 0..rows {
        for (k, &y) in batch.labels(r).iter().enumerate() {
            if y {
                indices.push(k as u32);
            }
        }
        offsets.push(indices.len());
    }
    let csr = Csr::new(classes, &offsets, &indices).map_err(|e| e.to_string())?;
    let mut sparse_grad = vec![F::zero(); logits.len()];
    let sparse = loss
        .forward_backward(&logits, &csr, &mut sparse_grad)
        .map_err(|e| e.to_string())?;
    let same = sparse.per_row().is_some_and(|s| bits_equal(s, &per_row))
        && bits_equal(&sparse_grad, &grad);
    Ok((per_row, grad, same))
}

fn bits_equal<F: Measured>(a: &[F], b: &[F]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            crate::Precision::to_f64(*x).to_bits() == crate::Precision::to_f64(*y).to_bits()
        })
}

/// The worst errors of the fast path on `problem` against `exact`, and whether dense and
/// sparse labels agreed bit for bit.
///
/// # Errors
/// The fast path refused the problem (it should not: the problem is valid).
pub fn measure<F: Measured + Precise>(
    problem: &Problem,
    exact: &ReferenceEvaluation,
) -> Result<(Worst, bool), String> {
    let (losses, grad, same) = evaluate::<F>(problem)?;
    let classes = problem.batch().classes();
    let mut worst = Worst::default();
    for (row, e) in exact.rows.iter().enumerate() {
        let logits = problem.batch().logits(row);
        if <F as crate::Precision>::NAME == "f32"
            && logits.iter().any(|x| x.abs() > f64::from(f32::MAX))
        {
            continue;
        }
        worst.loss = worst.loss.max(F::ulps(losses[row], F::from_exact(&e.loss)));
        for (k, ge) in e.gradient.iter().enumerate() {
            let g = grad[row * classes + k];
            worst.grad = worst
                .grad
                .max(gradient_error(g, ge, gradient_scale(problem, row, k)));
        }
    }
    Ok((worst, same))
}

/// Whether the fast path's reduced loss and gradient are bit-identical on 1, 2 and 7 threads
/// for a batch large enough to be split (`problem` is repeated to at least 64k elements).
///
/// # Errors
/// A thread pool cannot be built, or the fast path refused the batch.
pub fn deterministic(problem: &Problem) -> Result<bool, String> {
    let batch = problem.batch();
    let classes = batch.classes();
    let copies = (65_536 / (batch.rows() * classes)).max(1) + 1;
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..copies {
        for r in 0..batch.rows() {
            logits.extend(batch.logits(r).iter().map(|&x| x as f32));
            labels.extend(batch.labels(r).iter().map(|&y| u8::from(y)));
        }
    }
    let loss = Loss::new(
        problem.smoothing(),
        Reduction::MeanOverRows,
        problem.weights(),
    )
    .map_err(|e| e.to_string())?;
    let mut results = Vec::new();
    for threads in [1, 2, 7] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| e.to_string())?;
        let mut grad = vec![0f32; logits.len()];
        let value = pool
            .install(|| loss.forward_backward(&logits, &Dense::new(classes, &labels), &mut grad))
            .map_err(|e| e.to_string())?;
        results.push((value.reduced().map(f32::to_bits), grad));
    }
    Ok(results
        .windows(2)
        .all(|w| w[0].0 == w[1].0 && bits_equal(&w[0].1, &w[1].1)))
}
