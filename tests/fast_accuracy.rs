//! The fast path against the MPFR reference, in ULPs, for every scheme, both precisions,
//! dense and sparse labels: seeded random problems (moderate logits, log-spaced magnitudes
//! 1e-30 to 1e4, the adversarial set, the edges of `exp` in both precisions), and wide rows.
//! The worst errors must stay within [`labelsmooth::fast::ulp_budget`]; every finite logit
//! must give a finite loss and gradient.
#![cfg(feature = "verify")]

mod common;

use common::{Rng, rounded_to_f32};
use labelsmooth::fast::{Csr, Dense, Dispatch, Loss, Precise, ulp_budget};
use labelsmooth::reference::Reference;
use labelsmooth::verify::accuracy::{Measured, Worst, gradient_error, gradient_scale};
use labelsmooth::{Batch, Family, Param, Params, Problem, Reduction, Scheme, Smoothing, Weights};

const PROBLEMS: usize = 40;
const ROWS: usize = 4;

/// The float types the fast path takes, with the library's rounding and ULP distance.
trait Fp: Measured + Precise {}
impl<F: Measured + Precise> Fp for F {}

fn csr_of(problem: &Problem) -> (Vec<usize>, Vec<u32>) {
    let b = problem.batch();
    let mut offsets = vec![0];
    let mut indices = Vec::new();
    for r in 0..b.rows() {
        for (k, &y) in b.labels(r).iter().enumerate() {
            if y {
                indices.push(k as u32);
            }
        }
        offsets.push(indices.len());
    }
    (offsets, indices)
}

/// Measures the fast path on `problem` (dense and sparse labels) against the reference.
fn measure<F: Fp>(problem: &Problem, reference: &Reference, budget: (u32, u32), worst: &mut Worst) {
    let exact = reference.evaluate(problem);
    for dispatch in [Dispatch::Auto, Dispatch::Portable] {
        let loss = Loss::new(problem.smoothing(), Reduction::None, problem.weights())
            .unwrap()
            .with_dispatch(dispatch);
        measure_with::<F>(problem, &loss, &exact, budget, worst);
    }
}

fn measure_with<F: Fp>(
    problem: &Problem,
    loss: &Loss,
    exact: &labelsmooth::reference::ReferenceEvaluation,
    budget: (u32, u32),
    worst: &mut Worst,
) {
    let b = problem.batch();
    let (rows, n) = (b.rows(), b.classes());
    let logits: Vec<F> = (0..rows)
        .flat_map(|r| b.logits(r).iter().map(|&x| F::round_from(x)))
        .collect();
    let labels: Vec<u8> = (0..rows)
        .flat_map(|r| b.labels(r).iter().map(|&y| u8::from(y)))
        .collect();
    let (offsets, indices) = csr_of(problem);
    let csr = Csr::new(n, &offsets, &indices).unwrap();
    let mut grad = vec![F::round_from(0.0); rows * n];
    let mut sparse_grad = grad.clone();
    let dense = loss
        .forward_backward(&logits, &Dense::new(n, &labels), &mut grad)
        .unwrap();
    let sparse = loss
        .forward_backward(&logits, &csr, &mut sparse_grad)
        .unwrap();
    for (values, g, what) in [(&dense, &grad, "dense"), (&sparse, &sparse_grad, "sparse")] {
        let per_row = values.per_row().unwrap();
        for row in 0..rows {
            let z = b.logits(row);
            if z.iter().any(|x| !F::round_from(*x).is_finite()) {
                continue; // outside the range of F: not an input of this precision.
            }
            let e = &exact.rows[row];
            let context = || {
                format!(
                    "{} {} {what} {:?}: row {row} logits {z:?} labels {:?}",
                    problem.smoothing().scheme(),
                    <F as labelsmooth::Precision>::NAME,
                    loss.dispatch(),
                    b.labels(row)
                )
            };
            let l = per_row[row];
            let exact_loss = F::from_exact(&e.loss);
            assert!(
                l.is_finite() || !exact_loss.is_finite(),
                "non-finite loss {l:?}: {}",
                context()
            );
            let error = F::ulps(l, exact_loss);
            assert!(
                error <= u64::from(budget.0),
                "loss off by {error} ulps (budget {}): computed {l:?}, exact {}: {}",
                budget.0,
                e.loss,
                context()
            );
            worst.loss = worst.loss.max(error);
            for k in 0..n {
                let gk = g[row * n + k];
                assert!(gk.is_finite(), "non-finite grad[{k}]: {}", context());
                let error = gradient_error(gk, &e.gradient[k], gradient_scale(problem, row, k));
                assert!(
                    error <= u64::from(budget.1),
                    "grad[{k}] off by {error} ulps (budget {}): computed {gk:?}, exact {}: {}",
                    budget.1,
                    e.gradient[k],
                    context()
                );
                worst.grad = worst.grad.max(error);
            }
        }
    }
}

