//! The fast path against two baselines, per family (`bce_symmetric`, `ml_uniform`, `zlpr`),
//! precision, label layout, shape and mode, on 1 and 2 threads:
//! - `naive`: the composition a framework does, single-threaded: materialise the B x N
//!   targets, then the loss, then the gradient, with scalar `exp`/`ln_1p`;
//! - `stream`: a kernel that only reads the logits and labels and writes a gradient-sized
//!   buffer (the memory bound), on the same threads and chunks as the fast path.
//!
//! One more shape, [`OUT_OF_CACHE`] (640x100000, `f32` forward and backward, bce_symmetric and
//! ml_uniform), takes the fast path and the stream alone: there the stream is the memory
//! bound, which it need not be at 64x100000 on a machine with a large L3.
//!
//! Every group checks the fast result against the naive one before timing. Throughput is in
//! elements (logits); criterion prints elements per second, so ns per element is its inverse.
//!
//! ```text
//! cargo bench --bench fast -- 'bce_symmetric/f32/dense/4096x80/fwd_bwd' \
//!     --warm-up-time 1 --measurement-time 2
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use labelsmooth::fast::{Csr, Dense, Labels, Loss, Precise};
use labelsmooth::{Family, Params, Reduction, Scheme, Smoothing, Weights};
use rayon::prelude::*;

const SHAPES: [(usize, usize); 4] = [(256, 80), (4096, 80), (1024, 1000), (64, 100_000)];
/// The widest shape with ten times the rows: 256 MB of `f32` logits and as much gradient,
/// beyond the L3s measured here (32 MB, and 480 MB as one guest reports it), so the stream
/// runs at the memory's pace. At 64x100000 its 51-58 MB stay partly in a 32 MB L3 between
/// iterations, and wholly in a 480 MB one. Rows of the same width keep the fast path's
/// per-row work (and its use of L2) as at 64x100000.
const OUT_OF_CACHE: (usize, usize) = (640, 100_000);
const SCHEMES: [Scheme; 3] = [Scheme::BceSymmetric, Scheme::MlUniform, Scheme::Zlpr];
const EPS: f64 = 0.1;
const ALPHA: f64 = 0.1;
const BETA: f64 = 0.05;

/// The float operations the baselines need.
trait Float: Precise + Into<f64> {
    fn of(x: f64) -> Self;
    fn exp_(self) -> Self;
    fn ln_1p_(self) -> Self;
    fn ln_(self) -> Self;
}

macro_rules! float {
    ($t:ty) => {
        impl Float for $t {
            fn of(x: f64) -> Self {
                x as $t
            }
            fn exp_(self) -> Self {
                self.exp()
            }
            fn ln_1p_(self) -> Self {
                self.ln_1p()
            }
            fn ln_(self) -> Self {
                self.ln()
            }
        }
    };
}
float!(f32);
float!(f64);

/// Inputs of one shape: logits uniform in [-8, 8), 5 positives per row (1 for single-label
/// schemes), as dense `u8` and as CSR.
struct Inputs<T> {
    rows: usize,
    classes: usize,
    logits: Vec<T>,
    dense: Vec<u8>,
    offsets: Vec<usize>,
    indices: Vec<u32>,
}

fn inputs<T: Float>(rows: usize, classes: usize) -> Inputs<T> {
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let logits = (0..rows * classes)
        .map(|_| T::of((next() >> 11) as f64 / (1u64 << 53) as f64 * 16.0 - 8.0))
        .collect();
    let mut dense = vec![0u8; rows * classes];
    let mut offsets = vec![0];
    let mut indices = Vec::new();
    for r in 0..rows {
        let mut row: Vec<u32> = Vec::new();
        while row.len() < 5.min(classes) {
            let k = (next() % classes as u64) as u32;
            if !row.contains(&k) {
                row.push(k);
            }
        }
        row.sort_unstable();
        for &k in &row {
            dense[r * classes + k as usize] = 1;
        }
        indices.extend(row);
        offsets.push(indices.len());
    }
    Inputs {
        rows,
        classes,
        logits,
        dense,
        offsets,
        indices,
    }
}

