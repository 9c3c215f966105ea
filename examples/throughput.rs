//! Prints one JSON line with the fast path's throughput for one shape:
//!
//! ```text
//! cargo run --release --example throughput -- [scheme] [B] [N] [threads] [f32|f64] [dense|sparse]
//! ```
//!
//! defaults `bce_symmetric 4096 80 2 f32 dense`. Logits are uniform in [-8, 8), labels have 5
//! positives per row (N when N < 5; one for single-label schemes), parameters `eps = 0.1`
//! (`alpha = 0.1`, `beta = 0.05`). Each figure is the best of several timed runs of at least
//! 50 ms, in nanoseconds per logit.

use std::time::Instant;

use labelsmooth::fast::{Csr, Dense, Labels, Loss, Precise};
use labelsmooth::{Params, Reduction, Scheme, Smoothing, Weights};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let scheme: Scheme = arg(0, "bce_symmetric").parse()?;
    let rows: usize = arg(1, "4096").parse()?;
    let classes: usize = arg(2, "80").parse()?;
    let threads: usize = arg(3, "2").parse()?;
    let precision = arg(4, "f32");
    let layout = arg(5, "dense");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let (fwd, fwd_bwd) = pool.install(|| match precision.as_str() {
        "f64" => measure::<f64>(scheme, rows, classes, &layout, |x| x),
        _ => measure::<f32>(scheme, rows, classes, &layout, |x| x as f32),
    })?;
    println!(
        "{{\"scheme\":\"{scheme}\",\"precision\":\"{precision}\",\"labels\":\"{layout}\",\
         \"B\":{rows},\"N\":{classes},\"threads\":{threads},\
         \"forward_ns_per_element\":{fwd:.4},\"forward_backward_ns_per_element\":{fwd_bwd:.4}}}"
    );
    Ok(())
}

/// A splitmix64 stream for the inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn measure<T: Precise>(
    scheme: Scheme,
    rows: usize,
    classes: usize,
    layout: &str,
    from: fn(f64) -> T,
) -> Result<(f64, f64), labelsmooth::Error> {
    let mut rng = Rng(42);
    let logits: Vec<T> = (0..rows * classes)
        .map(|_| from((rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 16.0 - 8.0))
        .collect();
    let positives = if scheme.single_label() {
        1
    } else {
        5.min(classes)
    };
    let mut offsets = vec![0usize];
    let mut indices = Vec::new();
    let mut dense = vec![0u8; rows * classes];
    for r in 0..rows {
        let mut row: Vec<u32> = Vec::new();
        while row.len() < positives {
            let k = (rng.next() % classes as u64) as u32;
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
    let params = Params {
        eps: Some(0.1.into()),
        alpha: Some(0.1.into()),
        beta: Some(0.05.into()),
        prior: (scheme == Scheme::MlPrior).then(|| vec![(1.0 / classes as f64).into(); classes]),
    };
    let smoothing = Smoothing::new(scheme, &params)?;
    let loss = Loss::new(&smoothing, Reduction::MeanOverRows, &Weights::default())?;
    let csr = Csr::new(classes, &offsets, &indices)?;
    let dense = Dense::new(classes, &dense);
    if layout == "sparse" {
        time(&loss, &logits, &csr)
    } else {
        time(&loss, &logits, &dense)
    }
}

fn time<T: Precise, Y: Labels>(
    loss: &Loss,
    logits: &[T],
    labels: &Y,
) -> Result<(f64, f64), labelsmooth::Error> {
    let mut grad = vec![T::default(); logits.len()];
    let elements = logits.len() as f64;
    let mut best = |backward: bool| -> Result<f64, labelsmooth::Error> {
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            let mut reps = 0u32;
            while start.elapsed().as_secs_f64() < 0.05 || reps < 3 {
                if backward {
                    std::hint::black_box(loss.forward_backward(logits, labels, &mut grad)?);
                } else {
                    std::hint::black_box(loss.forward(logits, labels)?);
                }
                reps += 1;
            }
            let ns = start.elapsed().as_secs_f64() * 1e9 / (f64::from(reps) * elements);
            best = best.min(ns);
        }
        Ok(best)
    };
    Ok((best(false)?, best(true)?))
}
