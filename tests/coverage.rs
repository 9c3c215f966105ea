//! Coverage: every scheme of `Scheme::ALL` has each kind of check. A scheme added to the
//! catalog without its AD, Hessian, minimiser, symbolic or reference checks fails here.
#![cfg(feature = "cli")]

use std::path::PathBuf;

use labelsmooth::Scheme;
use labelsmooth::check::{AdOptions, check_scheme};
use labelsmooth::symbolic::{DocKind, Outcome, check_tree};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_scheme_has_every_kind_of_check() {
    let derivations = check_tree(&root().join("proofs")).unwrap();
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("data/mpmath_golden.json")).unwrap();
    let options = AdOptions {
        problems: 6,
        ..AdOptions::default()
    };
    for scheme in Scheme::ALL {
        let name = scheme.name();
        // Symbolic: a derivation with at least one exact step, all passing.
        let doc = derivations
            .iter()
            .find(|c| c.doc.kind == DocKind::Scheme && c.doc.id == name)
            .unwrap_or_else(|| panic!("{name}: no proofs/schemes/{name}.proof"));
        assert!(doc.failures.is_empty(), "{name}: {:?}", doc.failures);
        assert!(
            doc.outcomes
                .iter()
                .any(|o| matches!(o, Outcome::Holds | Outcome::Range(_))),
            "{name}: no exact step"
        );
        // AD gradient, Hessian, minimiser and divergence checks ran on this scheme.
        let ad = check_scheme(scheme, &options).unwrap();
        assert!(ad.points > 0, "{name}: no AD gradient/Hessian points");
        assert!(ad.minimisers > 0, "{name}: no minimiser checked");
        assert!(ad.divergences > 0, "{name}: no divergence checked");
        // Reference: independent mpmath values and golden vectors for this scheme.
        let cases = golden["cases"].as_array().unwrap();
        assert!(
            cases.iter().any(|c| c["input"]["scheme"] == name),
            "{name}: no mpmath golden case"
        );
        assert!(
            root().join("vectors").join(format!("{name}.json")).exists(),
            "{name}: no golden vectors"
        );
    }
}
