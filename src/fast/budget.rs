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
/// rows of 1 to 12 classes and wide rows of up to 316, mixing moderate logits, log-spaced
/// magnitudes from 1e-30 to 1e4, the adversarial set and the edges of `exp`; dense and sparse
/// labels; dispatched and portable kernels). Worst seen over 2,000 problems per scheme
/// (`f64` loss/grad, `f32` loss/grad): softmax family 7/3/4/1, sigmoid family 4/2/3/2,
/// ZLPR 2/1/1/1. ZLPR keeps the generic path's room for the cancellation in `z_j + ln a_j`
/// when its largest term barely exceeds 1.
pub const fn ulp_budget(scheme: Scheme) -> UlpBudget {
    match scheme.family() {
        Family::Softmax => UlpBudget {
            f64_loss: 14,
            f64_grad: 6,
            f32_loss: 8,
            f32_grad: 4,
        },
        Family::Sigmoid => UlpBudget {
            f64_loss: 8,
            f64_grad: 4,
            f32_loss: 6,
            f32_grad: 4,
        },
        Family::Zlpr => UlpBudget {
            f64_loss: 16,
            f64_grad: 8,
            f32_loss: 16,
            f32_grad: 8,
        },
    }
}
