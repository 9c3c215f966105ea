//! The exact checker: it rejects false steps and false claims with counterexamples, `docs/` is
//! what `proofs/` generates, a falsified proof makes `docs --check` fail, every scheme has its
//! symbolic derivation, and derived conditions agree with the crate's own numbers.
#![cfg(feature = "cli")]

use std::path::PathBuf;
use std::process::Command;

use labelsmooth::symbolic::{Document, Item, Outcome, Verdict, check, check_tree};
use labelsmooth::{Family, Params, Scheme, Smoothing};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn checked(text: &str) -> labelsmooth::symbolic::Checked {
    check(Document::parse(text).unwrap())
}

#[test]
fn a_false_step_is_rejected_with_a_counterexample() {
    let c = checked(
        "scheme test\nsymbol N: integer >= 2\nsymbol n: integer in [1, N - 1]\n\
         symbol eps: real in [0, 1]\n\
         check wrong sum: (1 - eps)/n + eps/(N - n) = 1\n\
         check right sum: n*((1 - eps)/n) + (N - n)*(eps/(N - n)) = 1\n",
    );
    assert_eq!(c.failures.len(), 1, "{:?}", c.failures);
    let failure = &c.failures[0];
    assert!(
        failure.contains("wrong sum") && failure.contains("does not hold: at "),
        "{failure}"
    );
    match &c.outcomes[3] {
        Outcome::Fails(Some(cx), _) => {
            // Recompute both sides by hand at the counterexample.
            let get = |k: &str| cx.point[k].clone();
            let (n, big_n, eps) = (get("n"), get("N"), get("eps"));
            let lhs = (rug::Rational::from(1) - &eps) / &n + eps.clone() / (big_n - &n);
            assert_eq!(lhs, cx.lhs);
            assert_eq!(cx.rhs, 1);
            assert_ne!(cx.lhs, cx.rhs);
        }
        other => panic!("expected a counterexample, got {other:?}"),
    }
}

#[test]
fn a_false_claim_gets_the_verdict_false_with_a_counterexample() {
    let c = checked(
        "claim X1\nsymbol N: integer >= 2\nsymbol eps: real in (0, 1]\n\
         verdict identity: 1 - eps + eps/N = 1 - eps\n",
    );
    let (verdict, _, detail) = c.verdict.unwrap();
    assert_eq!(verdict, Verdict::False);
    assert!(detail.contains("counterexample at"), "{detail}");
    let c = checked("claim X2\nsymbol eps: real in [0, 1)\nverdict range: eps: 1 - 2*eps > 0\n");
    let (verdict, condition, _) = c.verdict.unwrap();
    assert_eq!(
        (verdict, condition.as_str()),
        (Verdict::Conditional, "0 <= eps < 1/2")
    );
}

