//! The worst errors of every check over many points of one scheme, as data, and a seeded run
//! over random problems (for the verification report).

use super::entropy::{DivergenceCheck, check_divergence};
use super::minimiser::{MinimiserCheck, check_minimiser};
use super::point::{Fault, PointCheck, check_point};
use super::tolerance::{Tolerances, within};
use crate::reference::Reference;
use crate::verify::sample::{self, ADVERSARIAL, Rng};
use crate::{Family, Result, Scheme};

/// The worst measured errors of every AD check of one scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct AdReport {
    /// The scheme.
    pub scheme: Scheme,
    /// Points at which the derivatives were checked.
    pub points: usize,
    /// Worst [`PointCheck::grad_rel`].
    pub worst_grad_rel: f64,
    /// Worst [`PointCheck::hess_rel`].
    pub worst_hess_rel: f64,
    /// Worst [`PointCheck::jacobian_rel`].
    pub worst_jacobian_rel: f64,
    /// Smallest [`PointCheck::min_eigen_ratio`], or 0 when none was negative.
    pub min_eigen_ratio: f64,
    /// Worst [`PointCheck::null_rel`] (softmax family).
    pub worst_null_rel: Option<f64>,
    /// Worst [`PointCheck::shift_rel`] (softmax family).
    pub worst_shift_rel: Option<f64>,
    /// Rows whose minimiser was checked.
    pub minimisers: usize,
    /// Worst [`MinimiserCheck::grad_f64`].
    pub worst_minimiser_grad_f64: f64,
    /// Worst [`MinimiserCheck::grad_mpfr`].
    pub worst_minimiser_grad_mpfr: f64,
    /// Worst [`MinimiserCheck::entropy_rel`].
    pub worst_entropy_rel: f64,
    /// Points at which `L(z) - L(z*)` was checked in MPFR.
    pub divergences: usize,
    /// Smallest [`DivergenceCheck::excess`] (0 when none was checked).
    pub min_divergence_excess: f64,
    /// Worst [`DivergenceCheck::identity_rel`] (softmax and sigmoid families).
    pub worst_divergence_identity_rel: Option<f64>,
}

/// The larger of two errors, a NaN winning (so it can never hide).
fn worse(a: f64, b: f64) -> f64 {
    if b.is_nan() || b > a { b } else { a }
}

/// The smaller of two ratios, a NaN winning.
fn lower(a: f64, b: f64) -> f64 {
    if b.is_nan() || b < a { b } else { a }
}

fn worse_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(worse(a, b)),
        (a, b) => a.or(b),
    }
}

impl AdReport {
    /// An empty report for `scheme`.
    pub fn new(scheme: Scheme) -> Self {
        AdReport {
            scheme,
            points: 0,
            worst_grad_rel: 0.0,
            worst_hess_rel: 0.0,
            worst_jacobian_rel: 0.0,
            min_eigen_ratio: 0.0,
            worst_null_rel: None,
            worst_shift_rel: None,
            minimisers: 0,
            worst_minimiser_grad_f64: 0.0,
            worst_minimiser_grad_mpfr: 0.0,
            worst_entropy_rel: 0.0,
            divergences: 0,
            min_divergence_excess: 0.0,
            worst_divergence_identity_rel: None,
        }
    }

    /// Adds the errors measured at one point.
    pub fn record_point(&mut self, check: &PointCheck) {
        self.points += 1;
        self.worst_grad_rel = worse(self.worst_grad_rel, check.grad_rel);
        self.worst_hess_rel = worse(self.worst_hess_rel, check.hess_rel);
        self.worst_jacobian_rel = worse(self.worst_jacobian_rel, check.jacobian_rel);
        self.min_eigen_ratio = lower(self.min_eigen_ratio, check.min_eigen_ratio);
        self.worst_null_rel = worse_option(self.worst_null_rel, check.null_rel);
        self.worst_shift_rel = worse_option(self.worst_shift_rel, check.shift_rel);
    }

    /// Adds the errors measured at one row's minimiser.
    pub fn record_minimiser(&mut self, check: &MinimiserCheck) {
        self.minimisers += 1;
        self.worst_minimiser_grad_f64 = worse(self.worst_minimiser_grad_f64, check.grad_f64);
        self.worst_minimiser_grad_mpfr = worse(self.worst_minimiser_grad_mpfr, check.grad_mpfr);
        self.worst_entropy_rel = worse(self.worst_entropy_rel, check.entropy_rel);
    }

    /// Adds one divergence check.
    pub fn record_divergence(&mut self, check: &DivergenceCheck) {
        self.divergences += 1;
        self.min_divergence_excess = lower(self.min_divergence_excess, check.excess);
        self.worst_divergence_identity_rel =
            worse_option(self.worst_divergence_identity_rel, check.identity_rel);
    }

