//! The fast path allocates no B x N temporary: its extra memory is O(B) for the per-row
//! losses plus O(threads x N) at most, measured with a counting global allocator.
//!
//! The allocator below is the only `unsafe` of the project's tests: `GlobalAlloc` is an
//! unsafe trait. Each method forwards its arguments unchanged to `System`, which upholds the
//! trait's contract; the counters are plain atomics.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use labelsmooth::fast::{Csr, Dense, Loss};
use labelsmooth::{Params, Reduction, Scheme, Smoothing, Weights};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`, a valid global allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The peak of live heap bytes during `f`, above what was live before it.
fn peak_extra(f: impl FnOnce()) -> usize {
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - before
}

#[test]
fn extra_memory_is_far_below_one_batch() {
    let (rows, classes) = (64usize, 16_384usize);
    let logits: Vec<f32> = (0..rows * classes)
        .map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 5.0)
        .collect();
    let mut dense = vec![0u8; rows * classes];
    let mut offsets = vec![0];
    let mut indices = Vec::new();
    for r in 0..rows {
        for k in [3u32, 500, 9000] {
            dense[r * classes + k as usize] = 1;
            indices.push(k);
        }
        offsets.push(indices.len());
    }
    let mut grad = vec![0f32; rows * classes];
    let batch_bytes = rows * classes * 4;
    let params = Params {
        eps: Some(0.1.into()),
        alpha: Some(0.1.into()),
        beta: Some(0.05.into()),
        prior: None,
    };
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for scheme in [Scheme::BceSymmetric, Scheme::MlUniform, Scheme::Zlpr] {
            let smoothing = Smoothing::new(scheme, &params).unwrap();
            for reduction in [Reduction::None, Reduction::MeanOverRows] {
                let loss = Loss::new(&smoothing, reduction, &Weights::default()).unwrap();
                let csr = Csr::new(classes, &offsets, &indices).unwrap();
                let labels = Dense::new(classes, &dense);
                // Warm the pool so its own start-up allocations are not counted.
                pool.install(|| loss.forward(&logits, &labels).unwrap());
                let extra = pool.install(|| {
                    peak_extra(|| {
                        loss.forward_backward(&logits, &labels, &mut grad).unwrap();
                        loss.forward_backward(&logits, &csr, &mut grad).unwrap();
                        loss.forward(&logits, &labels).unwrap();
                    })
                });
                // Per-row losses (8 B each, and the returned per-row values), a little
                // for rayon's jobs; nothing of size B x N (batch_bytes = 4 MiB).
                let bound = rows * 16 + threads * classes * 8 + 64 * 1024;
                assert!(
                    extra <= bound,
                    "{scheme} {reduction} on {threads} threads: {extra} extra bytes \
                     (bound {bound}, batch {batch_bytes})"
                );
            }
        }
    }
}
