//! The fast path's behaviour: agreement with the generic formulas (proptest over schemes,
//! parameters, weights and shapes), reductions, label types, bit-identical results for 1, 2
//! and 7 threads and for the portable and dispatched kernels, and typed errors.

#![cfg(feature = "verify")]

mod common;

use common::Rng;
use labelsmooth::fast::{Csr, Dense, Dispatch, Labels, Loss, Value};
use labelsmooth::{
    Batch, Error, Family, Param, Params, Problem, Reduction, Scheme, Smoothing, Weights,
};
use proptest::prelude::*;

/// A random valid problem of `rows x classes` for `scheme`, from the shared generators.
fn problem(seed: u64, scheme: Scheme, rows: usize, classes: usize) -> Problem {
    let mut rng = Rng::new(seed);
    let classes = classes.max(scheme.min_classes());
    let logits: Vec<Vec<f64>> = (0..rows)
        .map(|_| (0..classes).map(|_| common::logit(&mut rng)).collect())
        .collect();
    let labels: Vec<Vec<u8>> = (0..rows)
        .map(|_| common::labels(&mut rng, scheme, classes))
        .collect();
    let smoothing = Smoothing::new(scheme, &common::params(&mut rng, scheme, classes)).unwrap();
    let weights = common::weights(&mut rng, scheme, classes);
    Problem::new(
        smoothing,
        weights,
        Batch::from_rows(&logits, &labels).unwrap(),
    )
    .unwrap()
}

fn flat(problem: &Problem) -> (Vec<f64>, Vec<u8>, Vec<usize>, Vec<u32>) {
    let b = problem.batch();
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    let mut offsets = vec![0];
    let mut indices = Vec::new();
    for r in 0..b.rows() {
        logits.extend_from_slice(b.logits(r));
        for (k, &y) in b.labels(r).iter().enumerate() {
            labels.push(u8::from(y));
            if y {
                indices.push(k as u32);
            }
        }
        offsets.push(indices.len());
    }
    (logits, labels, offsets, indices)
}

/// `|a - b|` within `tol` of the larger of `|b|` and `scale`.
fn close(a: f64, b: f64, scale: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * b.abs().max(scale)
}

