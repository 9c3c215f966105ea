//! Dual-number checks of every scheme in `Scheme::ALL`: the AD gradient and Hessian of the
//! shipped generic formulas against the closed forms, positive semi-definiteness, the softmax
//! family's null vector and shift invariance, and the minimisers with their losses in MPFR, on
//! seeded random rows (seed from `LABELSMOOTH_SEED`) and the adversarial logits. A deliberately
//! wrong closed form must be caught.
#![cfg(feature = "verify")]

mod common;

use common::{ADVERSARIAL, Rng};
use labelsmooth::check::{
    AdOptions, AdReport, Fault, Tolerances, ad_gradient, adversarial_points, check_divergence,
    check_minimiser, check_point, check_scheme, minimiser, minimiser_mpfr, target_entropy,
};
use labelsmooth::reference::Reference;
use labelsmooth::{Batch, Family, Param, Params, Problem, Scheme, Smoothing, Weights};

/// Random problems per scheme and rows per problem: 11 schemes x 250 x 4 = 11,000 random rows,
/// each checked at its own logits and at three adversarial points, plus a sweep of every
/// adversarial value per scheme.
const PROBLEMS: usize = 250;
const ROWS: usize = 4;

fn report_line(r: &AdReport) -> String {
    let opt = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.1e}"));
    format!(
        "{:<15} {:>6} {:>8.1e} {:>8.1e} {:>8.1e} {:>9.1e} {:>8} {:>8} {:>5} {:>8.1e} {:>8.1e} {:>8.1e} {:>5} {:>9.1e} {:>8}",
        r.scheme.name(),
        r.points,
        r.worst_grad_rel,
        r.worst_hess_rel,
        r.worst_jacobian_rel,
        r.min_eigen_ratio,
        opt(r.worst_null_rel),
        opt(r.worst_shift_rel),
        r.minimisers,
        r.worst_minimiser_grad_f64,
        r.worst_minimiser_grad_mpfr,
        r.worst_entropy_rel,
        r.divergences,
        r.min_divergence_excess,
        opt(r.worst_divergence_identity_rel),
    )
}

const HEADER: &str = "scheme          points     grad     hess      jac  min eig     H1=0    shift  mins  min g64 min gMP  entropy  divs    excess identity";

/// A problem of one row.
fn one_row(scheme: Scheme, params: &Params, weights: Weights, z: &[f64], y: &[u8]) -> Problem {
    let smoothing = Smoothing::new(scheme, params).unwrap();
    Problem::new(smoothing, weights, Batch::from_rows(&[z], &[y]).unwrap()).unwrap()
}

fn eps(value: &str) -> Params {
    Params {
        eps: Some(Param::decimal(value).unwrap()),
        ..Params::default()
    }
}

/// A regression test: the dual part of softplus(z) at exactly z = 0 once had the wrong sign,
/// so the AD gradient of the sigmoid family there was wrong. By hand, bce_symmetric(0.1) on a
/// positive label at z = 0: `s - t = 1/2 - 9/10 = -2/5`.
#[test]
fn sigmoid_ad_gradient_at_an_exact_zero_logit() {
    let problem = one_row(
        Scheme::BceSymmetric,
        &eps("0.1"),
        Weights::default(),
        &[0.0],
        &[1],
    );
    for z in [0.0, -0.0] {
        let (_, ad) = ad_gradient(&problem, 0, &[z]).unwrap();
        assert!((ad[0] + 0.4).abs() < 1e-15, "z = {z:?}: {ad:?}");
    }
}

