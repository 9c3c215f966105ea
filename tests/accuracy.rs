//! The `f64` and `f32` formulas against the MPFR reference, in ULPs, for every scheme, on
//! seeded random rows mixing moderate logits, log-spaced magnitudes (1e-30 to 1e4), the
//! adversarial set and the edges of `exp` in both precisions. The worst errors must stay
//! within [`labelsmooth::ulp_budget`].
#![cfg(feature = "verify")]

mod common;

use common::{Rng, rounded_to_f32};
use labelsmooth::reference::Reference;
use labelsmooth::verify::accuracy::{self, Measured, Worst};
use labelsmooth::{Problem, Scheme, UlpBudget, ulp_budget};

/// Problems per scheme, and rows per problem.
const PROBLEMS: usize = 60;
const ROWS: usize = 4;

/// Checks every row of `problem` against the budget, naming the row on failure, and returns
/// the worst errors.
fn measure<F: Measured>(problem: &Problem, reference: &Reference, budget: (u32, u32)) -> Worst {
    let exact = reference.evaluate(problem);
    let worst = accuracy::measure::<F>(problem, &exact);
    if worst.loss > u64::from(budget.0) || worst.grad > u64::from(budget.1) {
        // Find the offending row for the message.
        for row in 0..problem.batch().rows() {
            let one = labelsmooth::Batch::from_rows(
                &[problem.batch().logits(row).to_vec()],
                &[problem.batch().labels(row).to_vec()],
            )
            .unwrap();
            let single =
                Problem::new(problem.smoothing().clone(), problem.weights().clone(), one).unwrap();
            let w = accuracy::measure_against::<F>(&single, reference);
            assert!(
                w.loss <= u64::from(budget.0) && w.grad <= u64::from(budget.1),
                "{} {}: {w:?} ulps (budget {budget:?}) at logits {:?}, labels {:?}",
                problem.smoothing().scheme(),
                F::NAME,
                problem.batch().logits(row),
                problem.batch().labels(row)
            );
        }
    }
    worst
}

#[test]
fn f64_and_f32_stay_within_the_ulp_budget() {
    let seed = common::seed(0x1abe_15e0);
    let reference = Reference::default();
    let mut table = String::from("scheme          f64 loss  f64 grad  f32 loss  f32 grad\n");
    for (index, scheme) in Scheme::ALL.into_iter().enumerate() {
        let UlpBudget {
            f64_loss,
            f64_grad,
            f32_loss,
            f32_grad,
        } = ulp_budget(scheme);
        let mut rng = Rng::new(seed.wrapping_add(index as u64 * 0x9e37_79b9));
        let (mut w64, mut w32) = (Worst::default(), Worst::default());
        for _ in 0..PROBLEMS {
            let problem = common::problem(&mut rng, scheme, ROWS);
            w64 = w64.max(measure::<f64>(&problem, &reference, (f64_loss, f64_grad)));
            let narrow = rounded_to_f32(&problem);
            w32 = w32.max(measure::<f32>(&narrow, &reference, (f32_loss, f32_grad)));
        }
        table += &format!(
            "{:<15} {:>8}  {:>8}  {:>8}  {:>8}\n",
            scheme.name(),
            w64.loss,
            w64.grad,
            w32.loss,
            w32.grad
        );
    }
    eprintln!("worst errors seen (ulps):\n{table}");
}
