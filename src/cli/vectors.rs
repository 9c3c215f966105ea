//! `labelsmooth vectors --out DIR`: golden test vectors for every scheme, one JSON file per
//! scheme, deterministic (a fixed seed), for any framework's test suite.
//!
//! Format (`"format": "labelsmooth-vectors/1"`):
//! ```json
//! {"format": "labelsmooth-vectors/1", "scheme": "ml_uniform", "digits": 40,
//!  "cases": [{"name": "random/0",
//!             "input": {"scheme": "...", "eps": "0.1", "logits": [[...]], "labels": [[...]]},
//!             "expected": {"precision_bits": 256, "mean_over_rows": "...", "sum": "...",
//!                          "mean_over_elements": "...",
//!                          "rows": [{"targets": ["..."], "loss": "...", "grad": ["..."]}]}}]}
//! ```
//! `input` is an `eval` document: parameters as exact decimal strings, weights and logits as
//! JSON numbers (their binary64 values, written so they read back exactly), labels 0/1.
//! `expected` is what `eval` prints under `reference`: values correctly rounded to 40
//! significant digits from 256-bit MPFR evaluations of the exact inputs.

use std::path::Path;

use labelsmooth::verify::sample::Rng;
use labelsmooth::{Family, ParameterSet, Scheme};
use serde_json::{Value, json};

use super::{CliError, eval, input};

/// The adversarial logits of the catalog's acceptance criteria, and the `exp` edges.
const ADVERSARIAL: [f64; 17] = [
    0.0, 1e-8, -1e-8, 30.0, -30.0, 88.0, -88.0, 100.0, -100.0, 700.0, -700.0, 1e4, -1e4, 88.72,
    -103.9, 709.78, -745.1,
];

/// Writes one file per scheme into `out`; returns a summary.
pub fn run(out: &Path) -> Result<String, CliError> {
    std::fs::create_dir_all(out)
        .map_err(|e| CliError::Input(format!("cannot create {}: {e}", out.display())))?;
    let mut total = 0;
    for scheme in Scheme::ALL {
        let doc = vectors(scheme)?;
        total += doc["cases"].as_array().map_or(0, Vec::len);
        let path = out.join(format!("{}.json", scheme.name()));
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| CliError::Input(format!("cannot write JSON: {e}")))?;
        std::fs::write(&path, text + "\n")
            .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(format!(
        "wrote {total} cases for {} schemes to {}",
        Scheme::ALL.len(),
        out.display()
    ))
}

/// The vectors of one scheme.
pub fn vectors(scheme: Scheme) -> Result<Value, CliError> {
    let mut rng = Rng::new(0x5eed_0000 + scheme as u64);
    let mut cases = Vec::new();
    let mut add = |name: String, input: Value| -> Result<(), CliError> {
        let parsed = input::parse(&input.to_string())?;
        let expected = eval::reference_json(&parsed.problem, 256)?;
        cases.push(json!({"name": name, "input": input, "expected": expected}));
        Ok(())
    };
    for k in 0..4 {
        let classes = [3, 5, 8, 2][k];
        let logits: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..classes).map(|_| rng.unit() * 16.0 - 8.0).collect())
            .collect();
        let labels = label_rows(&mut rng, scheme, classes, 3);
        add(
            format!("random/{k}"),
            document(scheme, k, &logits, &labels, None, None),
        )?;
    }
    for k in 0..3 {
        let classes = 6;
        let logits: Vec<Vec<f64>> = (0..3)
            .map(|_| {
                (0..classes)
                    .map(|_| ADVERSARIAL[rng.below(ADVERSARIAL.len())])
                    .collect()
            })
            .collect();
        let labels = label_rows(&mut rng, scheme, classes, 3);
        add(
            format!("adversarial/{k}"),
            document(scheme, k + 1, &logits, &labels, None, None),
        )?;
    }
    // Edge rows: all logits equal, opposite extremes, every label positive where allowed.
    let edge_logits = vec![
        vec![0.0; 4],
        vec![1e4, -1e4, 0.0, 700.0],
        vec![-745.1, 709.78, 88.72, -103.9],
    ];
    let mut edge_labels = label_rows(&mut rng, scheme, 4, 3);
    if !scheme.single_label() {
        edge_labels[0] = vec![1; 4];
    }
    for k in 0..2 {
        add(
            format!("edge/{k}"),
            document(scheme, 4 + k, &edge_logits, &edge_labels, None, None),
        )?;
    }
    if scheme.family() != Family::Zlpr {
        let classes = 4;
        let logits: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..classes).map(|_| rng.unit() * 10.0 - 5.0).collect())
            .collect();
        let labels = label_rows(&mut rng, scheme, classes, 3);
        let class = vec![1.0, 2.0, 0.5, 3.0];
        add(
            "weighted/class".into(),
            document(scheme, 2, &logits, &labels, Some(&class), None),
        )?;
        if scheme.family() == Family::Sigmoid {
            let pos = vec![3.0, 0.5, 1.0, 2.0];
            add(
                "weighted/pos".into(),
                document(scheme, 2, &logits, &labels, None, Some(&pos)),
            )?;
            add(
                "weighted/both".into(),
                document(scheme, 3, &logits, &labels, Some(&class), Some(&pos)),
            )?;
        }
    }
    Ok(json!({
        "format": "labelsmooth-vectors/1",
        "scheme": scheme.name(),
        "digits": 40,
        "cases": cases,
    }))
}

