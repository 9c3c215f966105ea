//! The accuracy the fast path promises against the exact values.

use crate::UlpBudget;
use crate::scheme::{Family, Scheme};

/// The largest error, in units in the last place, of the per-row loss and of each gradient
/// entry computed by [`crate::fast::Loss`] (reduction none), against the exact value (the
/// MPFR reference) of the same inputs: logits as given, parameters and weights rounded once
/// to the logit type.
///
/// A gradient entry is a difference of two terms and crosses zero; where it is within the
/// budget's number of round-off units of the larger term (`S = sum w q` for the softmax
/// family, `w max(1-t, pi t)` for the sigmoid family, 1 for ZLPR), it also passes, as for
/// [`crate::ulp_budget`]. Losses are sums of non-negative terms and have no such floor.
///
/// Set at about twice the worst error measured by `tests/fast_accuracy.rs` (seeded random
/// rows, log-spaced magnitudes from 1e-30 to 1e4, the edges of `exp`, wide rows).
pub const fn ulp_budget(scheme: Scheme) -> UlpBudget {
    match scheme.family() {
        Family::Softmax => UlpBudget {
            f64_loss: 8,
            f64_grad: 8,
            f32_loss: 4,
            f32_grad: 8,
        },
        Family::Sigmoid => UlpBudget {
            f64_loss: 8,
            f64_grad: 8,
            f32_loss: 8,
            f32_grad: 8,
        },
        Family::Zlpr => UlpBudget {
            f64_loss: 16,
            f64_grad: 16,
            f32_loss: 16,
            f32_grad: 16,
        },
    }
}