    /// Every check outside `tolerances`, as `"check: measured (tolerance)"`; also a check that
    /// never ran (no point, minimiser or divergence), and a softmax-family report without its
    /// null-vector and shift checks. Empty when everything passed.
    pub fn failures(&self, tolerances: &Tolerances) -> Vec<String> {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        let mut above = |name: &str, measured: f64, tolerance: f64| {
            // Written as "not within" so that NaN fails.
            if !within(measured, tolerance) {
                out.push(format!("{name}: {measured:e} (tolerance {tolerance:e})"));
            }
        };
        let t = tolerances;
        above("AD gradient", self.worst_grad_rel, t.derivative);
        above("AD Hessian", self.worst_hess_rel, t.derivative);
        above(
            "AD Jacobian of the gradient",
            self.worst_jacobian_rel,
            t.derivative,
        );
        above("negative eigenvalue", -self.min_eigen_ratio, t.psd);
        above(
            "minimiser gradient (f64)",
            self.worst_minimiser_grad_f64,
            t.minimiser_f64,
        );
        above(
            "minimiser gradient (MPFR)",
            self.worst_minimiser_grad_mpfr,
            t.minimiser_mpfr,
        );
        above(
            "loss at the minimiser vs entropy",
            self.worst_entropy_rel,
            t.entropy_mpfr,
        );
        above(
            "L(z) - L(z*) < 0",
            -self.min_divergence_excess,
            t.divergence,
        );
        if let Some(x) = self.worst_divergence_identity_rel {
            above("divergence identity", x, t.divergence);
        }
        let softmax = self.scheme.family() == Family::Softmax;
        for (name, value) in [
            ("H 1 = 0", self.worst_null_rel),
            ("shift invariance", self.worst_shift_rel),
        ] {
            match value {
                Some(x) => above(name, x, t.null),
                None if softmax && self.points > 0 => missing.push(format!("{name}: not checked")),
                None => {}
            }
        }
        for (name, count) in [
            ("points", self.points),
            ("minimisers", self.minimisers),
            ("divergences", self.divergences),
        ] {
            if count == 0 {
                missing.push(format!("{name}: none checked"));
            }
        }
        out.extend(missing);
        out
    }
}

/// Three points of `classes` logits drawn from the adversarial set ([`ADVERSARIAL`]: 0, ±1e-8,
/// ±1, ±30, ±88, ±100, ±700, ±1e4): all equal to one value, alternating `v, -v`, and an
/// independent draw per class.
pub fn adversarial_points(classes: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
    let v = rng.pick(&ADVERSARIAL);
    let constant = vec![v; classes];
    let alternating = (0..classes)
        .map(|k| if k % 2 == 0 { v } else { -v })
        .collect();
    let mixed = (0..classes).map(|_| rng.pick(&ADVERSARIAL)).collect();
    vec![constant, alternating, mixed]
}

/// What [`check_scheme`] runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdOptions {
    /// Seed of the random problems (mixed with the scheme's index in [`Scheme::ALL`]).
    pub seed: u64,
    /// Random problems ([`sample::problem`]).
    pub problems: usize,
    /// Rows per problem.
    pub rows: usize,
    /// The MPFR reference of the minimiser and divergence checks.
    pub reference: Reference,
    /// A deliberate error in the closed forms, or none.
    pub fault: Option<Fault>,
}

impl Default for AdOptions {
    fn default() -> Self {
        AdOptions {
            seed: 0x1abe_15e0,
            problems: 50,
            rows: 4,
            reference: Reference::default(),
            fault: None,
        }
    }
}

/// Every AD check of `scheme` on seeded random problems: the derivative checks at each row's
/// logits and at three [`adversarial_points`] per row, the minimiser check of each row that
/// has one, and the divergence check at each row's logits.
///
/// # Errors
/// None expected: the problems are valid by construction; an error would come from drawing
/// one.
pub fn check_scheme(scheme: Scheme, options: &AdOptions) -> Result<AdReport> {
    let index = Scheme::ALL.iter().position(|&s| s == scheme).unwrap_or(0);
    let mut rng = Rng::new(options.seed.wrapping_add(index as u64 * 0x9e37_79b9));
    let mut report = AdReport::new(scheme);
    for _ in 0..options.problems {
        let problem = sample::problem(&mut rng, scheme, options.rows)?;
        let batch = problem.batch();
        for row in 0..batch.rows() {
            let z = batch.logits(row);
            report.record_point(&check_point(&problem, row, z, options.fault)?);
            for point in adversarial_points(batch.classes(), &mut rng) {
                report.record_point(&check_point(&problem, row, &point, options.fault)?);
            }
            if let Some(m) = check_minimiser(&problem, row, &options.reference)? {
                report.record_minimiser(&m);
            }
            if let Some(d) = check_divergence(&problem, row, z, &options.reference)? {
                report.record_divergence(&d);
            }
        }
    }
    Ok(report)
}