/// Baseline (a): materialised targets, then the loss, then the gradient, scalar libm calls.
/// Returns the mean-over-rows loss.
fn naive<T: Float>(scheme: Scheme, x: &Inputs<T>, grad: Option<&mut [T]>) -> f64 {
    let (b, n) = (x.rows, x.classes);
    let one = T::of(1.0);
    let zero = T::of(0.0);
    // 1. Targets (and complements), B x N.
    let mut targets = vec![zero; b * n];
    for r in 0..b {
        let row = &x.dense[r * n..(r + 1) * n];
        let positives = row.iter().filter(|&&y| y == 1).count() as f64;
        for (t, &y) in targets[r * n..(r + 1) * n].iter_mut().zip(row) {
            let pos = y == 1;
            *t = T::of(match scheme.family() {
                Family::Softmax if pos => (1.0 - EPS) / positives + EPS / n as f64,
                Family::Softmax => EPS / n as f64,
                Family::Sigmoid if pos => 1.0 - EPS,
                Family::Sigmoid => EPS,
                _ if pos => 1.0 - ALPHA,
                _ => BETA,
            });
        }
    }
    // 2. The loss.
    let mut total = 0.0f64;
    for r in 0..b {
        let z = &x.logits[r * n..(r + 1) * n];
        let t = &targets[r * n..(r + 1) * n];
        let mut loss = zero;
        match scheme.family() {
            Family::Sigmoid => {
                for (&zk, &tk) in z.iter().zip(t) {
                    let sp = (-zk.abs_()).exp_().ln_1p_();
                    let relu = if zk > zero { zk } else { zero };
                    loss = loss + relu - zk * tk + sp;
                }
            }
            Family::Softmax => {
                let m = z.iter().fold(z[0], |a, &v| if v > a { v } else { a });
                let lse = m + z.iter().fold(zero, |s, &v| s + (v - m).exp_()).ln_();
                for (&zk, &tk) in z.iter().zip(t) {
                    loss = loss + tk * (lse - zk);
                }
            }
            Family::Zlpr => {
                let up = z
                    .iter()
                    .zip(t)
                    .fold(zero, |s, (&v, &tk)| s + (one - tk) * v.exp_());
                let down = z
                    .iter()
                    .zip(t)
                    .fold(zero, |s, (&v, &tk)| s + tk * (-v).exp_());
                loss = up.ln_1p_() + down.ln_1p_();
            }
        }
        total += loss.into();
    }
    // 3. The gradient.
    if let Some(grad) = grad {
        let scale = T::of(1.0 / b as f64);
        for r in 0..b {
            let z = &x.logits[r * n..(r + 1) * n];
            let t = &targets[r * n..(r + 1) * n];
            let g = &mut grad[r * n..(r + 1) * n];
            match scheme.family() {
                Family::Sigmoid => {
                    for ((gk, &zk), &tk) in g.iter_mut().zip(z).zip(t) {
                        *gk = (one / (one + (-zk).exp_()) - tk) * scale;
                    }
                }
                Family::Softmax => {
                    let m = z.iter().fold(z[0], |a, &v| if v > a { v } else { a });
                    let sum = z.iter().fold(zero, |s, &v| s + (v - m).exp_());
                    let st = t.iter().fold(zero, |s, &v| s + v);
                    for ((gk, &zk), &tk) in g.iter_mut().zip(z).zip(t) {
                        *gk = ((zk - m).exp_() / sum * st - tk) * scale;
                    }
                }
                Family::Zlpr => {
                    let up = z
                        .iter()
                        .zip(t)
                        .fold(one, |s, (&v, &tk)| s + (one - tk) * v.exp_());
                    let down = z
                        .iter()
                        .zip(t)
                        .fold(one, |s, (&v, &tk)| s + tk * (-v).exp_());
                    for ((gk, &zk), &tk) in g.iter_mut().zip(z).zip(t) {
                        *gk = ((one - tk) * zk.exp_() / up - tk * (-zk).exp_() / down) * scale;
                    }
                }
            }
        }
    }
    total / b as f64
}

trait Abs {
    fn abs_(self) -> Self;
}
impl<T: Float> Abs for T {
    fn abs_(self) -> Self {
        if self < T::of(0.0) { -self } else { self }
    }
}

/// Baseline (b): read the logits and labels, write a gradient-sized buffer, on the same
/// chunks as the fast path.
fn stream<T: Float>(x: &Inputs<T>, sparse: bool, grad: &mut [T]) {
    let n = x.classes;
    // The fast path's chunking (`src/fast/mod.rs`).
    let elements = x.rows * n / (4 * rayon::current_num_threads());
    let rows_per_chunk = (elements.clamp(1024, 8 * 1024) / n).max(1);
    let half = T::of(0.5);
    grad.par_chunks_mut(rows_per_chunk * n)
        .enumerate()
        .for_each(|(c, g)| {
            let first = c * rows_per_chunk;
            let z = &x.logits[first * n..first * n + g.len()];
            if sparse {
                for (gk, &zk) in g.iter_mut().zip(z) {
                    *gk = zk * half;
                }
                for (i, row) in g.chunks_mut(n).enumerate() {
                    let r = first + i;
                    for &k in &x.indices[x.offsets[r]..x.offsets[r + 1]] {
                        row[k as usize] = row[k as usize] - half;
                    }
                }
            } else {
                let y = &x.dense[first * n..first * n + g.len()];
                for ((gk, &zk), &yk) in g.iter_mut().zip(z).zip(y) {
                    *gk = zk * half - T::of(f64::from(yk));
                }
            }
        });
}