/// [`measure`] in `f64`, and in `f32` on the problem rounded to it, within the scheme's
/// budget.
fn measure_both(problem: &Problem, reference: &Reference) {
    let budget = ulp_budget(problem.smoothing().scheme());
    let mut w = Worst::default();
    measure::<f64>(
        problem,
        reference,
        (budget.f64_loss, budget.f64_grad),
        &mut w,
    );
    measure::<f32>(
        &rounded_to_f32(problem),
        reference,
        (budget.f32_loss, budget.f32_grad),
        &mut w,
    );
}

/// A problem of `rows` rows of `classes` classes with logits from `logit`.
fn wide_problem(rng: &mut Rng, scheme: Scheme, rows: usize, classes: usize) -> Problem {
    let logits: Vec<Vec<f64>> = (0..rows)
        .map(|_| (0..classes).map(|_| common::logit(rng)).collect())
        .collect();
    let labels: Vec<Vec<u8>> = (0..rows)
        .map(|_| common::labels(rng, scheme, classes))
        .collect();
    problem_of(rng, scheme, &logits, &labels)
}

/// The problem of `logits` and `labels` with the sampler's parameters and weights.
fn problem_of(rng: &mut Rng, scheme: Scheme, logits: &[Vec<f64>], labels: &[Vec<u8>]) -> Problem {
    let classes = labels[0].len();
    let smoothing = Smoothing::new(scheme, &common::params(rng, scheme, classes)).unwrap();
    let batch = Batch::from_rows(logits, labels).unwrap();
    Problem::new(smoothing, common::weights(rng, scheme, classes), batch).unwrap()
}

fn run(problems: usize, wide: usize) {
    let seed = common::seed(0xfa57_0001);
    let reference = Reference::default();
    let mut table = String::from("scheme          f64 loss  f64 grad  f32 loss  f32 grad\n");
    for (index, scheme) in Scheme::ALL.into_iter().enumerate() {
        let budget = ulp_budget(scheme);
        let mut rng = Rng::new(seed.wrapping_add(index as u64 * 0x9e37_79b9));
        let (mut w64, mut w32) = (Worst::default(), Worst::default());
        let mut check = |problem: Problem| {
            measure::<f64>(
                &problem,
                &reference,
                (budget.f64_loss, budget.f64_grad),
                &mut w64,
            );
            let narrow = rounded_to_f32(&problem);
            measure::<f32>(
                &narrow,
                &reference,
                (budget.f32_loss, budget.f32_grad),
                &mut w32,
            );
        };
        for _ in 0..problems {
            check(common::problem(&mut rng, scheme, ROWS));
        }
        for _ in 0..wide {
            let classes = 17 + rng.below(300);
            check(wide_problem(&mut rng, scheme, 2, classes));
        }
        table += &format!(
            "{:<15} {:>8}  {:>8}  {:>8}  {:>8}\n",
            scheme.name(),
            w64.loss,
            w64.grad,
            w32.loss,
            w32.grad
        );
    }
    eprintln!("fast path: worst errors seen (ulps):\n{table}");
}

#[test]
fn fast_path_stays_within_its_ulp_budget() {
    run(PROBLEMS, 4);
}