#[test]
fn docs_are_up_to_date_and_a_falsified_step_fails_the_check() {
    let bin = env!("CARGO_BIN_EXE_labelsmooth");
    let status = Command::new(bin)
        .args(["docs", "--check"])
        .status()
        .unwrap();
    assert!(status.success(), "docs/ is stale: run `cargo run -- docs`");

    // Copy proofs/ and make one step false.
    let tmp = std::env::temp_dir().join(format!("labelsmooth-proofs-{}", std::process::id()));
    for sub in ["schemes", "claims", "conversions"] {
        std::fs::create_dir_all(tmp.join(sub)).unwrap();
        for e in std::fs::read_dir(root().join("proofs").join(sub)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, tmp.join(sub).join(p.file_name().unwrap())).unwrap();
        }
    }
    let target = tmp.join("schemes/ml_uniform.proof");
    let text = std::fs::read_to_string(&target).unwrap();
    let broken = text.replace("let qneg = eps/N", "let qneg = eps/(N - n)");
    assert_ne!(text, broken);
    std::fs::write(&target, broken).unwrap();
    let out = Command::new(bin)
        .args(["docs", "--check", "--proofs"])
        .arg(&tmp)
        .arg("--out")
        .arg(root().join("docs"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("ml_uniform") && report.contains("does not hold"),
        "{report}"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn every_scheme_has_a_checked_derivation_and_sigmoid_ranges_match_validation() {
    let all = check_tree(&root().join("proofs")).unwrap();
    for scheme in Scheme::ALL {
        let doc = all
            .iter()
            .find(|c| c.doc.id == scheme.name())
            .unwrap_or_else(|| panic!("proofs/schemes/{}.proof is missing", scheme.name()));
        assert!(doc.failures.is_empty(), "{scheme}: {:?}", doc.failures);
        let steps = doc
            .outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Holds | Outcome::Range(_)))
            .count();
        assert!(steps >= 1, "{scheme} has no checked step");
        if scheme.family() != Family::Softmax {
            // The range the derivation finds is the one Smoothing::new enforces.
            let derived = doc
                .doc
                .items
                .iter()
                .zip(&doc.outcomes)
                .find_map(|(item, o)| match (item, o) {
                    (Item::Range(label, ..), Outcome::Range(i)) if label == "valid parameters" => {
                        Some(i.plain())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{scheme} derives no valid parameters"));
            let expected = match scheme.valid_range() {
                "alpha >= 0, beta >= 0, alpha + beta < 1" => "0 <= alpha < 1 - beta",
                eps => eps,
            };
            assert_eq!(derived, expected, "{scheme}");
        }
    }
    let claims: Vec<_> = all.iter().filter(|c| c.verdict.is_some()).collect();
    let ids: Vec<&str> = claims.iter().map(|c| c.doc.id.as_str()).collect();
    for id in (1..=14)
        .map(|k| format!("C{k}"))
        .chain((1..=4).map(|k| format!("F{k}")))
    {
        assert!(ids.contains(&id.as_str()), "{id} has no verdict");
    }
}

/// C14's derived condition against the crate's own targets: a positive's fitted probability
/// (its ml_uniform target) exceeds 1/2 exactly where the checker says.
#[test]
fn c14_condition_agrees_with_the_targets() {
    let all = check_tree(&root().join("proofs")).unwrap();
    let c14 = all.iter().find(|c| c.doc.id == "C14").unwrap();
    let intervals: Vec<_> = c14
        .doc
        .items
        .iter()
        .zip(&c14.outcomes)
        .filter_map(|(item, o)| match (item, o) {
            (Item::VerdictRange(..), Outcome::Range(i)) => Some(i.clone()),
            _ => None,
        })
        .collect();
    // Case n = 1: eps below an end that depends on N.
    let one = &intervals[0];
    let upper = one.upper.as_ref().unwrap();
    for classes in 2..=7usize {
        let point = [("N".to_owned(), rug::Rational::from(classes))]
            .into_iter()
            .collect();
        let bound = upper.value.evaluate(&point).unwrap().to_f64();
        for k in 0..=40 {
            let eps = f64::from(k) / 40.0;
            let smoothing = Smoothing::new(Scheme::MlUniform, &Params::eps(eps)).unwrap();
            let mut labels = vec![false; classes];
            labels[0] = true;
            let batch =
                labelsmooth::Batch::from_rows(&[vec![0.0; classes]], &[labels.clone()]).unwrap();
            let problem = labelsmooth::Problem::new(smoothing, Default::default(), batch).unwrap();
            let target = problem.targets::<f64>(0).unwrap()[0];
            let derived = if upper.strict {
                eps < bound
            } else {
                eps <= bound
            };
            // Skip the boundary itself, where rounding decides.
            if (eps - bound).abs() > 1e-12 {
                assert_eq!(
                    target > 0.5,
                    derived,
                    "N = {classes}, eps = {eps}, target {target}"
                );
            }
        }
    }
    // With n >= 2 positives no eps works, and indeed every positive target is at most 1/2.
    assert!(intervals[1..].iter().all(|i| i.empty));
}