#[test]
fn every_scheme_passes_every_ad_check() {
    let seed = common::seed(0xad_c4ec);
    let tolerances = Tolerances::default();
    let reference = Reference::default();
    let mut table = format!("{HEADER}\n");
    let mut failures = Vec::new();
    let mut random = 0;
    let mut points_in_all = 0;
    for (index, scheme) in Scheme::ALL.into_iter().enumerate() {
        let mut rng = Rng::new(seed.wrapping_add(index as u64 * 0x9e37_79b9));
        let mut report = AdReport::new(scheme);
        let mut shown = 0;
        for _ in 0..PROBLEMS {
            let problem = common::problem(&mut rng, scheme, ROWS);
            let batch = problem.batch();
            for row in 0..batch.rows() {
                random += 1;
                let mut points = vec![batch.logits(row).to_vec()];
                points.extend(adversarial_points(batch.classes(), &mut rng));
                for z in &points {
                    let check = check_point(&problem, row, z, None).unwrap();
                    report.record_point(&check);
                    let found = check.failures(&tolerances);
                    if !found.is_empty() && shown < 3 {
                        shown += 1;
                        failures.push(format!(
                            "{scheme} at {z:?}, labels {:?}, targets {:?}, weights {:?}: {found:?}",
                            batch.labels(row),
                            problem.targets::<f64>(row).unwrap(),
                            problem.weights()
                        ));
                    }
                }
                if let Some(m) = check_minimiser(&problem, row, &reference).unwrap() {
                    report.record_minimiser(&m);
                    let found = m.failures(&tolerances);
                    if !found.is_empty() && shown < 6 {
                        shown += 1;
                        failures.push(format!(
                            "{scheme} minimiser {:?}, labels {:?}, targets {:?}, weights {:?}: {found:?}",
                            minimiser(&problem, row).unwrap(),
                            batch.labels(row),
                            problem.targets::<f64>(row).unwrap(),
                            problem.weights()
                        ));
                    }
                }
                if let Some(d) = check_divergence(&problem, row, &points[0], &reference).unwrap() {
                    report.record_divergence(&d);
                }
            }
        }
        // Every adversarial value, for certain: constant, alternating and mixed rows.
        let y: &[u8] = if scheme.single_label() {
            &[1, 0, 0, 0]
        } else {
            &[1, 0, 1, 0]
        };
        let problem = one_row(
            scheme,
            &interior(scheme, 4),
            Weights::default(),
            &[0.0; 4],
            y,
        );
        for v in ADVERSARIAL {
            for z in [[v; 4], [v, -v, v, -v], [v, 0.5, -v, 1e-8]] {
                let check = check_point(&problem, 0, &z, None).unwrap();
                report.record_point(&check);
                let found = check.failures(&tolerances);
                if !found.is_empty() {
                    failures.push(format!("{scheme} at {z:?}: {found:?}"));
                }
                if let Some(d) = check_divergence(&problem, 0, &z, &reference).unwrap() {
                    report.record_divergence(&d);
                }
            }
        }
        points_in_all += report.points;
        table += &report_line(&report);
        table.push('\n');
        for f in report.failures(&tolerances) {
            failures.push(format!("{scheme}: {f}"));
        }
    }
    eprintln!("{table}");
    assert!(random >= 10_000, "only {random} random points");
    eprintln!("{random} random rows, {points_in_all} points in all");
    assert!(failures.is_empty(), "seed {seed}: {failures:#?}");
}

/// Parameters that give every scheme interior targets (`eps`, `alpha`, `beta` > 0).
fn interior(scheme: Scheme, classes: usize) -> Params {
    let mut rng = Rng::new(7);
    let mut params = common::params(&mut rng, scheme, classes);
    params.eps = Some(Param::decimal("0.1").unwrap());
    params.alpha = Some(Param::decimal("0.1").unwrap());
    params.beta = Some(Param::decimal("0.2").unwrap());
    params
}

#[test]
fn a_wrong_closed_form_is_caught() {
    let tolerances = Tolerances::default();
    let z = [0.5, -1.25, 2.0];
    for scheme in Scheme::ALL {
        let problem = one_row(
            scheme,
            &interior(scheme, 3),
            Weights::default(),
            &z,
            &[0, 1, 0],
        );
        let clean = check_point(&problem, 0, &z, None).unwrap();
        assert!(
            clean.failures(&tolerances).is_empty(),
            "{scheme}: {clean:?}"
        );
        for fault in [
            Fault::GradientScaled(1.01),
            Fault::GradientScaled(1.0 + 2f64.powi(-30)),
            Fault::HessianScaled(1.01),
            Fault::HessianDiagonalOnly,
        ] {
            let check = check_point(&problem, 0, &z, Some(fault)).unwrap();
            let found = check.failures(&tolerances);
            // The sigmoid family's Hessian is diagonal: dropping the off-diagonal is no fault.
            let separable = scheme.family() == Family::Sigmoid;
            if fault == Fault::HessianDiagonalOnly && separable {
                assert!(found.is_empty(), "{scheme}: {found:?}");
            } else {
                assert!(
                    !found.is_empty(),
                    "{scheme}: {fault:?} not caught: {check:?}"
                );
            }
        }
    }
}

#[test]
fn a_small_fault_fails_the_scheme_report() {
    let tolerances = Tolerances::default();
    let seed = common::seed(0xfa17);
    for scheme in Scheme::ALL {
        let options = AdOptions {
            seed,
            problems: 12,
            ..AdOptions::default()
        };
        let clean = check_scheme(scheme, &options).unwrap();
        let found = clean.failures(&tolerances);
        assert!(found.is_empty(), "{scheme}: {found:?}");
        let faulty = AdOptions {
            fault: Some(Fault::GradientScaled(1.0 + 2f64.powi(-30))),
            ..options
        };
        let report = check_scheme(scheme, &faulty).unwrap();
        assert!(
            report.worst_grad_rel > 2f64.powi(-31),
            "{scheme}: {}",
            report_line(&report)
        );
        assert!(
            report
                .failures(&tolerances)
                .iter()
                .any(|f| f.starts_with("AD gradient"))
        );
    }
}