fn smoothing(scheme: Scheme) -> Smoothing {
    let params = Params {
        eps: Some(EPS.into()),
        alpha: Some(ALPHA.into()),
        beta: Some(BETA.into()),
        prior: None,
    };
    Smoothing::new(scheme, &params).expect("valid parameters")
}

/// Checks the fast path against the naive composition (loss and gradient).
fn check<T: Float, Y: Labels>(scheme: Scheme, loss: &Loss, x: &Inputs<T>, labels: &Y) {
    let mut fast = vec![T::of(0.0); x.logits.len()];
    let mut slow = fast.clone();
    let value = loss
        .forward_backward(&x.logits, labels, &mut fast)
        .expect("valid batch");
    let fast_loss: f64 = value.reduced().expect("reduced").into();
    let naive_loss = naive(scheme, x, Some(&mut slow));
    let tolerance = if T::NAME == "f32" { 1e-3 } else { 1e-9 };
    assert!(
        (fast_loss - naive_loss).abs() <= tolerance * naive_loss.abs().max(1.0),
        "{scheme}: fast {fast_loss} vs naive {naive_loss}"
    );
    let scale = 1.0 / x.rows as f64;
    for (a, b) in fast.iter().zip(&slow) {
        let (a, b): (f64, f64) = ((*a).into(), (*b).into());
        assert!(
            (a - b).abs() <= tolerance * scale,
            "{scheme}: grad {a} vs {b}"
        );
    }
}

/// What a group measures.
#[derive(Clone, Copy, PartialEq)]
enum Plan {
    /// The fast path and both baselines, forward and forward+backward.
    Full,
    /// The fast path and the stream, forward+backward only: baseline (a), at about 10 ns per
    /// element, would take seconds per iteration at [`OUT_OF_CACHE`].
    FastAndStream,
}

fn group<T: Float>(c: &mut Criterion, scheme: Scheme, (rows, classes): (usize, usize), plan: Plan) {
    let x = inputs::<T>(rows, classes);
    let loss = Loss::new(
        &smoothing(scheme),
        Reduction::MeanOverRows,
        &Weights::default(),
    )
    .expect("valid loss");
    let dense = Dense::new(classes, &x.dense);
    let csr = Csr::new(classes, &x.offsets, &x.indices).expect("valid CSR");
    check(scheme, &loss, &x, &dense);
    check(scheme, &loss, &x, &csr);
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, 2]
        .into_iter()
        .map(|k| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build();
            (k, pool.expect("thread pool"))
        })
        .collect();
    let mut grad = vec![T::of(0.0); x.logits.len()];
    for sparse in [false, true] {
        for backward in [false, true]
            .into_iter()
            .filter(|&b| b || plan == Plan::Full)
        {
            let name = format!(
                "{scheme}/{}/{}/{rows}x{classes}/{}",
                T::NAME,
                if sparse { "sparse" } else { "dense" },
                if backward { "fwd_bwd" } else { "fwd" }
            );
            let mut g = c.benchmark_group(name);
            g.throughput(Throughput::Elements((rows * classes) as u64));
            g.sample_size(10);
            if plan == Plan::Full {
                g.bench_function("naive", |b| {
                    b.iter(|| {
                        if backward {
                            black_box(naive(scheme, &x, Some(&mut grad)))
                        } else {
                            black_box(naive(scheme, &x, None))
                        }
                    })
                });
            }
            for (k, pool) in &pools {
                g.bench_function(BenchmarkId::new("fast", format!("t{k}")), |b| {
                    pool.install(|| {
                        b.iter(|| match (sparse, backward) {
                            (false, false) => black_box(loss.forward(&x.logits, &dense)),
                            (true, false) => black_box(loss.forward(&x.logits, &csr)),
                            (false, true) => {
                                black_box(loss.forward_backward(&x.logits, &dense, &mut grad))
                            }
                            (true, true) => {
                                black_box(loss.forward_backward(&x.logits, &csr, &mut grad))
                            }
                        })
                    })
                });
                g.bench_function(BenchmarkId::new("stream", format!("t{k}")), |b| {
                    pool.install(|| b.iter(|| stream(&x, sparse, black_box(&mut grad))))
                });
            }
            g.finish();
        }
    }
}

fn benches(c: &mut Criterion) {
    for scheme in SCHEMES {
        for shape in SHAPES {
            group::<f32>(c, scheme, shape, Plan::Full);
            group::<f64>(c, scheme, shape, Plan::Full);
        }
    }
    for scheme in [Scheme::BceSymmetric, Scheme::MlUniform] {
        group::<f32>(c, scheme, OUT_OF_CACHE, Plan::FastAndStream);
    }
}

criterion_group!(fast, benches);
criterion_main!(fast);
