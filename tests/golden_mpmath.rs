//! `labelsmooth eval` against an independent implementation: `scripts/gen_mpmath_golden.py`
//! computes targets, losses and gradients with mpmath at 100 digits, from the formulas written
//! out again in Python, into `tests/data/mpmath_golden.json` (random rows, the adversarial
//! logits 0, ±1e-8, ±30, ±88, ±100, ±700, ±1e4, weights).
//!
//! The reference must agree to 30 significant digits (absolute 1e-30 where the expected value
//! is 0); the f64 column within the f64 ULP budget.
#![cfg(feature = "cli")]

mod common;

use labelsmooth::{Scheme, ulp_budget};
use rug::Float;
use serde_json::Value;

const GOLDEN: &str = include_str!("data/mpmath_golden.json");

fn float(v: &Value) -> Float {
    let text = v.as_str().unwrap_or_else(|| panic!("{v} is not a string"));
    Float::with_val(512, Float::parse(text).unwrap())
}

/// Whether `got` agrees with `want` to 30 significant digits (absolutely to 1e-30 at 0).
fn agrees(got: &Float, want: &Float) -> bool {
    let diff = Float::with_val(512, got - want).abs();
    if want.is_zero() {
        diff < 1e-30
    } else {
        diff <= Float::with_val(512, want.abs_ref()) * 1e-30
    }
}

#[test]
fn reference_agrees_with_mpmath_to_30_digits_and_f64_within_budget() {
    let golden: Value = serde_json::from_str(GOLDEN).unwrap();
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 150, "only {} golden cases", cases.len());
    let mut checked = 0usize;
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let scheme: Scheme = case["input"]["scheme"].as_str().unwrap().parse().unwrap();
        seen.insert(scheme.name());
        let out = common::eval_ok(&case["input"]);
        let want = &case["expected"];
        let got = &out["reference"];
        let mut check = |what: String, g: &Value, w: &Value| {
            let (g, w) = (float(g), float(w));
            assert!(agrees(&g, &w), "{name} {what}: eval {g} vs mpmath {w}");
            checked += 1;
        };
        check(
            "mean_over_rows".into(),
            &got["mean_over_rows"],
            &want["mean_over_rows"],
        );
        let budget = ulp_budget(scheme);
        for (r, (gr, wr)) in got["rows"]
            .as_array()
            .unwrap()
            .iter()
            .zip(want["rows"].as_array().unwrap())
            .enumerate()
        {
            check(format!("row {r} loss"), &gr["loss"], &wr["loss"]);
            for key in ["targets", "grad"] {
                let (g, w) = (gr[key].as_array().unwrap(), wr[key].as_array().unwrap());
                assert_eq!(g.len(), w.len(), "{name} row {r} {key}");
                for (k, (gk, wk)) in g.iter().zip(w).enumerate() {
                    check(format!("row {r} {key}[{k}]"), gk, wk);
                }
            }
            let f64_loss = out["f64"]["rows"][r]["loss"].as_f64().unwrap();
            let exact = float(&wr["loss"]).to_f64();
            let error = common::ulps_f64(f64_loss, exact);
            assert!(
                error <= u64::from(budget.f64_loss),
                "{name} row {r}: f64 loss {f64_loss:e} vs {exact:e}: {error} ulps"
            );
        }
    }
    assert_eq!(
        seen.len(),
        Scheme::ALL.len(),
        "schemes without golden cases"
    );
    eprintln!("{checked} values agree with mpmath to 30 digits");
}