/// Labels valid for the scheme: one positive for single-label schemes, at least one for the
/// softmax family.
fn label_rows(rng: &mut Rng, scheme: Scheme, classes: usize, rows: usize) -> Vec<Vec<u8>> {
    (0..rows)
        .map(|_| {
            let mut y = vec![0u8; classes];
            if scheme.single_label() {
                y[rng.below(classes)] = 1;
            } else {
                for v in &mut y {
                    *v = u8::from(rng.below(3) == 0);
                }
                if scheme.family() == Family::Softmax && !y.contains(&1) {
                    y[rng.below(classes)] = 1;
                }
            }
            y
        })
        .collect()
}

/// An eval document with the `k`-th parameter setting of the scheme (0 is no smoothing).
fn document(
    scheme: Scheme,
    k: usize,
    logits: &[Vec<f64>],
    labels: &[Vec<u8>],
    class: Option<&[f64]>,
    pos: Option<&[f64]>,
) -> Value {
    let mut doc = json!({"scheme": scheme.name()});
    let classes = logits.first().map_or(0, Vec::len);
    match scheme.parameters() {
        ParameterSet::AlphaBeta => {
            let (alpha, beta) = [
                ("0", "0"),
                ("0.1", "0.02"),
                ("0.05", "0.05"),
                ("0.3", "0.6"),
                ("0", "0.1"),
                ("0.25", "0"),
            ][k % 6];
            doc["alpha"] = json!(alpha);
            doc["beta"] = json!(beta);
        }
        set => {
            let eps = match scheme {
                Scheme::BceSymmetric => ["0", "0.1", "0.05", "0.2", "0.49", "0.3"][k % 6],
                Scheme::BceHalf | Scheme::BcePerClass => {
                    ["0", "0.1", "0.05", "0.2", "0.999", "0.5"][k % 6]
                }
                _ => ["0", "0.1", "0.05", "0.2", "1", "0.5"][k % 6],
            };
            doc["eps"] = json!(eps);
            if set == ParameterSet::EpsPrior {
                // A prior in hundredths that sums to exactly 1.
                let mut prior: Vec<u32> = (1..=classes as u32).collect();
                let total: u32 = prior.iter().sum();
                let mut hundredths: Vec<u32> = prior.iter_mut().map(|u| *u * 100 / total).collect();
                let rest = 100 - hundredths.iter().sum::<u32>();
                if let Some(last) = hundredths.last_mut() {
                    *last += rest;
                }
                doc["prior"] = json!(
                    hundredths
                        .iter()
                        .map(|h| format!("{}", f64::from(*h) / 100.0))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
    if let Some(w) = class {
        doc["class_weights"] = json!(w);
    }
    if let Some(w) = pos {
        doc["pos_weight"] = json!(w);
    }
    doc["logits"] = json!(logits);
    doc["labels"] = json!(labels);
    doc
}
