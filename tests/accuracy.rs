//! The `f64` and `f32` formulas against the MPFR reference, in ULPs, for every scheme, on
//! seeded random rows mixing moderate logits, log-spaced magnitudes (1e-30 to 1e4), the
//! adversarial set and the edges of `exp` in both precisions. The worst errors must stay
//! within [`labelsmooth::ulp_budget`].
#![cfg(feature = "reference")]

mod common;

use common::{Rng, rounded_to_f32, ulps_f32, ulps_f64};
use labelsmooth::reference::Reference;
use labelsmooth::{Family, Precision, Problem, Scheme, UlpBudget, ulp_budget};
use rug::Float;

/// Problems per scheme, and rows per problem.
const PROBLEMS: usize = 60;
const ROWS: usize = 4;

/// The worst errors seen for one scheme and precision.
#[derive(Default, Debug)]
struct Worst {
    loss: u64,
    grad: u64,
}

/// The allowance for a gradient entry that is a difference of two terms: the budget in ULPs
/// of the exact value, or the same number of units of round-off of the larger term (where the
/// exact value crosses zero, ULPs of it mean nothing).
fn grad_error<F: Precision>(computed: F, exact: &Float, scale: f64, ulps: fn(F, F) -> u64) -> u64 {
    let rounded = F::round_from(exact.to_f64());
    let rounded = if F::NAME == "f32" {
        F::round_from(f64::from(exact.to_f32()))
    } else {
        rounded
    };
    let in_ulps = ulps(computed, rounded);
    let unit = scale * F::epsilon().to_f64();
    let absolute = (Float::with_val(128, computed.to_f64()) - exact)
        .abs()
        .to_f64();
    let in_units = if unit > 0.0 {
        (absolute / unit).ceil() as u64
    } else {
        u64::MAX
    };
    in_ulps.min(in_units)
}

/// The magnitude of the larger of the two terms whose difference is gradient entry `k`.
fn grad_scale(problem: &Problem, row: usize, k: usize) -> f64 {
    let targets = problem.targets::<f64>(row).unwrap();
    let weight = |w: &Option<Vec<labelsmooth::Param>>| w.as_ref().map_or(1.0, |w| w[k].value());
    let w = weight(&problem.weights().class);
    match problem.smoothing().scheme().family() {
        // p_k S - w_k q_k with p_k <= 1: both terms are at most S = sum_j w_j q_j.
        Family::Softmax => {
            let class = problem.weights().class.as_ref();
            (0..targets.len())
                .map(|j| class.map_or(1.0, |c| c[j].value()) * targets[j])
                .sum()
        }
        // w ((1-t) s - pi t (1-s)): terms at most w (1-t) and w pi t.
        Family::Sigmoid => w * (1.0 - targets[k]).max(weight(&problem.weights().pos) * targets[k]),
        // A difference of two shares in [0, 1].
        Family::Zlpr => 1.0,
    }
}

fn measure<F: Precision>(
    problem: &Problem,
    reference: &Reference,
    ulps: fn(F, F) -> u64,
    round: fn(&Float) -> F,
    worst: &mut Worst,
    budget: (u32, u32),
) {
    let exact = reference.evaluate(problem);
    let machine = problem.evaluate::<F>();
    for (row, (e, m)) in exact.rows.iter().zip(&machine.rows).enumerate() {
        let logits = problem.batch().logits(row);
        if F::NAME == "f32" && logits.iter().any(|x| x.abs() > f64::from(f32::MAX)) {
            continue; // outside the f32 range: not an f32 input.
        }
        let loss_error = ulps(m.loss, round(&e.loss));
        assert!(
            loss_error <= u64::from(budget.0),
            "{} {}: loss off by {loss_error} ulps (budget {}) at row {row}: logits {logits:?}, \
             labels {:?}, computed {:?}, exact {}",
            problem.smoothing().scheme(),
            F::NAME,
            budget.0,
            problem.batch().labels(row),
            m.loss,
            e.loss
        );
        worst.loss = worst.loss.max(loss_error);
        for (k, (g, ge)) in m.gradient.iter().zip(&e.gradient).enumerate() {
            let error = grad_error(*g, ge, grad_scale(problem, row, k), ulps);
            assert!(
                error <= u64::from(budget.1),
                "{} {}: grad[{k}] off by {error} ulps (budget {}) at row {row}: logits \
                 {logits:?}, labels {:?}, computed {g:?}, exact {ge}",
                problem.smoothing().scheme(),
                F::NAME,
                budget.1,
                problem.batch().labels(row)
            );
            worst.grad = worst.grad.max(error);
        }
    }
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
            measure::<f64>(
                &problem,
                &reference,
                ulps_f64,
                Float::to_f64,
                &mut w64,
                (f64_loss, f64_grad),
            );
            let narrow = rounded_to_f32(&problem);
            measure::<f32>(
                &narrow,
                &reference,
                ulps_f32,
                Float::to_f32,
                &mut w32,
                (f32_loss, f32_grad),
            );
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