/// Many more seeds: `LABELSMOOTH_SLOW=1 cargo test --release --all-features --test
/// fast_accuracy -- --ignored`.
#[test]
#[ignore = "slow: thousands of problems per scheme; run with LABELSMOOTH_SLOW=1"]
fn fast_path_extensive() {
    if std::env::var("LABELSMOOTH_SLOW").as_deref() == Ok("1") {
        run(2000, 100);
    }
}

/// Long rows (over 1,024 classes) with few positives, as the other problems here have no
/// such rows: CSR labels then take the runs between the positives (dense labels the dense
/// kernel). Rows of 4,096 classes and more with dense labels list their positives when they
/// have at most 32 (a gradient pass without label reads), so those come with 1-6 positives
/// and with 33-48. The sampler's logits in one row (their edges can send the sums to the
/// `f64` kernels), moderate ones in the other, and the sampler's parameters and weights.
#[test]
fn long_rows_with_few_positives_within_budget() {
    let reference = Reference::default();
    let mut rng = Rng::new(common::seed(0xfa57_0002));
    for scheme in Scheme::ALL {
        let shapes = [
            (1025 + rng.below(1500), 1, 6),
            (4096 + rng.below(1500), 1, 6),
            (4096 + rng.below(1500), 33, 48),
        ];
        for (classes, fewest, most) in shapes {
            let mut logit = |row: usize| {
                if row == 0 {
                    common::logit(&mut rng)
                } else {
                    rng.unit() * 20.0 - 10.0
                }
            };
            let logits: Vec<Vec<f64>> = (0..2)
                .map(|row| (0..classes).map(|_| logit(row)).collect())
                .collect();
            let labels: Vec<Vec<u8>> = (0..2)
                .map(|_| {
                    let mut y = vec![0u8; classes];
                    if scheme.single_label() {
                        y[rng.below(classes)] = 1;
                        return y;
                    }
                    let count = fewest + rng.below(most - fewest + 1);
                    while y.iter().filter(|&&v| v == 1).count() < count {
                        y[rng.below(classes)] = 1;
                    }
                    y
                })
                .collect();
            measure_both(&problem_of(&mut rng, scheme, &logits, &labels), &reference);
        }
    }
}

/// Hand-written magnitude sweep: one logit from 1e-30 to 1e4 (both signs) next to zeros.
#[test]
fn magnitude_sweep_within_budget() {
    let reference = Reference::default();
    for scheme in Scheme::ALL {
        let params = Params {
            eps: Some(Param::decimal("0.1").unwrap()),
            alpha: Some(Param::decimal("0.1").unwrap()),
            beta: Some(Param::decimal("0.05").unwrap()),
            prior: Some(vec![Param::new(0.25); 4]),
        };
        let smoothing = Smoothing::new(scheme, &params).unwrap();
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for e in -30..=4 {
            for sign in [1.0, -1.0] {
                for mant in [1.0, 3.7] {
                    let x = sign * mant * 10f64.powi(e);
                    logits.push(vec![x, 0.0, -x / 2.0, 1.0]);
                    labels.push(vec![1u8, 0, 0, 0]);
                }
            }
        }
        for x in [88.72, 89.0, -103.9, 709.78, 710.0, -745.1, 3.0e38] {
            for sign in [1.0, -1.0] {
                logits.push(vec![sign * x, 0.0, -sign * x, 1.0]);
                labels.push(vec![0u8, 1, 0, 0]);
            }
        }
        let batch = Batch::from_rows(&logits, &labels).unwrap();
        let problem = Problem::new(smoothing, Weights::default(), batch).unwrap();
        measure_both(&problem, &reference);
    }
}

