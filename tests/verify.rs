//! The main job: `labelsmooth` with no arguments prints the verification report and exits 0;
//! a deliberately broken formula makes it exit 1 and name the failing check.
#![cfg(feature = "cli")]

use std::process::Command;

fn labelsmooth(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_labelsmooth"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_report_passes_and_covers_every_scheme_and_claim() {
    let (code, out) = labelsmooth(&["--problems", "8"]);
    assert_eq!(code, 0, "{out}");
    for scheme in labelsmooth::Scheme::ALL {
        assert!(out.contains(scheme.name()), "{scheme} missing:\n{out}");
    }
    for id in (1..=14)
        .map(|k| format!("C{k} "))
        .chain((1..=4).map(|k| format!("F{k} ")))
    {
        assert!(out.contains(&id), "{id} missing");
    }
    assert!(out.contains("all checks passed"));
    let (code, json) = labelsmooth(&["verify", "--json", "--problems", "4"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["passed"], true);
    assert_eq!(
        doc["schemes"].as_array().unwrap().len(),
        labelsmooth::Scheme::ALL.len()
    );
}

#[test]
fn a_broken_gradient_fails_the_report_and_is_named() {
    let (code, out) = labelsmooth(&[
        "verify",
        "--problems",
        "8",
        "--inject-fault",
        "gradient:bce_half",
    ]);
    assert_eq!(code, 1, "{out}");
    let failed = out.split("FAILED:").nth(1).unwrap_or_default();
    assert!(failed.contains("bce_half: f64:"), "{out}");
    assert!(
        !failed.contains("uniform:"),
        "only the broken scheme fails:\n{out}"
    );
}
