//! The golden vectors load back into the library and the fast path reproduces them within its
//! published `f64` ULP budget (`labelsmooth::fast::ulp_budget`). (The vectors' logits are
//! binary64 values, so they test the `f64` path; `tests/fast_accuracy.rs` tests `f32` against
//! MPFR at `f32` inputs.)
#![cfg(feature = "cli")]

use labelsmooth::fast::{Dense, Loss};
use labelsmooth::verify::accuracy::{Measured, gradient_error, gradient_scale};
use labelsmooth::{Batch, Param, Params, Problem, Reduction, Scheme, Smoothing, Weights};
use rug::Float;
use serde_json::Value;

/// A parameter as the vectors write it: a decimal string (exact) or a number (binary64).
fn param(v: &Value) -> Param {
    match v {
        Value::String(s) => Param::decimal(s).unwrap(),
        other => Param::new(other.as_f64().unwrap()),
    }
}

fn list(v: &Value) -> Option<Vec<Param>> {
    v.as_array().map(|a| a.iter().map(param).collect())
}

/// The problem an `eval` document describes.
fn problem(input: &Value) -> Problem {
    let scheme: Scheme = input["scheme"].as_str().unwrap().parse().unwrap();
    let get = |k: &str| input.get(k).filter(|v| !v.is_null()).map(param);
    let params = Params {
        eps: get("eps"),
        alpha: get("alpha"),
        beta: get("beta"),
        prior: list(&input["prior"]),
    };
    let rows = |k: &str| -> Vec<Vec<f64>> {
        input[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect()
    };
    let labels: Vec<Vec<u8>> = rows("labels")
        .into_iter()
        .map(|r| r.into_iter().map(|y| y as u8).collect())
        .collect();
    Problem::new(
        Smoothing::new(scheme, &params).unwrap(),
        Weights {
            class: list(&input["class_weights"]),
            pos: list(&input["pos_weight"]),
        },
        Batch::from_rows(&rows("logits"), &labels).unwrap(),
    )
    .unwrap()
}

fn exact(v: &Value) -> Float {
    Float::with_val(256, Float::parse(v.as_str().unwrap()).unwrap())
}

#[test]
fn the_fast_path_reproduces_the_golden_vectors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut checked = 0;
    for scheme in Scheme::ALL {
        let text = std::fs::read_to_string(dir.join(format!("{}.json", scheme.name()))).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let budget = labelsmooth::fast::ulp_budget(scheme);
        for case in doc["cases"].as_array().unwrap() {
            let name = format!("{scheme} {}", case["name"]);
            let problem = problem(&case["input"]);
            let batch = problem.batch();
            let classes = batch.classes();
            let logits: Vec<f64> = (0..batch.rows())
                .flat_map(|r| batch.logits(r).to_vec())
                .collect();
            let labels: Vec<u8> = (0..batch.rows())
                .flat_map(|r| {
                    batch
                        .labels(r)
                        .iter()
                        .map(|&y| u8::from(y))
                        .collect::<Vec<_>>()
                })
                .collect();
            let loss = Loss::new(problem.smoothing(), Reduction::None, problem.weights()).unwrap();
            let mut grad = vec![0.0; logits.len()];
            let value = loss
                .forward_backward(&logits, &Dense::new(classes, &labels), &mut grad)
                .unwrap();
            let losses = value.per_row().unwrap();
            for (r, row) in case["expected"]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                let error = f64::ulps(losses[r], f64::from_exact(&exact(&row["loss"])));
                assert!(
                    error <= u64::from(budget.f64_loss),
                    "{name} row {r}: loss {error} ulps"
                );
                for (k, g) in row["grad"].as_array().unwrap().iter().enumerate() {
                    let error = gradient_error(
                        grad[r * classes + k],
                        &exact(g),
                        gradient_scale(&problem, r, k),
                    );
                    assert!(
                        error <= u64::from(budget.f64_grad),
                        "{name} row {r} grad[{k}]: {error} ulps"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 300, "only {checked} rows");
}