/// Positive targets near 1 (`eps = 0.001`) with small positive weights: the weight of an
/// element's `log(1 + e)` is `pi t + (1 - t)`, which `1 + (pi - 1) t` computes with a
/// cancellation (hundreds of ulps in `f32` at these parameters), so this pins the form that
/// adds the two non-negative terms.
#[test]
fn small_positive_weights_within_budget() {
    let reference = Reference::default();
    let decimal = |s: &str| Param::decimal(s).unwrap();
    let params = Params {
        eps: Some(decimal("0.001")),
        alpha: Some(decimal("0.001")),
        beta: Some(decimal("0.0005")),
        prior: None,
    };
    let pos = ["0.0001", "0.0003", "0.001", "0.002"];
    let logits: Vec<Vec<f64>> = [[0.01, 0.5, -0.2, 2.0], [-1.5, 0.0, 0.03, -0.01]]
        .into_iter()
        .map(Vec::from)
        .collect();
    let labels = vec![vec![1u8; 4]; 2];
    for scheme in Scheme::ALL
        .into_iter()
        .filter(|s| s.family() == Family::Sigmoid)
    {
        let smoothing = Smoothing::new(scheme, &params).unwrap();
        let weights = Weights {
            class: None,
            pos: Some(pos.iter().map(|s| decimal(s)).collect()),
        };
        let batch = Batch::from_rows(&logits, &labels).unwrap();
        let problem = Problem::new(smoothing, weights, batch).unwrap();
        measure_both(&problem, &reference);
    }
}

/// Softmax rows whose maximum appears more than once: only its first index is left out of
/// `r = sum_{k != j} exp(z_k - m)`, so each later copy must count as `exp(0) = 1`. Copies
/// in one chunk, in later chunks and in the remainder, rows narrower than a chunk, and rows
/// of one value throughout.
#[test]
fn tied_maxima_within_budget() {
    let reference = Reference::default();
    let softmax = Scheme::ALL
        .into_iter()
        .filter(|s| s.family() == Family::Softmax);
    for scheme in softmax {
        for classes in [3, 16, 37, 64, 130, 301] {
            let mut rng = Rng::new(0x71ed_0000 + classes as u64);
            let params = common::params(&mut rng, scheme, classes);
            let smoothing = Smoothing::new(scheme, &params).unwrap();
            let last = classes - 1;
            let places: [&[usize]; 6] = [
                &[0, 1],
                &[1, classes / 2, last],
                &[classes / 3, classes / 3 + 1, last - 1],
                &[last - 1, last],
                &[0, last],
                &(0..classes).collect::<Vec<_>>(),
            ];
            let mut logits = Vec::new();
            let mut labels = Vec::new();
            for at in places {
                // Moderate logits below a maximum that rounds to one `f32` in every copy.
                let mut z: Vec<f64> = (0..classes).map(|_| rng.unit() * 20.0 - 10.0).collect();
                for &k in at {
                    z[k] = 11.5;
                }
                logits.push(z);
                labels.push(common::labels(&mut rng, scheme, classes));
            }
            let batch = Batch::from_rows(&logits, &labels).unwrap();
            let problem = Problem::new(smoothing, Weights::default(), batch).unwrap();
            measure_both(&problem, &reference);
        }
    }
}

/// `f32` softmax rows of 1,024 classes and more whose maximum `m` is in `[0, 64]` sum
/// `exp(z)` and scale by `exp(-m)` afterwards (`softmax_row`): maxima at 0, at 1e-30, within
/// the range, at 64 and just past it or below 0 (both shifted), logits down to 120 below the
/// maximum (where `exp(z)` underflows), each with and without class weights of 1e-30, for
/// which the gradient's factor `S exp(-m)` falls below `f32`'s least normal where `m` is
/// above about 18 (those rows run again shifted).
#[test]
fn unshifted_rows_within_budget() {
    let reference = Reference::default();
    let softmax = Scheme::ALL
        .into_iter()
        .filter(|s| s.family() == Family::Softmax);
    for scheme in softmax {
        let mut rng = Rng::new(common::seed(0xfa57_0003));
        let classes = 1024 + rng.below(600);
        let mut logits = Vec::new();
        let mut labels = Vec::new();
        for top in [0.0, 1e-30, 0.5, 17.0, 30.0, 63.9, 64.0, 64.1, -0.5] {
            let mut z: Vec<f64> = (0..classes).map(|_| top - rng.unit() * 120.0).collect();
            z[rng.below(classes)] = top;
            logits.push(z);
            labels.push(common::labels(&mut rng, scheme, classes));
        }
        let params = common::params(&mut rng, scheme, classes);
        let tiny = Weights {
            class: Some(vec![Param::new(1e-30); classes]),
            pos: None,
        };
        for weights in [Weights::default(), tiny] {
            let smoothing = Smoothing::new(scheme, &params).unwrap();
            let batch = Batch::from_rows(&logits, &labels).unwrap();
            let problem = Problem::new(smoothing, weights, batch).unwrap();
            measure_both(&problem, &reference);
        }
    }
}

