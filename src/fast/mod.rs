//! The production fast path: fused, rayon-parallel loss and gradient.
