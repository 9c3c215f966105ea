//! The accuracy the generic `f32` and `f64` formulas promise against the exact values.

use crate::scheme::{Family, Scheme};

/// The largest error, in units in the last place, of the per-row loss and of each gradient
/// entry computed by [`crate::Problem::evaluate`], against the exact value (the MPFR
/// reference) of the same inputs.
///
/// For `f32` the inputs are the `f32`-rounded logits and parameters: the budget measures the
/// formulas, not the rounding of their inputs. A gradient entry is a difference of two terms
/// and crosses zero; where it is within the budget's number of round-off units of the larger
/// term (`S = sum w q` for the softmax family, `w max(1-t, pi t)` for the sigmoid family, 1 for
/// ZLPR), it also passes. Losses are sums of non-negative terms and have no such floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UlpBudget {
    /// Per-row loss in `f64`.
    pub f64_loss: u32,
    /// Each gradient entry in `f64`.
    pub f64_grad: u32,
    /// Per-row loss in `f32`.
    pub f32_loss: u32,
    /// Each gradient entry in `f32`.
    pub f32_grad: u32,
}

/// The ULP budget of `scheme` (the README's accuracy table prints this function).
///
/// Set at about twice the worst error measured by `tests/accuracy.rs` over 16 seeds of
/// random, log-spaced, adversarial and edge logits. ZLPR gets more room than it has shown:
/// where its largest term `a_j e^{z_j}` barely exceeds 1, the shift `z_j + ln a_j` cancels and
/// costs up to `|ln a_j| / ln 2` units.
pub const fn ulp_budget(scheme: Scheme) -> UlpBudget {
    match scheme.family() {
        Family::Softmax => UlpBudget {
            f64_loss: 8,
            f64_grad: 6,
            f32_loss: 8,
            f32_grad: 6,
        },
        Family::Sigmoid => UlpBudget {
            f64_loss: 8,
            f64_grad: 4,
            f32_loss: 12,
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
