//! The verification report: every check the crate has, for every scheme, with the measured
//! worst error in each cell, and every claim's verdict.

use std::path::Path;
use std::time::Instant;

use crate::Scheme;
use crate::budget::ulp_budget;
use crate::reference::Reference;
use crate::symbolic::{Checked, DocKind, check_tree};

use super::accuracy::Worst;
use super::fast_checks;
use super::sample::{self, Rng};

/// A deliberate fault, to show that the report fails and names the check when a formula is
/// wrong (used by the tests and by `labelsmooth verify --inject-fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The scheme's closed-form gradient, as the checks see it, is scaled by `1 + 2^-30`.
    Gradient(Scheme),
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// Seed of the random inputs.
    pub seed: u64,
    /// Random problems per scheme (4 rows each) for the accuracy checks.
    pub problems: usize,
    /// The `proofs/` folder.
    pub proofs: &'a Path,
    /// A deliberate fault, or none.
    pub fault: Option<Fault>,
}

/// One check of one scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The check's name (a column of the report).
    pub check: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// The measured worst error (or what was found).
    pub measured: String,
    /// What it must stay within.
    pub budget: String,
}

/// Every check of one scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeRow {
    /// The scheme.
    pub scheme: Scheme,
    /// One cell per check, in column order.
    pub cells: Vec<Cell>,
}

/// A claim's verdict, as the checker reached it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRow {
    /// `C1`..`C14`, `F1`..`F4`.
    pub id: String,
    /// The claim's title.
    pub title: String,
    /// `true`, `false`, `conditional`, or `unsettled` when its derivation failed.
    pub verdict: String,
    /// When a conditional claim holds.
    pub condition: String,
    /// The derivation's failed steps, if any.
    pub failures: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// One row per scheme of [`Scheme::ALL`].
    pub schemes: Vec<SchemeRow>,
    /// Every claim and conversion.
    pub claims: Vec<ClaimRow>,
    /// Seconds taken.
    pub seconds: f64,
}

impl Report {
    /// Whether every check passed and every claim was settled.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// `scheme: check: measured (budget)` for every failed cell, and unsettled claims.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .schemes
            .iter()
            .flat_map(|r| {
                r.cells.iter().filter(|c| !c.passed).map(move |c| {
                    format!(
                        "{}: {}: {} (budget {})",
                        r.scheme, c.check, c.measured, c.budget
                    )
                })
            })
            .collect();
        for c in &self.claims {
            for f in &c.failures {
                out.push(format!("{}: {f}", c.id));
            }
            if c.verdict == "unsettled" {
                out.push(format!("{}: no verdict", c.id));
            }
        }
        out
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        self.schemes
            .first()
            .map(|r| r.cells.iter().map(|c| c.check).collect())
            .unwrap_or_default()
    }
}

