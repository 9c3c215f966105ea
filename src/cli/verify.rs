//! `labelsmooth verify`, the main job: every check for every scheme, one table, then the
//! claims; exit status 1 when anything fails.

use std::io::Write;

use labelsmooth::Scheme;
use labelsmooth::verify::{Fault, Options, Report, run as run_report};
use serde_json::json;

use super::CliError;
use super::docs::Paths;

/// Parsed `verify` arguments.
pub struct VerifyArgs {
    json: bool,
    seed: u64,
    problems: usize,
    fault: Option<Fault>,
}

impl VerifyArgs {
    /// Reads `[--json] [--seed S] [--problems K] [--inject-fault gradient:SCHEME]`.
    pub fn parse(args: &[String]) -> Result<Self, CliError> {
        let mut out = VerifyArgs {
            json: false,
            seed: 0x1abe_15e0,
            problems: 250,
            fault: None,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| CliError::Usage(format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--json" => out.json = true,
                "--seed" => {
                    out.seed = value()?
                        .parse()
                        .map_err(|_| CliError::Usage("--seed needs a whole number".into()))?;
                }
                "--problems" => {
                    out.problems = value()?
                        .parse()
                        .map_err(|_| CliError::Usage("--problems needs a whole number".into()))?;
                }
                "--inject-fault" => {
                    let spec = value()?;
                    let scheme = spec.strip_prefix("gradient:").ok_or_else(|| {
                        CliError::Usage(format!(
                            "--inject-fault takes gradient:SCHEME, not '{spec}'"
                        ))
                    })?;
                    out.fault = Some(Fault::Gradient(scheme.parse::<Scheme>()?));
                }
                other => return Err(CliError::Usage(format!("unknown argument '{other}'"))),
            }
        }
        Ok(out)
    }
}

/// Runs the report; returns the printed text and whether everything passed.
pub fn run(args: &VerifyArgs, paths: &Paths) -> Result<(String, bool), CliError> {
    let options = Options {
        seed: args.seed,
        problems: args.problems,
        proofs: &paths.proofs,
        fault: args.fault,
    };
    let mut stderr = std::io::stderr();
    let mut progress = |line: &str| {
        let _ = writeln!(stderr, "verify: {line}");
    };
    let report = run_report(&options, &mut progress).map_err(CliError::Input)?;
    let passed = report.passed();
    let text = if args.json {
        serde_json::to_string_pretty(&as_json(&report))
            .map_err(|e| CliError::Input(format!("cannot write JSON: {e}")))?
    } else {
        table(&report)
    };
    Ok((text, passed))
}

fn as_json(report: &Report) -> serde_json::Value {
    json!({
        "passed": report.passed(),
        "seconds": report.seconds,
        "schemes": report.schemes.iter().map(|r| json!({
            "scheme": r.scheme.name(),
            "checks": r.cells.iter().map(|c| json!({
                "check": c.check, "passed": c.passed, "measured": c.measured, "budget": c.budget,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "claims": report.claims.iter().map(|c| json!({
            "id": c.id, "title": c.title, "verdict": c.verdict, "condition": c.condition,
        })).collect::<Vec<_>>(),
        "failures": report.failures(),
    })
}

/// The report as a table a person reads at a glance.
fn table(report: &Report) -> String {
    let columns = report.columns();
    let cell_text = |c: &labelsmooth::verify::Cell| {
        let verdict = if c.passed { "ok" } else { "FAIL" };
        if c.budget == "exact" || c.budget == "identical" {
            format!("{verdict} {}", c.measured)
        } else {
            format!("{verdict} {} ({})", c.measured, c.budget)
        }
    };
    let mut widths: Vec<usize> = columns.iter().map(|c| c.len()).collect();
    for r in &report.schemes {
        for (w, c) in widths.iter_mut().zip(&r.cells) {
            *w = (*w).max(cell_text(c).len());
        }
    }
    let mut t = format!(
        "labelsmooth verify: {:.1} s\n\n{:<15}",
        report.seconds, "scheme"
    );
    for (c, w) in columns.iter().zip(&widths) {
        t += &format!("  {c:<w$}");
    }
    t += "\n";
    for r in &report.schemes {
        t += &format!("{:<15}", r.scheme.name());
        for (c, w) in r.cells.iter().zip(&widths) {
            t += &format!("  {:<w$}", cell_text(c));
        }
        t += "\n";
    }
    t += "\nsymbolic: the scheme's derivation in proofs/schemes checked exactly (sums, ranges, minimisers);\n\
          AD grad/Hessian: dual-number gradient and Hessian against the closed forms, worst\n\
          relative error (tolerance; eigenvalues >= 0, softmax: H 1 = 0 and shift invariance);\n\
          minimiser: at z*, MPFR gradient / loss minus target entropy, relative (tolerance);\n\
          f64, f32: the generic formulas, fast f64, fast f32: the fast path, against the MPFR\n\
          reference: worst loss/gradient error in ulps (budget); fast bits: sparse labels give\n\
          the dense result and 1, 2, 7 threads the same bits.\n";
    t += "\nclaims (verdicts reached by the symbolic checker; derivations in docs/claims.md):\n";
    for c in &report.claims {
        let condition = if c.condition.is_empty() {
            String::new()
        } else {
            format!(" [when {}]", c.condition)
        };
        t += &format!("  {:<4} {:<12} {}{condition}\n", c.id, c.verdict, c.title);
    }
    let failures = report.failures();
    if failures.is_empty() {
        t += "\nall checks passed\n";
    } else {
        t += "\nFAILED:\n";
        for f in failures {
            t += &format!("  {f}\n");
        }
    }
    t
}
