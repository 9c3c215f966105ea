//! Seeded inputs for the checks: valid problems for any scheme, mixing moderate logits,
//! log-spaced magnitudes (1e-30 to 1e4), the adversarial set and the edges of `exp`.

use crate::{Batch, Family, Param, Params, Problem, Scheme, Smoothing, Weights};

/// splitmix64: small, seedable, the same stream on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `items` (non-empty).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

/// The adversarial logits of the acceptance criteria.
pub const ADVERSARIAL: [f64; 15] = [
    0.0, 1e-8, -1e-8, 30.0, -30.0, 88.0, -88.0, 100.0, -100.0, 700.0, -700.0, 1e4, -1e4, 1.0, -1.0,
];

/// Logits near the edges of `exp` in f32 (~88.7 overflow, ~-103.9 to zero) and f64 (~709.8,
/// ~-745.1), and of the f32 range.
pub const EDGES: [f64; 12] = [
    88.72, -88.72, 89.0, -103.9, 709.78, -709.78, 710.0, -745.1, 3.0e38, -3.0e38, 1e-30, -1e-30,
];

/// A logit of one of four kinds: moderate uniform, log-spaced magnitude (1e-30 to 1e4),
/// adversarial, edge.
pub fn logit(rng: &mut Rng) -> f64 {
    let sign = if rng.coin() { 1.0 } else { -1.0 };
    match rng.below(8) {
        0..=3 => rng.unit() * 20.0 - 10.0,
        4 | 5 => sign * 10f64.powf(rng.unit() * 34.0 - 30.0),
        6 => rng.pick(&ADVERSARIAL),
        _ => rng.pick(&EDGES),
    }
}

/// Parameters valid for `scheme`, as exact decimals, and a prior for `classes` classes.
pub fn params(rng: &mut Rng, scheme: Scheme, classes: usize) -> Params {
    let eps = match scheme {
        Scheme::BceSymmetric => rng.pick(&["0", "0.05", "0.1", "0.2", "0.45", "0.4999"]),
        Scheme::BceHalf | Scheme::BcePerClass => rng.pick(&["0", "0.05", "0.1", "0.3", "0.9"]),
        _ => rng.pick(&["0", "0.05", "0.1", "0.3", "0.9", "1"]),
    };
    let (alpha, beta) = rng.pick(&[
        ("0", "0"),
        ("0.1", "0.02"),
        ("0.05", "0.05"),
        ("0.3", "0.6"),
        ("0", "0.1"),
    ]);
    let raw: Vec<f64> = (0..classes).map(|_| rng.unit() + 0.01).collect();
    let total: f64 = raw.iter().sum();
    let decimal = |s: &str| Param::decimal(s).unwrap_or(Param::new(0.0));
    Params {
        eps: Some(decimal(eps)),
        alpha: Some(decimal(alpha)),
        beta: Some(decimal(beta)),
        prior: Some(raw.iter().map(|u| Param::new(u / total)).collect()),
    }
}

/// Labels of one row valid for `scheme`.
pub fn labels(rng: &mut Rng, scheme: Scheme, classes: usize) -> Vec<u8> {
    let mut y = vec![0u8; classes];
    if classes == 0 {
        return y;
    }
    if scheme.single_label() {
        y[rng.below(classes)] = 1;
        return y;
    }
    for v in &mut y {
        *v = u8::from(rng.below(3) == 0);
    }
    if scheme.family() == Family::Softmax && !y.contains(&1) {
        y[rng.below(classes)] = 1;
    }
    if rng.below(10) == 0 {
        y.fill(1);
    }
    y
}

/// Weights the scheme accepts: sometimes class weights, sometimes positive weights.
pub fn weights(rng: &mut Rng, scheme: Scheme, classes: usize) -> Weights {
    let draw = |rng: &mut Rng| -> Vec<Param> {
        (0..classes)
            .map(|_| Param::new(rng.pick(&[0.0, 0.5, 1.0, 2.0, 3.0, 0.1])))
            .collect()
    };
    let family = scheme.family();
    Weights {
        class: (family != Family::Zlpr && rng.below(3) == 0).then(|| draw(rng)),
        pos: (family == Family::Sigmoid && rng.below(3) == 0).then(|| draw(rng)),
    }
}

/// A random valid problem for `scheme`: `rows` rows of 1 to 12 classes.
///
/// # Errors
/// None in practice (every draw is valid by construction); an error would name the draw.
pub fn problem(rng: &mut Rng, scheme: Scheme, rows: usize) -> crate::Result<Problem> {
    let classes = scheme.min_classes().max(1 + rng.below(12));
    let logits: Vec<Vec<f64>> = (0..rows)
        .map(|_| (0..classes).map(|_| logit(rng)).collect())
        .collect();
    let labels: Vec<Vec<u8>> = (0..rows).map(|_| labels(rng, scheme, classes)).collect();
    let smoothing = Smoothing::new(scheme, &params(rng, scheme, classes))?;
    let batch = Batch::from_rows(&logits, &labels)?;
    Problem::new(smoothing, weights(rng, scheme, classes), batch)
}

/// The same problem with every input rounded to `f32` (and taken as that exact value), so the
/// reference of the result is the exact value the `f32` formulas approximate. A prior whose
/// rounded entries no longer sum to 1 within tolerance is renormalised in `f64`.
///
/// # Errors
/// As [`Problem::new`] (not expected: rounding keeps every input valid).
pub fn rounded_to_f32(problem: &Problem) -> crate::Result<Problem> {
    let round = |p: &Param| Param::new(f64::from(p.value_f32()));
    let s = problem.smoothing();
    let mut params = Params {
        eps: Some(round(s.eps())),
        alpha: Some(round(s.alpha())),
        beta: Some(round(s.beta())),
        prior: (!s.prior().is_empty()).then(|| s.prior().iter().map(round).collect()),
    };
    let w = problem.weights();
    let weights = Weights {
        class: w.class.as_ref().map(|v| v.iter().map(round).collect()),
        pos: w.pos.as_ref().map(|v| v.iter().map(round).collect()),
    };
    let b = problem.batch();
    let logits: Vec<Vec<f64>> = (0..b.rows())
        .map(|r| b.logits(r).iter().map(|&x| f64::from(x as f32)).collect())
        .collect();
    let labels: Vec<Vec<bool>> = (0..b.rows()).map(|r| b.labels(r).to_vec()).collect();
    let smoothing = match Smoothing::new(s.scheme(), &params) {
        Ok(smoothing) => smoothing,
        Err(_) => {
            if let Some(prior) = &mut params.prior {
                let total: f64 = prior.iter().map(Param::value).sum();
                for p in prior.iter_mut() {
                    *p = Param::new(p.value() / total);
                }
            }
            Smoothing::new(s.scheme(), &params)?
        }
    };
    Problem::new(smoothing, weights, Batch::from_rows(&logits, &labels)?)
}