/// Runs every check; `progress` receives a line per stage (for stderr).
///
/// # Errors
/// The `proofs/` folder cannot be read or a file in it does not parse.
pub fn run(options: &Options<'_>, progress: &mut dyn FnMut(&str)) -> Result<Report, String> {
    let start = Instant::now();
    progress("checking the derivations in proofs/");
    let derivations = check_tree(options.proofs)?;
    let reference = Reference::default();
    let mut schemes = Vec::new();
    for (index, scheme) in Scheme::ALL.into_iter().enumerate() {
        progress(&format!("checking {scheme}"));
        let mut cells = vec![symbolic_cell(scheme, &derivations)];
        let mut rng = Rng::new(options.seed.wrapping_add(index as u64 * 0x9e37_79b9));
        let (mut w64, mut w32) = (Worst::default(), Worst::default());
        let (mut fast64, mut fast32) = (Worst::default(), Worst::default());
        let mut sparse_agrees = true;
        let mut deterministic = true;
        let factor = match options.fault {
            Some(Fault::Gradient(s)) if s == scheme => 1.0 + 2f64.powi(-30),
            _ => 1.0,
        };
        for _ in 0..options.problems {
            let problem = sample::problem(&mut rng, scheme, 4).map_err(|e| e.to_string())?;
            let exact = reference.evaluate(&problem);
            w64 = w64.max(super::accuracy::measure_with::<f64>(
                &problem, &exact, factor,
            ));
            let (worst, same) = fast_checks::measure::<f64>(&problem, &exact)?;
            fast64 = fast64.max(worst);
            sparse_agrees &= same;
            let narrow = sample::rounded_to_f32(&problem).map_err(|e| e.to_string())?;
            let exact = reference.evaluate(&narrow);
            w32 = w32.max(super::accuracy::measure_with::<f32>(
                &narrow, &exact, factor,
            ));
            let (worst, same) = fast_checks::measure::<f32>(&narrow, &exact)?;
            fast32 = fast32.max(worst);
            sparse_agrees &= same;
        }
        // Large enough to be split across threads.
        let big = sample::problem(&mut rng, scheme, 8).map_err(|e| e.to_string())?;
        deterministic &= fast_checks::deterministic(&big)?;
        // Dual-number checks: AD gradient and Hessian against the closed forms, convexity,
        // shift invariance, minimisers and divergences (module `check`).
        let ad_options = crate::check::AdOptions {
            seed: options.seed,
            problems: options.problems,
            rows: 4,
            reference,
            fault: match options.fault {
                Some(Fault::Gradient(s)) if s == scheme => {
                    Some(crate::check::Fault::GradientScaled(1.0 + 2f64.powi(-30)))
                }
                _ => None,
            },
        };
        let ad = crate::check::check_scheme(scheme, &ad_options).map_err(|e| e.to_string())?;
        let tolerances = crate::check::Tolerances::default();
        let (at_minimum, derivatives): (Vec<String>, Vec<String>) =
            ad.failures(&tolerances).into_iter().partition(|f| {
                f.contains("minimiser") || f.contains("L(z)") || f.contains("divergence")
            });
        cells.push(Cell {
            check: "AD grad/Hessian",
            passed: derivatives.is_empty(),
            measured: if derivatives.is_empty() {
                format!(
                    "{:.0e}/{:.0e}",
                    ad.worst_grad_rel,
                    ad.worst_hess_rel.max(ad.worst_jacobian_rel)
                )
            } else {
                derivatives.join("; ")
            },
            budget: format!("{:.0e}, PSD", tolerances.derivative),
        });
        cells.push(Cell {
            check: "minimiser",
            passed: at_minimum.is_empty() && ad.minimisers > 0,
            measured: if at_minimum.is_empty() {
                format!(
                    "{:.0e}/{:.0e}",
                    ad.worst_minimiser_grad_mpfr, ad.worst_entropy_rel
                )
            } else {
                at_minimum.join("; ")
            },
            budget: format!("{:.0e}", tolerances.minimiser_mpfr),
        });
        let budget = ulp_budget(scheme);
        cells.push(ulp_cell("f64", w64, budget.f64_loss, budget.f64_grad));
        cells.push(ulp_cell("f32", w32, budget.f32_loss, budget.f32_grad));
        let fast = crate::fast::ulp_budget(scheme);
        cells.push(ulp_cell("fast f64", fast64, fast.f64_loss, fast.f64_grad));
        cells.push(ulp_cell("fast f32", fast32, fast.f32_loss, fast.f32_grad));
        cells.push(Cell {
            check: "fast bits",
            passed: sparse_agrees && deterministic,
            measured: match (sparse_agrees, deterministic) {
                (true, true) => "identical".into(),
                (false, _) => "sparse and dense labels differ".into(),
                (true, false) => "thread counts differ".into(),
            },
            budget: "identical".into(),
        });
        schemes.push(SchemeRow { scheme, cells });
    }
    let claims = derivations
        .iter()
        .filter(|c| c.doc.kind != DocKind::Scheme)
        .map(|c| ClaimRow {
            id: c.doc.id.clone(),
            title: c.doc.title.clone(),
            verdict: c
                .verdict
                .as_ref()
                .map_or("unsettled".into(), |v| v.0.name().to_owned()),
            condition: c.verdict.as_ref().map(|v| v.1.clone()).unwrap_or_default(),
            failures: c.failures.clone(),
        })
        .collect();
    Ok(Report {
        schemes,
        claims,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The scheme's derivation: every step checked, normalisation or parameter range included.
fn symbolic_cell(scheme: Scheme, derivations: &[Checked]) -> Cell {
    let found = derivations
        .iter()
        .find(|c| c.doc.kind == DocKind::Scheme && c.doc.id == scheme.name());
    let (passed, measured) = match found {
        None => (false, "no derivation in proofs/schemes".to_owned()),
        Some(c) if !c.failures.is_empty() => (false, c.failures.join("; ")),
        Some(c) => {
            let steps = c
                .outcomes
                .iter()
                .filter(|o| {
                    matches!(
                        o,
                        crate::symbolic::Outcome::Holds | crate::symbolic::Outcome::Range(_)
                    )
                })
                .count();
            (steps > 0, format!("{steps} steps"))
        }
    };
    Cell {
        check: "symbolic",
        passed,
        measured,
        budget: "exact".into(),
    }
}

fn ulp_cell(check: &'static str, worst: Worst, loss: u32, grad: u32) -> Cell {
    Cell {
        check,
        passed: worst.loss <= u64::from(loss) && worst.grad <= u64::from(grad),
        measured: format!("{}/{}", worst.loss, worst.grad),
        budget: format!("{loss}/{grad}"),
    }
}
