//! Every kind of bad input yields its typed error, and `labelsmooth eval` exits 2 naming it.

#[cfg(feature = "cli")]
mod common;

use labelsmooth::{Batch, Error, Param, Params, Problem, Scheme, Smoothing, Weights};

fn batch(logits: &[&[f64]], labels: &[&[u8]]) -> Batch {
    Batch::from_rows(logits, labels).unwrap()
}

fn problem(scheme: Scheme, weights: Weights, b: Batch) -> Result<Problem, Error> {
    let params = Params {
        eps: Some(0.1.into()),
        alpha: Some(0.1.into()),
        beta: Some(0.1.into()),
        prior: Some(vec![Param::new(0.5), Param::new(0.5)]),
    };
    Problem::new(Smoothing::new(scheme, &params)?, weights, b)
}

#[test]
fn softmax_rows_need_a_positive_and_single_label_schemes_one() {
    let b = || batch(&[&[0.0, 1.0], &[1.0, 2.0]], &[&[1, 0], &[0, 0]]);
    for scheme in Scheme::ALL {
        let result = problem(scheme, Weights::default(), b());
        if scheme.family() == labelsmooth::Family::Softmax {
            assert_eq!(result, Err(Error::NoPositiveLabel { scheme, row: 1 }));
        } else {
            assert!(result.is_ok(), "{scheme}: {result:?}");
        }
    }
    let two = || batch(&[&[0.0, 1.0], &[1.0, 2.0]], &[&[1, 0], &[1, 1]]);
    for scheme in [Scheme::Uniform, Scheme::Others, Scheme::ClassyVision] {
        let err = problem(scheme, Weights::default(), two()).unwrap_err();
        assert_eq!(
            err,
            Error::SeveralPositives {
                scheme,
                row: 1,
                positives: 2
            }
        );
        assert!(err.to_string().contains("row 1"));
    }
    assert!(problem(Scheme::MlUniform, Weights::default(), two()).is_ok());
}

#[test]
fn weights_and_priors_must_fit_the_batch() {
    let b = || batch(&[&[0.0, 1.0, 2.0]], &[&[1, 0, 0]]);
    let w = |v: &[f64]| Some(v.iter().copied().map(Param::new).collect());
    assert_eq!(
        problem(Scheme::MlPrior, Weights::default(), b()),
        Err(Error::LengthMismatch {
            parameter: "prior",
            len: 2,
            classes: 3
        })
    );
    assert_eq!(
        problem(
            Scheme::MlUniform,
            Weights {
                class: w(&[1.0, 2.0]),
                pos: None
            },
            b()
        ),
        Err(Error::LengthMismatch {
            parameter: "class_weights",
            len: 2,
            classes: 3
        })
    );
    // NaN is not equal to itself, so match instead of comparing.
    assert!(matches!(
        problem(Scheme::BceHalf, Weights { class: None, pos: w(&[1.0, f64::NAN, 1.0]) }, b()),
        Err(Error::InvalidEntry { parameter: "pos_weight", index: 1, value }) if value.is_nan()
    ));
    assert_eq!(
        problem(
            Scheme::BceHalf,
            Weights {
                class: w(&[1.0, -2.0, 1.0]),
                pos: None
            },
            b()
        ),
        Err(Error::InvalidEntry {
            parameter: "class_weights",
            index: 1,
            value: -2.0
        })
    );
    assert_eq!(
        problem(
            Scheme::MlUniform,
            Weights {
                class: None,
                pos: w(&[1.0, 1.0, 1.0])
            },
            b()
        ),
        Err(Error::WeightNotApplicable {
            scheme: Scheme::MlUniform,
            parameter: "pos_weight"
        })
    );
    assert_eq!(
        problem(
            Scheme::Zlpr,
            Weights {
                class: w(&[1.0, 1.0, 1.0]),
                pos: None
            },
            b()
        ),
        Err(Error::WeightNotApplicable {
            scheme: Scheme::Zlpr,
            parameter: "class_weights"
        })
    );
    assert_eq!(
        problem(
            Scheme::Others,
            Weights::default(),
            batch(&[&[0.0]], &[&[1]])
        ),
        Err(Error::TooFewClasses {
            scheme: Scheme::Others,
            classes: 1,
            min: 2
        })
    );
}

