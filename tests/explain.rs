//! `labelsmooth explain` against hand-derived values, and its errors.
#![cfg(feature = "cli")]

use std::process::Command;

use serde_json::Value;

fn explain(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_labelsmooth"))
        .arg("explain")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn float(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn ml_uniform_with_two_positives() {
    // (1 - 0.1)/2 + 0.1/4 = 19/40 and 0.1/4 = 1/40; p* = q; neither passes 1/2, the midpoint is 1/4.
    let (code, out, _) = explain(&[
        "--scheme",
        "ml_uniform",
        "--classes",
        "4",
        "--positives",
        "2",
        "--eps",
        "0.1",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out["target"]["positive"], "19/40");
    assert_eq!(out["target"]["negative"], "1/40");
    assert_eq!(out["target_sum"], "1");
    assert_eq!(out["optimal_probability"]["positive"], "19/40");
    assert_eq!(out["threshold_half_recovers_labels"], false);
    assert!(out["rule"].as_str().unwrap().contains("midpoint 1/4"));
    // log(19/40) - log(1/40) = log 19.
    let gap = float(&out["optimal_logit"]["gap_positive_minus_negative"]);
    assert!((gap - 19f64.ln()).abs() < 1e-15);
    // Two positives: no single-label library setting matches.
    assert_eq!(out["equivalents"]["PyTorch"], "none");
}

#[test]
fn uniform_and_its_library_settings() {
    let (code, out, _) = explain(&[
        "--scheme",
        "uniform",
        "--classes",
        "10",
        "--positives",
        "1",
        "--eps",
        "0.1",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out["target"]["positive"], "91/100");
    let gap = float(&out["optimal_logit"]["gap_positive_minus_negative"]);
    assert!((gap - 91f64.ln()).abs() < 1e-14);
    assert_eq!(out["threshold_half_recovers_labels"], true);
    let pytorch = out["equivalents"]["PyTorch"].as_str().unwrap();
    assert!(
        pytorch.contains("label_smoothing=eps) with eps = 1/10"),
        "{pytorch}"
    );
    // classy_vision(1/9) gives the same targets: (1 + 1/90)/(1 + 1/9) = 91/100.
    let mm = out["equivalents"]["mmpretrain"].as_str().unwrap();
    assert!(
        mm.contains("classy_vision") && mm.contains("eps = 1/9"),
        "{mm}"
    );
}

#[test]
fn binary_schemes_and_keras() {
    // bce_symmetric(0.05) = Keras BinaryCrossentropy(label_smoothing=0.1): 1 - 0.1/2 = 0.95.
    let (code, out, _) = explain(&[
        "--scheme",
        "bce_symmetric",
        "--classes",
        "80",
        "--positives",
        "3",
        "--eps",
        "0.05",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out["target"]["positive"], "19/20");
    assert_eq!(out["target_sum"], "67/10"); // 3 * 19/20 + 77 / 20
    let logit = float(&out["optimal_logit"]["positive"]);
    assert!((logit - 19f64.ln()).abs() < 1e-15); // logit(0.95) = ln 19
    assert!(
        out["equivalents"]["Keras"]
            .as_str()
            .unwrap()
            .contains("a = 1/10")
    );
    assert_eq!(out["equivalents"]["PyTorch"], "none");
    // ZLPR's optimum is half the logit.
    let (_, z, _) = explain(&[
        "--scheme",
        "zlpr",
        "--classes",
        "5",
        "--positives",
        "1",
        "--alpha",
        "0.05",
        "--beta",
        "0.05",
    ]);
    assert!((float(&z["optimal_logit"]["positive"]) - 19f64.ln() / 2.0).abs() < 1e-15);
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    for (args, needle) in [
        (
            &[
                "--scheme",
                "bce_symmetric",
                "--classes",
                "8",
                "--positives",
                "2",
                "--eps",
                "0.7",
            ][..],
            "0 <= eps < 1/2",
        ),
        (
            &[
                "--scheme",
                "uniform",
                "--classes",
                "8",
                "--positives",
                "2",
                "--eps",
                "0.1",
            ][..],
            "2 positive labels",
        ),
        (
            &[
                "--scheme",
                "uniform",
                "--classes",
                "3",
                "--positives",
                "4",
                "--eps",
                "0.1",
            ][..],
            "exceeds",
        ),
        (
            &[
                "--scheme",
                "nope",
                "--classes",
                "3",
                "--positives",
                "1",
                "--eps",
                "0.1",
            ][..],
            "unknown scheme",
        ),
        (
            &["--scheme", "uniform", "--positives", "1", "--eps", "0.1"][..],
            "--classes",
        ),
    ] {
        let (code, _, stderr) = explain(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