fn check_against_generic(problem: &Problem) {
    let b = problem.batch();
    let (rows, n) = (b.rows(), b.classes());
    let (logits, labels, offsets, indices) = flat(problem);
    let generic = problem.evaluate::<f64>();
    let loss = Loss::new(problem.smoothing(), Reduction::None, problem.weights()).unwrap();
    let csr = Csr::new(n, &offsets, &indices).unwrap();
    let mut g_dense = vec![0.0; rows * n];
    let mut g_sparse = vec![0.0; rows * n];
    let dense = loss
        .forward_backward(&logits, &Dense::new(n, &labels), &mut g_dense)
        .unwrap();
    let sparse = loss.forward_backward(&logits, &csr, &mut g_sparse).unwrap();
    let scheme = problem.smoothing().scheme();
    let weight_scale = problem
        .weights()
        .class
        .as_ref()
        .map_or(1.0, |w| w.iter().map(Param::value).fold(1.0, f64::max))
        * problem
            .weights()
            .pos
            .as_ref()
            .map_or(1.0, |w| w.iter().map(Param::value).fold(1.0, f64::max));
    for (value, g) in [(&dense, &g_dense), (&sparse, &g_sparse)] {
        let per_row = value.per_row().unwrap();
        for r in 0..rows {
            let e = &generic.rows[r];
            assert!(
                per_row[r].is_finite() || !e.loss.is_finite(),
                "{scheme}: row {r}"
            );
            assert!(
                close(per_row[r], e.loss, 1e-300, 1e-13),
                "{scheme}: loss {} vs generic {} at row {r}: {:?}",
                per_row[r],
                e.loss,
                b.logits(r)
            );
            for k in 0..n {
                let gk = g[r * n + k];
                assert!(gk.is_finite(), "{scheme}: grad[{k}] of row {r}");
                // Gradient entries cross zero: compare in units of the weights' scale.
                assert!(
                    close(gk, e.gradient[k], weight_scale, 1e-13),
                    "{scheme}: grad[{k}] {gk} vs generic {} at row {r}",
                    e.gradient[k]
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn fast_matches_the_generic_formulas(
        seed in any::<u64>(),
        scheme in 0..Scheme::ALL.len(),
        rows in 1usize..6,
        classes in 1usize..70,
    ) {
        check_against_generic(&problem(seed, Scheme::ALL[scheme], rows, classes));
    }

    #[test]
    fn reductions_divide_the_sum_and_scale_the_gradient(
        seed in any::<u64>(),
        scheme in 0..Scheme::ALL.len(),
        rows in 1usize..5,
        classes in 1usize..30,
    ) {
        let p = problem(seed, Scheme::ALL[scheme], rows, classes);
        let (logits, labels, _, _) = flat(&p);
        let n = p.batch().classes();
        let labels = Dense::new(n, &labels);
        let none = Loss::new(p.smoothing(), Reduction::None, p.weights()).unwrap();
        let mut g_none = vec![0.0; logits.len()];
        let per_row = none.forward_backward(&logits, &labels, &mut g_none).unwrap();
        let total: f64 = per_row.per_row().unwrap().iter().sum();
        for reduction in [Reduction::Sum, Reduction::MeanOverRows, Reduction::MeanOverElements] {
            let d = match reduction {
                Reduction::Sum => 1.0,
                Reduction::MeanOverRows => rows as f64,
                _ => (rows * n) as f64,
            };
            let loss = Loss::new(p.smoothing(), reduction, p.weights()).unwrap();
            let mut g = vec![0.0; logits.len()];
            let value = loss.forward_backward(&logits, &labels, &mut g).unwrap();
            let v = value.reduced().unwrap();
            prop_assert!(close(v, total / d, 1e-300, 1e-13), "{reduction}: {v} vs {}", total / d);
            prop_assert_eq!(Some(v), loss.forward(&logits, &labels).unwrap().reduced());
            for (a, b) in g.iter().zip(&g_none) {
                prop_assert!(close(*a, b / d, 1e-300 + b.abs() / d, 1e-14) || (a - b / d).abs() < 1e-15 / d);
            }
        }
    }
}

/// A batch big enough to be split into many chunks.
fn big(scheme: Scheme, rows: usize, classes: usize) -> (Smoothing, Vec<f32>, Vec<u8>) {
    let mut rng = Rng::new(7);
    let logits = (0..rows * classes)
        .map(|_| (rng.unit() * 24.0 - 12.0) as f32)
        .collect();
    let mut labels = vec![0u8; rows * classes];
    for r in 0..rows {
        let positives = if scheme.single_label() {
            1
        } else {
            1 + rng.below(4)
        };
        for _ in 0..positives {
            labels[r * classes + rng.below(classes)] = 1;
        }
        if scheme.single_label() {
            let row = &mut labels[r * classes..(r + 1) * classes];
            let first = row.iter().position(|&y| y == 1).unwrap();
            row.fill(0);
            row[first] = 1;
        }
    }
    let params = Params {
        eps: Some(0.1.into()),
        alpha: Some(0.1.into()),
        beta: Some(0.05.into()),
        prior: Some(vec![Param::new(1.0 / classes as f64); classes]),
    };
    (Smoothing::new(scheme, &params).unwrap(), logits, labels)
}

fn bits(v: &Value<f32>, g: &[f32]) -> Vec<u32> {
    let values = match v {
        Value::Reduced(x) => vec![*x],
        Value::PerRow(xs) => xs.clone(),
    };
    values.iter().chain(g).map(|x| x.to_bits()).collect()
}

#[test]
fn bit_identical_for_1_2_7_threads() {
    let (rows, classes) = (700, 97);
    for scheme in Scheme::ALL {
        let (smoothing, logits, labels) = big(scheme, rows, classes);
        let mut offsets = vec![0];
        let mut indices = Vec::new();
        for r in 0..rows {
            for k in 0..classes {
                if labels[r * classes + k] == 1 {
                    indices.push(k as u32);
                }
            }
            offsets.push(indices.len());
        }
        let csr = Csr::new(classes, &offsets, &indices).unwrap();
        let dense = Dense::new(classes, &labels);
        for reduction in [Reduction::None, Reduction::MeanOverRows] {
            // Bit-identical across thread counts for each dispatch (the dispatched kernels
            // fuse multiply-adds, the portable ones do not: both within the ULP budget).
            for dispatch in [Dispatch::Auto, Dispatch::Portable] {
                let mut reference: Option<(Vec<u32>, Vec<u32>)> = None;
                for threads in [1, 2, 7] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let loss = Loss::new(&smoothing, reduction, &Weights::default())
                        .unwrap()
                        .with_dispatch(dispatch);
                    let mut g = vec![0f32; rows * classes];
                    let mut gs = vec![0f32; rows * classes];
                    let got = pool.install(|| {
                        let d = loss.forward_backward(&logits, &dense, &mut g).unwrap();
                        let s = loss.forward_backward(&logits, &csr, &mut gs).unwrap();
                        (bits(&d, &g), bits(&s, &gs))
                    });
                    match &reference {
                        None => reference = Some(got),
                        Some(expected) => assert!(
                            *expected == got,
                            "{scheme} {reduction}: {threads} threads, {dispatch:?} differ"
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn label_types_agree() {
    let (smoothing, logits, labels) = big(Scheme::MlUniform, 9, 13);
    let loss = Loss::new(&smoothing, Reduction::None, &Weights::default()).unwrap();
    let as_u8 = loss.forward(&logits, &Dense::new(13, &labels)).unwrap();
    let as_bool: Vec<bool> = labels.iter().map(|&y| y == 1).collect();
    let as_f32: Vec<f32> = labels.iter().map(|&y| f32::from(y)).collect();
    let as_f64: Vec<f64> = labels.iter().map(|&y| f64::from(y)).collect();
    assert_eq!(
        as_u8,
        loss.forward(&logits, &Dense::new(13, &as_bool)).unwrap()
    );
    assert_eq!(
        as_u8,
        loss.forward(&logits, &Dense::new(13, &as_f32)).unwrap()
    );
    assert_eq!(
        as_u8,
        loss.forward(&logits, &Dense::new(13, &as_f64)).unwrap()
    );
}

#[test]
fn hand_written_values() {
    // bce_symmetric eps = 0.25 at z = 0: each term is log 2, the gradient s - t = 1/2 - t.
    let s = Smoothing::with_eps(Scheme::BceSymmetric, 0.25).unwrap();
    let loss = Loss::new(&s, Reduction::None, &Weights::default()).unwrap();
    let mut g = [0f64; 2];
    let v = loss
        .forward_backward(&[0.0f64, 0.0], &Dense::new(2, &[1u8, 0]), &mut g)
        .unwrap();
    let ln2 = std::f64::consts::LN_2;
    assert!((v.per_row().unwrap()[0] - 2.0 * ln2).abs() <= 2.0 * f64::EPSILON);
    assert_eq!(g, [-0.25, 0.25]);
    // uniform eps = 0 at equal logits over 4 classes: log 4, gradient 1/4 - y.
    let s = Smoothing::with_eps(Scheme::Uniform, 0.0).unwrap();
    let loss = Loss::new(&s, Reduction::Sum, &Weights::default()).unwrap();
    let mut g = [0f32; 4];
    let v = loss
        .forward_backward(&[3.0f32; 4], &Dense::new(4, &[0u8, 1, 0, 0]), &mut g)
        .unwrap();
    assert_eq!(v, Value::Reduced(4f32.ln()));
    assert_eq!(g, [0.25, -0.75, 0.25, 0.25]);
}

#[test]
fn overflowing_lanes_fall_back_to_f64_sums() {
    // bce_symmetric eps = 0.1: a negative at z = 3e38 costs (1 - 0.1) z, a zero logit log 2.
    // Classes 0 and 16 share a vector lane, whose f32 sum 1.8 z overflows; the row's loss
    // does too, but the mean over two rows, 0.9 z + 31 log 2, is finite.
    let z = 3e38f32;
    let mut logits = [0f32; 64];
    logits[0] = z;
    logits[16] = z;
    let mut labels = [0u8; 64];
    labels[1] = 1;
    labels[33] = 1;
    let s = Smoothing::with_eps(Scheme::BceSymmetric, 0.1).unwrap();
    let none = Loss::new(&s, Reduction::None, &Weights::default()).unwrap();
    let v = none.forward(&logits, &Dense::new(32, &labels)).unwrap();
    let rows = v.per_row().unwrap();
    assert_eq!(rows[0], f32::INFINITY);
    assert!((f64::from(rows[1]) - 32.0 * std::f64::consts::LN_2).abs() < 1e-5);
    let mean = Loss::new(&s, Reduction::MeanOverRows, &Weights::default()).unwrap();
    let mut g = [0f32; 64];
    let v = mean
        .forward_backward(&logits, &Dense::new(32, &labels), &mut g)
        .unwrap();
    let expected = (0.9 * f64::from(z)) as f32;
    let got = v.reduced().unwrap();
    assert!(got.is_finite(), "mean {got}");
    assert!(
        got.to_bits().abs_diff(expected.to_bits()) <= 2,
        "{got} vs {expected}"
    );
    // The gradient of the overflowing entries is (1 - t) / 2 rows, exactly.
    assert_eq!((g[0], g[16]), (0.45, 0.45));
}

fn sigmoid_loss() -> Loss {
    let s = Smoothing::with_eps(Scheme::BceHalf, 0.1).unwrap();
    Loss::new(&s, Reduction::Sum, &Weights::default()).unwrap()
}

/// An invalid dense label is named by row, column and value wherever it sits: in a row's
/// remainder or its vector chunks, in short rows and rows longer than a block of the kernels'
/// sums, in every family, on both dispatches, as `u8` (its own check) and as floats; a second
/// bad label later in the row does not win. The kernels check a segment's labels in a pass of
/// their own, apart from the arithmetic.
#[test]
fn every_family_names_its_invalid_label() {
    let params = Params {
        eps: Some(0.1.into()),
        alpha: Some(0.1.into()),
        beta: Some(0.05.into()),
        prior: None,
    };
    let mut cases = 0;
    for scheme in [Scheme::BceSymmetric, Scheme::MlUniform, Scheme::Zlpr] {
        let s = Smoothing::new(scheme, &params).unwrap();
        for dispatch in [Dispatch::Auto, Dispatch::Portable] {
            let loss = Loss::new(&s, Reduction::Sum, &Weights::default())
                .unwrap()
                .with_dispatch(dispatch);
            // A remainder only, chunks and a remainder, chunks only, more than a block, and
            // a row long enough that its positives are listed (the crate's `LIST_ROW`).
            for n in [5, 37, 80, 1037, 4100] {
                let logits: Vec<f32> = (0..3 * n).map(|i| (i % 23) as f32 / 4.0 - 2.5).collect();
                let mut g = vec![0f32; 3 * n];
                for column in [1, n / 2, n - 2] {
                    // Positives at both ends of every row (the softmax rows need one), the bad
                    // label in row 1, and another two columns on where there is room.
                    let mut labels = vec![0u8; 3 * n];
                    for row in 0..3 {
                        labels[row * n] = 1;
                        labels[row * n + n - 1] = 1;
                    }
                    let what = format!("{scheme} {dispatch:?} N={n} column {column}");
                    for bad in [2u8, 255] {
                        let mut y = labels.clone();
                        y[n + column] = bad;
                        if column + 2 < n - 1 {
                            y[n + column + 2] = 7;
                        }
                        let expected = Err(Error::InvalidLabel {
                            row: 1,
                            column,
                            value: bad.to_string(),
                        });
                        let dense = Dense::new(n, &y);
                        assert_eq!(
                            loss.forward(&logits, &dense).map(|_| ()),
                            expected,
                            "{what} {bad}"
                        );
                        assert_eq!(
                            loss.forward_backward(&logits, &dense, &mut g).map(|_| ()),
                            expected,
                            "{what} {bad}, forward_backward"
                        );
                        cases += 1;
                    }
                    let floats: Vec<f32> = labels.iter().map(|&y| f32::from(y)).collect();
                    for (bad, text) in [(0.5f32, "0.5"), (f32::NAN, "NaN"), (-1.0, "-1.0")] {
                        let mut y = floats.clone();
                        y[n + column] = bad;
                        let as_f64: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
                        let expected = Err(Error::InvalidLabel {
                            row: 1,
                            column,
                            value: text.into(),
                        });
                        assert_eq!(
                            loss.forward(&logits, &Dense::new(n, &y)),
                            expected,
                            "{what} {text}"
                        );
                        assert_eq!(
                            loss.forward(&logits, &Dense::new(n, &as_f64)),
                            expected,
                            "{what} {text}, f64 labels"
                        );
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 3 * 2 * 5 * 3 * 5);
}

/// Every family names the row and column of a NaN, `+inf` or `-inf` logit, wherever it sits
/// (first column, the row's maximum, the scalar tail, a long run of sparse negatives), with
/// dense and sparse labels, in `f32` and `f64`; a second bad row below does not win.
#[test]
fn every_family_names_its_non_finite_logit() {
    fn case<T: labelsmooth::fast::Precise + From<f32>>(scheme: Scheme) {
        let params = Params {
            eps: Some(0.1.into()),
            alpha: Some(0.1.into()),
            beta: Some(0.05.into()),
            prior: None,
        };
        let s = Smoothing::new(scheme, &params).unwrap();
        let loss = Loss::new(&s, Reduction::Sum, &Weights::default()).unwrap();
        for n in [7, 40, 1000] {
            let rows = 4;
            let positives = [1, n / 2];
            let mut labels = vec![0u8; rows * n];
            let mut indices = Vec::new();
            for r in 0..rows {
                for &k in &positives {
                    labels[r * n + k] = 1;
                    indices.push(k as u32);
                }
            }
            let offsets: Vec<usize> = (0..=rows).map(|r| 2 * r).collect();
            let csr = Csr::new(n, &offsets, &indices).unwrap();
            let dense = Dense::new(n, &labels);
            for column in [0, n / 2, n - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut logits: Vec<T> = (0..rows * n)
                        .map(|i| T::from((i % 13) as f32 - 6.0))
                        .collect();
                    logits[n + column] = T::from(bad);
                    logits[3 * n + 2] = T::from(f32::NAN);
                    let expected = if bad.is_nan() {
                        Error::NanLogit { row: 1, column }
                    } else {
                        Error::InfiniteLogit {
                            row: 1,
                            column,
                            value: f64::from(bad),
                        }
                    };
                    let mut g = vec![T::from(0.0); rows * n];
                    let what = format!("{scheme} N={n} column {column} {bad}");
                    assert_eq!(
                        loss.forward(&logits, &dense),
                        Err(expected.clone()),
                        "{what}"
                    );
                    assert_eq!(
                        loss.forward_backward(&logits, &csr, &mut g),
                        Err(expected),
                        "{what}, sparse"
                    );
                }
            }
        }
    }
    for scheme in [Scheme::BceSymmetric, Scheme::MlUniform, Scheme::Zlpr] {
        case::<f32>(scheme);
        case::<f64>(scheme);
    }
}

#[test]
fn non_finite_logits_and_bad_labels_are_typed_errors() {
    let (rows, n) = (600, 100);
    let mut logits = vec![0.5f32; rows * n];
    let labels = vec![0u8; rows * n];
    logits[410 * n + 7] = f32::INFINITY;
    logits[90 * n + 55] = f32::NAN;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(7)
        .build()
        .unwrap();
    let loss = sigmoid_loss();
    let mut g = vec![0f32; rows * n];
    for _ in 0..3 {
        let err = pool.install(|| loss.forward_backward(&logits, &Dense::new(n, &labels), &mut g));
        assert_eq!(
            err,
            Err(Error::NanLogit {
                row: 90,
                column: 55
            })
        );
    }
    logits[90 * n + 55] = 0.0;
    assert_eq!(
        loss.forward(&logits, &Dense::new(n, &labels)),
        Err(Error::InfiniteLogit {
            row: 410,
            column: 7,
            value: f64::INFINITY
        })
    );
    logits[410 * n + 7] = 0.0;
    let mut bad = labels.clone();
    bad[3 * n + 9] = 2;
    assert_eq!(
        loss.forward(&logits, &Dense::new(n, &bad)),
        Err(Error::InvalidLabel {
            row: 3,
            column: 9,
            value: "2".into()
        })
    );
    let floats = [0.0f64, 0.5];
    assert!(matches!(
        loss.forward(&[1.0f64, 2.0], &Dense::new(2, &floats)),
        Err(Error::InvalidLabel {
            row: 0,
            column: 1,
            ..
        })
    ));
    for scheme in [Scheme::MlUniform, Scheme::Uniform] {
        let s = Smoothing::with_eps(scheme, 0.1).unwrap();
        let loss = Loss::new(&s, Reduction::None, &Weights::default()).unwrap();
        assert_eq!(
            loss.forward(&[1.0f32, 2.0, 3.0, 4.0], &Dense::new(2, &[1u8, 0, 0, 0])),
            Err(Error::NoPositiveLabel { scheme, row: 1 })
        );
        let both = loss.forward(&[1.0f32, 2.0, 3.0, 4.0], &Dense::new(2, &[1u8, 1, 0, 1]));
        if scheme == Scheme::Uniform {
            assert_eq!(
                both,
                Err(Error::SeveralPositives {
                    scheme,
                    row: 0,
                    positives: 2
                })
            );
        } else {
            assert!(both.is_ok());
        }
        let csr = Csr::new(2, &[0, 1, 1], &[0]).unwrap();
        assert_eq!(
            loss.forward(&[1.0f32, 2.0, 3.0, 4.0], &csr),
            Err(Error::NoPositiveLabel { scheme, row: 1 })
        );
    }
    // Every finite logit, up to the largest, gives a finite loss and gradient.
    let mut g = [0f32; 3];
    let v = sigmoid_loss()
        .forward_backward(
            &[f32::MAX, -f32::MAX, 0.0],
            &Dense::new(3, &[1u8, 0, 1]),
            &mut g,
        )
        .unwrap();
    assert!(v.reduced().unwrap().is_finite() && g.iter().all(|x| x.is_finite()));
}

#[test]
fn shapes_and_structures_are_checked() {
    let loss = sigmoid_loss();
    let y = [0u8; 6];
    assert_eq!(
        loss.forward(&[0.0f32; 5], &Dense::new(3, &y)),
        Err(Error::RaggedRow {
            what: "logits",
            row: 1,
            len: 2,
            expected: 3
        })
    );
    assert_eq!(
        loss.forward(&[0.0f32; 3], &Dense::new(3, &y)),
        Err(Error::RowCountMismatch {
            logits: 1,
            labels: 2
        })
    );
    assert!(matches!(
        loss.forward(&[0.0f32; 6], &Dense::new(3, &y[..5])),
        Err(Error::RaggedRow { what: "labels", .. })
    ));
    assert!(matches!(
        loss.forward::<f32, _>(&[], &Dense::new(3, &y)),
        Err(Error::EmptyBatch { .. })
    ));
    let mut g = [0f32; 5];
    assert_eq!(
        loss.forward_backward(&[0.0f32; 6], &Dense::new(3, &y), &mut g),
        Err(Error::LengthMismatch {
            parameter: "gradient",
            len: 5,
            classes: 6
        })
    );
    // CSR structure.
    assert!(matches!(
        Csr::new(4, &[0, 1], &[4]),
        Err(Error::InvalidLabel {
            row: 0,
            column: 4,
            ..
        })
    ));
    assert!(matches!(
        Csr::new(4, &[0, 2], &[2, 1]),
        Err(Error::InvalidLabel {
            row: 0,
            column: 1,
            ..
        })
    ));
    assert!(matches!(
        Csr::new(4, &[0, 2], &[1, 1]),
        Err(Error::InvalidLabel {
            row: 0,
            column: 1,
            ..
        })
    ));
    assert!(matches!(
        Csr::new(4, &[0, 2, 1], &[1]),
        Err(Error::InvalidLabel { row: 0, .. })
    ));
    assert!(matches!(
        Csr::new(4, &[0, 1, 3], &[1]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        Csr::new(4, &[0, 2, 1, 2], &[1, 2]),
        Err(Error::InvalidLabel { row: 1, .. })
    ));
    assert!(matches!(
        Csr::new(4, &[], &[]),
        Err(Error::EmptyBatch { .. })
    ));
    // Construction.
    let w = |v: &[f64]| Some(v.iter().copied().map(Param::new).collect::<Vec<_>>());
    let soft = Smoothing::with_eps(Scheme::MlUniform, 0.1).unwrap();
    let zlpr = Smoothing::new(Scheme::Zlpr, &Params::alpha_beta(0.1, 0.1)).unwrap();
    let bce = Smoothing::with_eps(Scheme::BceHalf, 0.1).unwrap();
    let weights = |class, pos| Weights { class, pos };
    assert!(matches!(
        Loss::new(&soft, Reduction::Sum, &weights(None, w(&[1.0]))),
        Err(Error::WeightNotApplicable {
            parameter: "pos_weight",
            ..
        })
    ));
    assert!(matches!(
        Loss::new(&zlpr, Reduction::Sum, &weights(w(&[1.0]), None)),
        Err(Error::WeightNotApplicable {
            parameter: "class_weights",
            ..
        })
    ));
    assert!(matches!(
        Loss::new(&bce, Reduction::Sum, &weights(w(&[1.0, -1.0]), None)),
        Err(Error::InvalidEntry { index: 1, .. })
    ));
    assert!(matches!(
        Loss::new(&bce, Reduction::Sum, &weights(w(&[1.0, 1.0]), w(&[1.0]))),
        Err(Error::LengthMismatch {
            parameter: "pos_weight",
            len: 1,
            classes: 2
        })
    ));
    assert!(matches!(
        Loss::new(&bce, Reduction::WeightedMean, &Weights::default()),
        Err(Error::ReductionNotApplicable { .. })
    ));
    let weighted = Loss::new(&bce, Reduction::Sum, &weights(w(&[1.0, 2.0]), None)).unwrap();
    assert_eq!(
        weighted.forward(&[0.0f32; 3], &Dense::new(3, &[0u8; 3])),
        Err(Error::LengthMismatch {
            parameter: "class_weights",
            len: 2,
            classes: 3
        })
    );
    let others = Smoothing::with_eps(Scheme::Others, 0.1).unwrap();
    let loss = Loss::new(&others, Reduction::Sum, &Weights::default()).unwrap();
    assert!(matches!(
        loss.forward(&[0.0f32], &Dense::new(1, &[1u8])),
        Err(Error::TooFewClasses { .. })
    ));
    // Weighted mean: one positive per row, weights not all zero.
    let uniform = Smoothing::with_eps(Scheme::Uniform, 0.1).unwrap();
    let wm = Loss::new(
        &uniform,
        Reduction::WeightedMean,
        &weights(w(&[0.0, 2.0]), None),
    )
    .unwrap();
    assert!(matches!(
        wm.forward(&[0.0f32, 1.0], &Dense::new(2, &[1u8, 0])),
        Err(Error::ReductionNotApplicable { .. })
    ));
    let v = wm
        .forward(&[0.0f64, 1.0, 0.5, 0.5], &Dense::new(2, &[0u8, 1, 1, 0]))
        .unwrap();
    let sum = Loss::new(&uniform, Reduction::Sum, &weights(w(&[0.0, 2.0]), None)).unwrap();
    let s = sum
        .forward(&[0.0f64, 1.0, 0.5, 0.5], &Dense::new(2, &[0u8, 1, 1, 0]))
        .unwrap();
    assert_eq!(v.reduced().unwrap(), s.reduced().unwrap() / 2.0);
    assert_eq!(Family::Softmax, Scheme::Uniform.family());
}

/// No weights, then class weights (except for ZLPR, which takes none).
fn with_class_weights(scheme: Scheme, classes: usize) -> Vec<Weights> {
    let class_weights = Weights {
        class: Some(
            (0..classes)
                .map(|k| Param::new(0.5 + (k % 7) as f64 / 4.0))
                .collect(),
        ),
        pos: None,
    };
    std::iter::once(Weights::default())
        .chain((scheme != Scheme::Zlpr).then_some(class_weights))
        .collect()
}

/// Dense labels and CSR offsets and indices of `rows` rows with the same positives.
fn same_positives(
    rows: usize,
    classes: usize,
    positives: &[u32],
) -> (Vec<u8>, Vec<usize>, Vec<u32>) {
    let mut dense = vec![0u8; rows * classes];
    let mut offsets = vec![0];
    let mut indices = Vec::new();
    for r in 0..rows {
        for &k in positives {
            dense[r * classes + k as usize] = 1;
            indices.push(k);
        }
        offsets.push(indices.len());
    }
    (dense, offsets, indices)
}

/// Short sparse rows with many positives run as dense labels: the same bits, in both
/// precisions, with and without class weights, up to the longest such row (1024 classes).
#[test]
fn short_sparse_rows_give_the_dense_bits() {
    let rows = 3;
    for classes in [80, 1024] {
        for scheme in Scheme::ALL {
            let (smoothing, logits, _) = big(scheme, rows, classes);
            let last = classes as u32 - 1;
            let positives: Vec<u32> = if scheme.single_label() {
                vec![last]
            } else {
                (0..=last).filter(|k| k % 97 == 0 || *k == last).collect()
            };
            // A row with few positives for its length takes the runs between them instead
            // (summed in another order: see `sparse_runs_agree_with_dense`): here the
            // single-label schemes at N = 1024. (128 is the crate's private `LONG_RUNS`; were
            // it changed, the skip below or the bit comparison would fail.)
            if classes >= 128 * (positives.len() + 1) {
                assert!(scheme.single_label() && classes == 1024);
                continue;
            }
            let (dense, offsets, indices) = same_positives(rows, classes, &positives);
            let csr = Csr::new(classes, &offsets, &indices).unwrap();
            for weights in with_class_weights(scheme, classes) {
                let loss = Loss::new(&smoothing, Reduction::None, &weights).unwrap();
                let dense = Dense::new(classes, &dense);
                let mut gd = vec![0.0f32; rows * classes];
                let mut gs = vec![0.0f32; rows * classes];
                let d = loss.forward_backward(&logits, &dense, &mut gd).unwrap();
                let s = loss.forward_backward(&logits, &csr, &mut gs).unwrap();
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let bits32 = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                let (d, s) = (d.per_row().unwrap(), s.per_row().unwrap());
                assert_eq!(bits32(d), bits32(s), "{scheme} N = {classes}: losses");
                assert_eq!(
                    bits32(&gd),
                    bits32(&gs),
                    "{scheme} N = {classes}: gradients"
                );
                let wide: Vec<f64> = logits.iter().map(|&x| f64::from(x)).collect();
                let mut gd = vec![0.0f64; rows * classes];
                let mut gs = vec![0.0f64; rows * classes];
                let d = loss.forward_backward(&wide, &dense, &mut gd).unwrap();
                let s = loss.forward_backward(&wide, &csr, &mut gs).unwrap();
                let (d, s) = (d.per_row().unwrap(), s.per_row().unwrap());
                assert_eq!(bits(d), bits(s), "{scheme} N = {classes}: f64 losses");
                assert_eq!(
                    bits(&gd),
                    bits(&gs),
                    "{scheme} N = {classes}: f64 gradients"
                );
            }
        }
    }
}

/// Long dense rows with few positives (at most 32, a run of at least 128 classes per
/// positive, from 4096 classes: the crate's `PATCHED`, `LONG_RUNS` and `LIST_ROW`) run as
/// the sparse rows with the same positives in the sigmoid and softmax families: the same
/// bits, forward and forward-backward, in both precisions, with and without class weights.
/// ZLPR's dense rows keep their labels and are left out.
#[test]
fn long_dense_rows_with_few_positives_give_the_sparse_bits() {
    let rows = 3;
    for classes in [4096, 20011] {
        let last = classes as u32 - 1;
        for scheme in Scheme::ALL.into_iter().filter(|&s| s != Scheme::Zlpr) {
            let (smoothing, logits, _) = big(scheme, rows, classes);
            let sets: Vec<Vec<u32>> = if scheme.single_label() {
                vec![vec![0], vec![last / 2 + 3]]
            } else {
                // Ends, neighbours, a remainder's worth apart, and the most that are listed.
                let most = (0..32).map(|i| 5 + 97 * i).collect();
                let most = if classes >= 128 * 33 {
                    most
                } else {
                    vec![0, 1, 2]
                };
                vec![vec![0, 15, 16, 4000, last], vec![last], most]
            };
            for positives in &sets {
                let (dense, offsets, indices) = same_positives(rows, classes, positives);
                let csr = Csr::new(classes, &offsets, &indices).unwrap();
                let dense = Dense::new(classes, &dense);
                let what = format!("{scheme} N = {classes}, {} positives", positives.len());
                for weights in with_class_weights(scheme, classes) {
                    let loss = Loss::new(&smoothing, Reduction::None, &weights).unwrap();
                    let mut gd = vec![0.0f32; rows * classes];
                    let mut gs = vec![0.0f32; rows * classes];
                    let d = loss.forward_backward(&logits, &dense, &mut gd).unwrap();
                    let s = loss.forward_backward(&logits, &csr, &mut gs).unwrap();
                    assert_eq!(bits(&d, &gd), bits(&s, &gs), "{what}");
                    let d = loss.forward(&logits, &dense).unwrap();
                    let s = loss.forward(&logits, &csr).unwrap();
                    assert_eq!(bits(&d, &[]), bits(&s, &[]), "{what}, forward");
                    let wide: Vec<f64> = logits.iter().map(|&x| f64::from(x)).collect();
                    let mut gd = vec![0.0f64; rows * classes];
                    let mut gs = vec![0.0f64; rows * classes];
                    let d = loss.forward_backward(&wide, &dense, &mut gd).unwrap();
                    let s = loss.forward_backward(&wide, &csr, &mut gs).unwrap();
                    let bits64 = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    let (d, s) = (d.per_row().unwrap(), s.per_row().unwrap());
                    assert_eq!(bits64(d), bits64(s), "{what}: f64 losses");
                    assert_eq!(bits64(&gd), bits64(&gs), "{what}: f64 gradients");
                }
            }
        }
    }
}

/// Long rows with few positives take the run-by-run sparse path: it must agree with the
/// dense labels (to rounding: the lanes sum in another order).
#[test]
fn sparse_runs_agree_with_dense() {
    let (rows, classes) = (3, 2000);
    for scheme in Scheme::ALL {
        let (smoothing, logits, _) = big(scheme, rows, classes);
        let logits: Vec<f64> = logits.iter().map(|&x| f64::from(x)).collect();
        let positives: &[u32] = if scheme.single_label() {
            &[777]
        } else {
            &[0, 15, 16, 1999]
        };
        let (dense, offsets, indices) = same_positives(rows, classes, positives);
        let csr = Csr::new(classes, &offsets, &indices).unwrap();
        // Class weights too: weighted rows take the runs with other coefficients.
        for weights in with_class_weights(scheme, classes) {
            let loss = Loss::new(&smoothing, Reduction::None, &weights).unwrap();
            let mut gd = vec![0.0; rows * classes];
            let mut gs = vec![0.0; rows * classes];
            let d = loss
                .forward_backward(&logits, &Dense::new(classes, &dense), &mut gd)
                .unwrap();
            let s = loss.forward_backward(&logits, &csr, &mut gs).unwrap();
            for (a, b) in d.per_row().unwrap().iter().zip(s.per_row().unwrap()) {
                assert!(close(*a, *b, 0.0, 1e-14), "{scheme}: {a} vs {b}");
            }
            for (a, b) in gd.iter().zip(&gs) {
                assert!(
                    close(*a, *b, 1e-300, 1e-14) || (a - b).abs() < 1e-17,
                    "{scheme}: {a} vs {b}"
                );
            }
        }
    }
}

/// Long `f32` softmax rows with plain coefficients try the fused pass first, or, after a row
/// that missed it, the maximum first (`softmax_row`): a hint that must change no bits. Each
/// row of a batch that mixes hits and misses (a negative maximum, a confident row, whose
/// other terms are too small to take from the full sum) gives the bits it gives alone, and
/// the forward pass the forward-backward pass's losses; dense and sparse labels, both
/// dispatches.
#[test]
fn fused_rows_keep_their_bits_in_any_batch() {
    let classes = 3000;
    for scheme in [Scheme::MlUniform, Scheme::Uniform] {
        let (smoothing, base, _) = big(scheme, 2, classes);
        let hit = base[..classes].to_vec();
        let hit2 = base[classes..].to_vec();
        let negative: Vec<f32> = hit.iter().map(|&x| x - 30.0).collect();
        let mut confident = vec![-40.0f32; classes];
        confident[1234] = 30.0;
        let rows = [
            &negative, &hit, &confident, &hit2, &negative, &negative, &hit2,
        ];
        let logits: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        let positives: &[u32] = if scheme.single_label() {
            &[1234]
        } else {
            &[7, 1234, 2999]
        };
        let (dense, offsets, indices) = same_positives(rows.len(), classes, positives);
        let csr = Csr::new(classes, &offsets, &indices).unwrap();
        let dense = Dense::new(classes, &dense);
        let (one, one_offsets, one_indices) = same_positives(1, classes, positives);
        let one_csr = Csr::new(classes, &one_offsets, &one_indices).unwrap();
        let one_dense = Dense::new(classes, &one);
        for dispatch in [Dispatch::Auto, Dispatch::Portable] {
            let loss = Loss::new(&smoothing, Reduction::None, &Weights::default())
                .unwrap()
                .with_dispatch(dispatch);
            let what = format!("{scheme} {dispatch:?}");
            same_bits_alone(
                &loss,
                &logits,
                &rows,
                &dense,
                &one_dense,
                &format!("{what} dense"),
            );
            same_bits_alone(
                &loss,
                &logits,
                &rows,
                &csr,
                &one_csr,
                &format!("{what} sparse"),
            );
        }
    }
}

/// Each row of `batch` gives the bits it gives alone (`one`, its labels as a batch of one
/// row), and the forward pass gives the forward-backward pass's losses.
fn same_bits_alone<Y: Labels>(
    loss: &Loss,
    logits: &[f32],
    rows: &[&Vec<f32>],
    batch: &Y,
    one: &Y,
    what: &str,
) {
    let classes = rows[0].len();
    let mut g = vec![0f32; logits.len()];
    let all = loss.forward_backward(logits, batch, &mut g).unwrap();
    let forward = loss.forward(logits, batch).unwrap();
    assert_eq!(bits(&all, &[]), bits(&forward, &[]), "{what}");
    for (r, row) in rows.iter().enumerate() {
        let mut gr = vec![0f32; classes];
        let alone = loss.forward_backward(row, one, &mut gr).unwrap();
        let in_batch = Value::PerRow(vec![all.per_row().unwrap()[r]]);
        assert_eq!(
            bits(&in_batch, &g[r * classes..(r + 1) * classes]),
            bits(&alone, &gr),
            "{what}: row {r}"
        );
    }
}
