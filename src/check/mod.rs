//! Dual-number checks of every scheme: AD gradient and Hessian against the closed forms, convexity, shift invariance, minimisers.