#[test]
fn evaluation_points_and_rows_are_checked() {
    let p = problem(
        Scheme::BceHalf,
        Weights::default(),
        batch(&[&[0.0, 1.0]], &[&[1, 0]]),
    )
    .unwrap();
    assert_eq!(
        p.loss_at(1, &[0.0, 0.0]),
        Err(Error::RowOutOfRange { row: 1, rows: 1 })
    );
    assert_eq!(
        p.gradient_at(0, &[0.0]),
        Err(Error::PointLength { len: 1, classes: 2 })
    );
    assert_eq!(
        p.targets::<f64>(3),
        Err(Error::RowOutOfRange { row: 3, rows: 1 })
    );
}

/// Runs `labelsmooth eval` on `doc`: exit code, stdout, stderr.
#[cfg(feature = "cli")]
fn eval(doc: &str) -> (i32, String, String) {
    common::labelsmooth(&["eval"], doc)
}

#[cfg(feature = "cli")]
#[test]
fn eval_exits_2_naming_the_problem() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"{"scheme":"bce_symmetric","eps":"0.5","logits":[[1]],"labels":[[1]]}"#,
            &["eps", "0 <= eps < 1/2"],
        ),
        (
            r#"{"scheme":"uniform","eps":"1.5","logits":[[1,0]],"labels":[[1,0]]}"#,
            &["eps", "0 <= eps <= 1"],
        ),
        (
            r#"{"scheme":"bce_asymmetric","alpha":"0.6","beta":"0.4","logits":[[1]],"labels":[[1]]}"#,
            &["alpha + beta", "alpha + beta < 1"],
        ),
        (
            r#"{"scheme":"zlpr","alpha":"0.1","logits":[[1]],"labels":[[1]]}"#,
            &["beta"],
        ),
        (
            r#"{"scheme":"ml_prior","eps":"0.1","prior":["0.5","0.6"],"logits":[[1,0]],"labels":[[1,0]]}"#,
            &["prior", "sums to 1.1"],
        ),
        (
            r#"{"scheme":"ml_prior","eps":"0.1","prior":["1.5","-0.5"],"logits":[[1,0]],"labels":[[1,0]]}"#,
            &["prior[1]", "non-negative"],
        ),
        (
            r#"{"scheme":"ml_uniform","eps":"0.1","logits":[[1,0],[0,1]],"labels":[[1,0],[0,0]]}"#,
            &["row 1", "no positive"],
        ),
        (
            r#"{"scheme":"uniform","eps":"0.1","logits":[[1,0,2]],"labels":[[1,0,1]]}"#,
            &["row 0", "2 positive"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","logits":[[1,0]],"labels":[[1,2]]}"#,
            &["row 0, column 1", "0 or 1"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","logits":[[1,0],[1]],"labels":[[1,0],[1,0]]}"#,
            &["logits row 1", "1 entries"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","logits":[[1,0]],"labels":[[1,0],[1,0]]}"#,
            &["1 rows", "2"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","logits":[[1,0]],"labels":[[1,0]],"class_weights":[1]}"#,
            &["class_weights", "1 entries", "2 classes"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","logits":[[1,"nan"]],"labels":[[1,0]]}"#,
            &["row 0, column 1", "NaN"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","logits":[[1,0],[1e999,0]],"labels":[[1,0],[1,0]]}"#,
            &["row 1, column 0", "inf"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1x","logits":[[1]],"labels":[[1]]}"#,
            &["eps", "0.1x"],
        ),
        (
            r#"{"scheme":"ml_unifrom","eps":"0.1","logits":[[1]],"labels":[[1]]}"#,
            &["ml_unifrom", "ml_uniform"],
        ),
        (
            r#"{"scheme":"bce_half","esp":"0.1","logits":[[1]],"labels":[[1]]}"#,
            &["unknown key 'esp'"],
        ),
        (
            r#"{"scheme":"bce_half","eps":"0.1","labels":[[1]]}"#,
            &["missing key 'logits'"],
        ),
        (r#"{"scheme":"bce_half""#, &["invalid JSON"]),
    ];
    for (doc, needles) in cases {
        let (code, stdout, stderr) = eval(doc);
        assert_eq!(code, 2, "{doc}: stdout {stdout}");
        assert!(stdout.is_empty(), "{doc}");
        for needle in *needles {
            assert!(
                stderr.contains(needle),
                "{doc}: {stderr:?} lacks {needle:?}"
            );
        }
    }
}
