//! The golden vectors: committed copies are what `labelsmooth vectors` generates, they load
//! back, `eval` reproduces their reference values exactly, and the `f64` formulas stay within
//! the published ULP budget of them.
#![cfg(feature = "cli")]

mod common;

use std::path::PathBuf;
use std::process::Command;

use labelsmooth::{Scheme, ulp_budget};
use serde_json::Value;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_labelsmooth")
}

#[test]
fn committed_vectors_are_current_and_reproduce() {
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let fresh = std::env::temp_dir().join(format!("labelsmooth-vectors-{}", std::process::id()));
    let status = Command::new(bin())
        .arg("vectors")
        .arg("--out")
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(status.success());
    let mut cases = 0;
    for scheme in Scheme::ALL {
        let name = format!("{}.json", scheme.name());
        let text = std::fs::read_to_string(committed.join(&name)).unwrap();
        assert_eq!(
            text,
            std::fs::read_to_string(fresh.join(&name)).unwrap(),
            "vectors/{name} is stale: run `cargo run -- vectors --out vectors`"
        );
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["format"], "labelsmooth-vectors/1");
        assert_eq!(doc["scheme"], scheme.name());
        let budget = ulp_budget(scheme);
        for case in doc["cases"].as_array().unwrap() {
            cases += 1;
            let out = common::eval_ok(&case["input"]);
            assert_eq!(
                out["reference"], case["expected"],
                "{name} {}",
                case["name"]
            );
            for (r, row) in case["expected"]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                let exact: f64 = row["loss"].as_str().unwrap().parse().unwrap();
                let got = out["f64"]["rows"][r]["loss"].as_f64().unwrap();
                let error = common::ulps_f64(got, exact);
                assert!(
                    error <= u64::from(budget.f64_loss),
                    "{name} {} row {r}: {got:e} vs {exact:e}",
                    case["name"]
                );
            }
        }
    }
    std::fs::remove_dir_all(&fresh).unwrap();
    assert!(cases >= 100, "only {cases} cases");
}