#[test]
fn psd_check_rejects_an_indefinite_matrix() {
    let h = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
    assert!(labelsmooth::check::psd_ratio(&h, 0.0) < -0.3);
}

#[test]
fn the_loss_at_the_minimiser_is_the_entropy_of_the_target() {
    let bits = Reference::DEFAULT_PRECISION;
    // Softmax, unit weights: H(q).
    let problem = one_row(
        Scheme::Uniform,
        &eps("0.1"),
        Weights::default(),
        &[0.0; 3],
        &[0, 1, 0],
    );
    let q = problem.targets::<f64>(0).unwrap();
    let h: f64 = q.iter().map(|q| -q * q.ln()).sum();
    let entropy = target_entropy(&problem, 0, bits).unwrap().to_f64();
    assert!(
        (entropy - h).abs() <= 4.0 * f64::EPSILON * h,
        "{entropy} vs {h}"
    );
    // Sigmoid, unit weights: sum of binary entropies.
    let problem = one_row(
        Scheme::BceSymmetric,
        &eps("0.1"),
        Weights::default(),
        &[0.0; 2],
        &[1, 0],
    );
    let binary = |t: f64| -t * t.ln() - (1.0 - t) * (1.0 - t).ln();
    let entropy = target_entropy(&problem, 0, bits).unwrap().to_f64();
    assert!((entropy - 2.0 * binary(0.1)).abs() <= 4.0 * f64::EPSILON * entropy);
    // ZLPR, t = (0.9, 0.2, 0.9): 2 ln(1 + 0.3 + 0.4 + 0.3) = 2 ln 2; z* = (ln 3, -ln 2, ln 3).
    let params = Params {
        alpha: Some(Param::decimal("0.1").unwrap()),
        beta: Some(Param::decimal("0.2").unwrap()),
        ..Params::default()
    };
    let problem = one_row(
        Scheme::Zlpr,
        &params,
        Weights::default(),
        &[0.0; 3],
        &[1, 0, 1],
    );
    let entropy = target_entropy(&problem, 0, bits).unwrap().to_f64();
    assert!((entropy - 2.0 * 2f64.ln()).abs() <= 4.0 * f64::EPSILON);
    let at = minimiser(&problem, 0).unwrap().unwrap();
    for (x, want) in at.iter().zip([3f64.ln(), -(2f64.ln()), 3f64.ln()]) {
        assert!((x - want).abs() <= 4.0 * f64::EPSILON, "{at:?}");
    }
    let reference = Reference::default();
    let check = check_minimiser(&problem, 0, &reference).unwrap().unwrap();
    assert!(
        check.failures(&Tolerances::default()).is_empty(),
        "{check:?}"
    );
    // Above the minimum everywhere else, and at the minimum itself.
    let exact = minimiser_mpfr(&problem, 0, bits).unwrap().unwrap();
    let at_min = reference.row_at(&problem, 0, &exact).unwrap().loss;
    let gap = rug::Float::with_val(bits, &at_min - &target_entropy(&problem, 0, bits).unwrap());
    assert!(gap.to_f64().abs() < 1e-70);
    for v in ADVERSARIAL {
        let d = check_divergence(&problem, 0, &[v, -v, 0.5], &reference)
            .unwrap()
            .unwrap();
        assert!(d.failures(&Tolerances::default()).is_empty(), "{d:?}");
    }
}

#[test]
fn minimisers_exist_exactly_for_interior_targets() {
    for scheme in Scheme::ALL {
        let y = [0u8, 1, 0];
        let inside = one_row(
            scheme,
            &interior(scheme, 3),
            Weights::default(),
            &[0.0; 3],
            &y,
        );
        assert!(minimiser(&inside, 0).unwrap().is_some(), "{scheme}");
        let mut edge = interior(scheme, 3);
        edge.eps = Some(Param::new(0.0));
        edge.alpha = Some(Param::new(0.0));
        let outside = one_row(scheme, &edge, Weights::default(), &[0.0; 3], &y);
        assert!(minimiser(&outside, 0).unwrap().is_none(), "{scheme}");
    }
    // A zero class weight leaves a softmax class without a finite optimum, not a sigmoid one.
    let zero = Weights {
        class: Some(vec![Param::new(0.0), Param::new(1.0), Param::new(1.0)]),
        pos: None,
    };
    let softmax = one_row(
        Scheme::Uniform,
        &eps("0.1"),
        zero.clone(),
        &[0.0; 3],
        &[0, 1, 0],
    );
    assert!(minimiser(&softmax, 0).unwrap().is_none());
    let sigmoid = one_row(Scheme::BceHalf, &eps("0.1"), zero, &[0.0; 3], &[0, 1, 0]);
    assert!(minimiser(&sigmoid, 0).unwrap().is_some());
}