/// `f32` softmax rows of 1,024 classes and more with plain coefficients take the fused pass,
/// which finds the maximum `m` as it sums and takes `sum c_k (m - z_k)` from the logits'
/// sums (`softmax_row`, `fused_parts`). Its hard cases, with dense labels (about a third
/// positive, and, from 4,096 classes, a few listed) and sparse (looked up, and the runs
/// between a few positives): logits crowded within 0.01 below a maximum of 63.99 or 0 (the
/// differences cancel most), the maximum at a positive, repeated in later blocks and in the
/// remainder, the other terms' sum on both sides of `2^-20` of the maximum's (where the row
/// falls back to the maximum first), a confident row, and a negative maximum before each row
/// (the rows after it try the maximum first).
#[test]
fn fused_rows_within_budget() {
    let reference = Reference::default();
    let softmax = Scheme::ALL
        .into_iter()
        .filter(|s| s.family() == Family::Softmax);
    for scheme in softmax {
        let mut rng = Rng::new(common::seed(0xfa57_0004));
        for classes in [
            1024 + 16 * rng.below(40) + rng.below(16),
            4096 + rng.below(100),
        ] {
            let last = classes - 1;
            let few: Vec<usize> = if scheme.single_label() {
                vec![rng.below(classes)]
            } else {
                vec![0, 15, 16, classes / 2, last]
            };
            let mut logits = Vec::new();
            let mut labels = Vec::new();
            let mut push = |z: Vec<f64>, y: Vec<u8>| {
                // A negative maximum first: the row after it tries the maximum first.
                logits.push(z.iter().map(|&x| x.min(-3.0) - 1.0).collect());
                labels.push(y.clone());
                logits.push(z);
                labels.push(y);
            };
            for y in [common::labels(&mut rng, scheme, classes), {
                let mut y = vec![0u8; classes];
                for &k in &few {
                    y[k] = 1;
                }
                y
            }] {
                let spread = |rng: &mut Rng, top: f64, width: f64| -> Vec<f64> {
                    (0..classes).map(|_| top - rng.unit() * width).collect()
                };
                for top in [63.99, 0.0] {
                    let mut z = spread(&mut rng, top, 0.01);
                    z[rng.below(classes)] = top;
                    push(z, y.clone());
                }
                let positive = y.iter().position(|&v| v == 1).unwrap();
                let mut z = spread(&mut rng, 20.0, 30.0);
                z[positive] = 20.0;
                push(z, y.clone());
                let mut z = spread(&mut rng, 5.0, 10.0);
                for k in [rng.below(classes), 600, classes - 300, last] {
                    z[k] = 5.0;
                }
                push(z, y.clone());
                // `(N - 1) e^-d` against `2^-20` of the maximum's term.
                let edge = ((classes - 1) as f64 * 2f64.powi(20)).ln();
                for d in [edge - 1.0, edge - 0.01, edge + 0.01, edge + 1.0, 100.0] {
                    let mut z = vec![40.0 - d; classes];
                    z[rng.below(classes)] = 40.0;
                    push(z, y.clone());
                }
            }
            let params = common::params(&mut rng, scheme, classes);
            let smoothing = Smoothing::new(scheme, &params).unwrap();
            let batch = Batch::from_rows(&logits, &labels).unwrap();
            let problem = Problem::new(smoothing, Weights::default(), batch).unwrap();
            measure_both(&problem, &reference);
        }
    }
}
