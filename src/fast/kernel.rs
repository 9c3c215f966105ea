//! Per-row kernels. Every loop runs over `chunks_exact(W)` of the row with `W` independent
//! lanes and element functions that are branch-free (selects). The remainder calls the very
//! same element function, so a lane and the remainder give the same bits: as one chunk padded
//! with zeros in the sigmoid family (whose sparse rows have a remainder at every positive and
//! after every run of negatives), one element at a time elsewhere.
//!
//! A row is processed in *segments* `[start, end)` with one label source each: the whole row
//! with the dense labels, or, for sparse labels, the runs of negatives between positive
//! indices (a constant `false`) and the positives one by one (a constant `true`). No target
//! row is ever stored.

use std::ops::Range;

use super::isa::{Baseline, Isa};
use super::math::{Real, max, select, shifted_exp, two_diff, two_sum_into};

/// Lanes per chunk.
pub(crate) const W: usize = 16;
/// Chunks summed in lanes before the lanes are folded into the compensated row total.
const BLOCK: usize = 32;
/// The elements of a block: the length of the buffer [`sigmoid_segment`] keeps a block's
/// `exp` in (the caller's, so it is not zeroed for every segment).
pub(crate) const BLOCK_ELEMENTS: usize = BLOCK * W;

/// A dense label (`u8`, `bool`, `f32`, `f64`): 0 or 1.
pub trait DenseLabel: Copy + Send + Sync + 'static {
    /// Whether the label is 1 (meaningful only for valid labels).
    fn positive(self) -> bool;
    /// Whether the label is 0 or 1.
    fn valid(self) -> bool;
    /// Whether every label is 0 or 1: one pass without early exit, which vectorises (the
    /// kernels check a segment's labels this way rather than chunk by chunk).
    #[inline(always)]
    fn all_valid(labels: &[Self]) -> bool {
        labels.iter().fold(true, |a, &y| a & y.valid())
    }
    /// The value as text, for error messages.
    fn describe(self) -> String;
}

impl DenseLabel for u8 {
    #[inline(always)]
    fn positive(self) -> bool {
        self != 0
    }
    #[inline(always)]
    fn valid(self) -> bool {
        self <= 1
    }
    #[inline(always)]
    fn all_valid(labels: &[Self]) -> bool {
        // One `or` per vector of bytes.
        labels.iter().fold(0, |a, &y| a | y) <= 1
    }
    fn describe(self) -> String {
        self.to_string()
    }
}

impl DenseLabel for bool {
    #[inline(always)]
    fn positive(self) -> bool {
        self
    }
    #[inline(always)]
    fn valid(self) -> bool {
        true
    }
    fn describe(self) -> String {
        self.to_string()
    }
}

macro_rules! float_label {
    ($t:ty) => {
        impl DenseLabel for $t {
            #[inline(always)]
            fn positive(self) -> bool {
                self == 1.0
            }
            #[inline(always)]
            fn valid(self) -> bool {
                self == 0.0 || self == 1.0
            }
            fn describe(self) -> String {
                format!("{self:?}")
            }
        }
    };
}
float_label!(f32);
float_label!(f64);

/// Where the labels of a segment come from.
pub(crate) trait Source: Copy {
    /// Whether class `k` (index within the row) is positive.
    fn at(self, k: usize) -> bool;
    /// Whether the labels of the classes in `range` are all valid.
    fn all_valid(self, range: Range<usize>) -> bool;
    /// Whether classes `base..base + W` are positive.
    fn chunk(self, base: usize) -> [bool; W];
    /// The label of every class of the segment, when they all have the same.
    #[inline(always)]
    fn constant(self) -> Option<bool> {
        None
    }
}

/// The dense labels of one row.
#[derive(Clone, Copy)]
pub(crate) struct Dense<'a, L>(pub(crate) &'a [L]);

impl<L: DenseLabel> Source for Dense<'_, L> {
    #[inline(always)]
    fn at(self, k: usize) -> bool {
        self.0[k].positive()
    }
    #[inline(always)]
    fn all_valid(self, range: Range<usize>) -> bool {
        self.0.get(range).is_some_and(L::all_valid)
    }
    #[inline(always)]
    fn chunk(self, base: usize) -> [bool; W] {
        let mut pos = [false; W];
        if let Some(ys) = self.0.get(base..base + W) {
            for i in 0..W {
                pos[i] = ys[i].positive();
            }
        }
        pos
    }
}

/// Sparse labels of one row: its sorted positive classes.
#[derive(Clone, Copy)]
pub(crate) struct Sparse<'a>(pub(crate) &'a [u32]);

impl Source for Sparse<'_> {
    #[inline(always)]
    fn at(self, k: usize) -> bool {
        u32::try_from(k).is_ok_and(|k| self.0.binary_search(&k).is_ok())
    }
    #[inline(always)]
    fn all_valid(self, _: Range<usize>) -> bool {
        true
    }
    #[inline(always)]
    fn chunk(self, base: usize) -> [bool; W] {
        let mut pos = [false; W];
        let first = self.0.partition_point(|&p| (p as usize) < base);
        for &p in self.0.get(first..).unwrap_or(&[]) {
            match (p as usize).checked_sub(base) {
                Some(i) if i < W => pos[i] = true,
                _ => break,
            }
        }
        pos
    }
}

/// Every class of the segment is positive (`true`) or negative (`false`).
#[derive(Clone, Copy)]
pub(crate) struct Const(pub(crate) bool);

impl Source for Const {
    #[inline(always)]
    fn at(self, _: usize) -> bool {
        self.0
    }
    #[inline(always)]
    fn all_valid(self, _: Range<usize>) -> bool {
        true
    }
    #[inline(always)]
    fn chunk(self, _: usize) -> [bool; W] {
        [self.0; W]
    }
    #[inline(always)]
    fn constant(self) -> Option<bool> {
        Some(self.0)
    }
}

/// A chunk of `chunks_exact(W)` as an array.
#[inline(always)]
fn lanes<T: Real>(chunk: &[T]) -> [T; W] {
    let mut a = [T::ZERO; W];
    a.copy_from_slice(chunk);
    a
}

/// Compensated sum of non-negative `f64` terms (Neumaier's compensation).
pub(crate) struct Acc {
    sum: f64,
    comp: f64,
}

impl Acc {
    pub(crate) fn new() -> Self {
        Acc {
            sum: 0.0,
            comp: 0.0,
        }
    }

    #[inline(always)]
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        let err = if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        // An overflowing sum (its exact value is out of range too) keeps no compensation.
        self.comp += if t.is_finite() { err } else { 0.0 };
        self.sum = t;
    }

    /// Whether the sum so far is finite.
    pub(crate) fn is_finite(&self) -> bool {
        self.sum.is_finite()
    }

    #[inline(always)]
    pub(crate) fn total(&self) -> f64 {
        self.sum + self.comp
    }
}

/// Per-lane sums in the logits' own precision with each addition's rounding error kept
/// (Knuth's two-sum), so a block of chunks is summed without converting to `f64` in the
/// inner loop (a wider type there halves the vector width the loop is compiled to).
/// The sum plus the error is the exact lane sum up to a relative `(BLOCK u)^2`. A lane that
/// overflows (its `f64` sum might not) shows as an infinite total: the sigmoid and softmax
/// rows then run again with `WIDE` kernels, every element summed in `f64` (ZLPR's terms are
/// at most 1 and cannot overflow). `K` sums side by side, each in `W` lanes.
pub(crate) struct Lanes<T, const K: usize> {
    sum: [[T; W]; K],
    err: [[T; W]; K],
}

impl<T: Real, const K: usize> Lanes<T, K> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Lanes {
            sum: [[T::ZERO; W]; K],
            err: [[T::ZERO; W]; K],
        }
    }

    /// Adds `x` to lane `i` of sum `k`.
    #[inline(always)]
    fn add(&mut self, k: usize, i: usize, x: T) {
        two_sum_into(&mut self.sum[k][i], &mut self.err[k][i], x);
    }

    /// Adds a chunk to each sum, by `isa`'s two-sum: vectors where it has them (the
    /// arrays' loop was vectorised in 4- and 8-lane pieces joined by inserts, in the softmax
    /// row's sums), the portable loop otherwise; the same bits.
    #[inline(always)]
    fn add_chunks<I: Isa>(&mut self, isa: I, x: &[[T; W]; K]) {
        isa.two_sums(&mut self.sum, &mut self.err, x);
    }

    /// Moves each sum's lanes into its `acc` (widened to `f64` and folded pairwise, see
    /// [`Isa::fold_lanes`]) and starts again from 0.
    #[inline(always)]
    fn drain_into<I: Isa>(&mut self, isa: I, accs: [&mut Acc; K]) {
        for (acc, sum) in accs.into_iter().zip(self.take(isa)) {
            acc.add(sum);
        }
    }

    /// Each sum's lanes folded into one `f64`, as [`Lanes::drain_into`] adds them; starts
    /// again from 0.
    #[inline(always)]
    fn take<I: Isa>(&mut self, isa: I) -> [f64; K] {
        // An overflowed lane's error is NaN (inf - inf), which leaves the total non-finite
        // as the sum alone would: the rows test only for that.
        let mut sums = [0.0; K];
        for (k, total) in sums.iter_mut().enumerate() {
            *total = isa.fold_lanes(self.sum[k], self.err[k]);
        }
        *self = Lanes::new();
        sums
    }
}

/// A row's problems found by a kernel; the driver turns them into typed errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RowFault {
    /// A NaN or infinite logit somewhere in the row.
    NonFinite,
    /// An invalid dense label somewhere in the row.
    BadLabel,
    /// A softmax-family row without positives.
    NoPositive,
    /// A single-label scheme's row with this many positives.
    Several(usize),
}

/// The finiteness check: lanes of `z - z`, 0 for finite `z`, NaN otherwise.
pub(crate) struct Check<T>([T; W]);

impl<T: Real> Check<T> {
    pub(crate) fn new() -> Self {
        Check([T::ZERO; W])
    }
    #[inline(always)]
    #[allow(clippy::eq_op)] // x - x is the point: 0 for finite x, NaN otherwise.
    fn lanes(&mut self, z: &[T; W]) {
        for (c, &x) in self.0.iter_mut().zip(z) {
            *c = *c + (x - x);
        }
    }
    #[inline(always)]
    #[allow(clippy::eq_op)] // As in `lanes`.
    fn one(&mut self, x: T) {
        self.0[0] = self.0[0] + (x - x);
    }
    pub(crate) fn ok(&self) -> bool {
        self.0.iter().all(|&c| c == T::ZERO)
    }
}

// ---------------------------------------------------------------------------------------
// Sigmoid family.

/// The coefficients of one element of the sigmoid family: loss
/// `p softplus(-z) + q softplus(z)`, gradient `qg s - pg (1 - s)`, with `s = sigmoid(z)`.
pub(crate) trait BinCoef<T>: Copy {
    /// `[p, q, p + q, pg, qg]` of class `k` with label `y`.
    fn at(self, k: usize, y: bool) -> [T; 5];
}

/// Per-row constants without weights: `[t, 1-t, t scale, (1-t) scale]` for a positive and a
/// negative label.
#[derive(Clone, Copy)]
pub(crate) struct BinPlain<T> {
    pub(crate) pos: [T; 4],
    pub(crate) neg: [T; 4],
}

impl<T: Real> BinCoef<T> for BinPlain<T> {
    #[inline(always)]
    fn at(self, _: usize, y: bool) -> [T; 5] {
        let [p, q, pg, qg] = std::array::from_fn(|i| select(y, self.pos[i], self.neg[i]));
        // `t + (1 - t)` is exactly 1 (the rounded `t` and `1 - t` need not sum to it), and a
        // literal 1 lets the kernel drop its multiplication.
        [p, q, T::ONE, pg, qg]
    }
}

/// With class weights `w` and positive weights `pi` (each optional, full length N):
/// `p = w pi t`, `q = w (1-t)`.
#[derive(Clone, Copy)]
pub(crate) struct BinWeighted<'a, T> {
    pub(crate) plain: BinPlain<T>,
    pub(crate) class: Option<&'a [T]>,
    pub(crate) pos: Option<&'a [T]>,
}

impl<T: Real> BinCoef<T> for BinWeighted<'_, T> {
    #[inline(always)]
    fn at(self, k: usize, y: bool) -> [T; 5] {
        let [p, q, _, pg, qg] = self.plain.at(k, y);
        let w = self.class.map_or(T::ONE, |w| w[k]);
        let pi = self.pos.map_or(T::ONE, |v| v[k]);
        let wp = w * pi;
        // The sum of the two non-negative terms: `w (1 + (pi - 1) t)` would cancel for a
        // small `pi`.
        let (p, q) = (wp * p, w * q);
        [p, q, p + q, wp * pg, w * qg]
    }
}

/// Loss term and gradient entry of one sigmoid-family element, sharing one `exp`. A NaN
/// logit gives a NaN `|z|`, and an infinite one makes `c |z|` infinite or NaN (`inf` times a
/// zero weight), so a non-finite logit shows in the row's sum.
#[inline(always)]
fn sigmoid_element<T: Real, const FMA: bool>(z: T, coef: [T; 5]) -> (T, T) {
    sigmoid_element_from::<T, FMA>(z, (-z.abs()).exp_nonpos_with::<FMA>(), coef)
}

/// [`sigmoid_element`] given `e = exp(-|z|)`.
///
/// With `l = log(1 + e)`, `softplus(-z) = max(-z, 0) + l` and `softplus(z) = max(z, 0) + l`,
/// so the loss is `c |z| + (p + q) l` with `c = p` for `z < 0` and `q` otherwise: two
/// non-negative terms, one multiply-add. With `x = e/(1 + e) = sigmoid(-|z|)` (at most 1/2),
/// the gradient `qg s - pg (1 - s)`, `s = sigmoid(z)`, is `(pg + qg) x - pg` for `z < 0`
/// (`s = x`) and `qg - (pg + qg) x` otherwise (`1 - s = x`): one multiply-add, whose product
/// carries the smaller of `s` and `1 - s`, so its rounding error is at most that of the two
/// products (`qg s` and `pg (1 - s)`, each from `d = 1/(1 + e)`) it replaced.
#[inline(always)]
fn sigmoid_element_from<T: Real, const FMA: bool>(
    z: T,
    e: T,
    [p, q, sum, pg, qg]: [T; 5],
) -> (T, T) {
    let l = e.log1p_unit_with::<FMA>();
    let x = e / (T::ONE + e);
    let neg = z < T::ZERO;
    let loss = T::madd::<FMA>(select(neg, p, q), z.abs(), sum * l);
    let a = pg + qg;
    (
        loss,
        T::madd::<FMA>(select(neg, a, -a), x, select(neg, -pg, qg)),
    )
}

/// `-|z_i|` over a chunk. Loops here and below, not `array::from_fn`: that was left out of
/// line in some kernels, compiled for the baseline target (SSE) inside an AVX2 one.
#[inline(always)]
fn minus_abs<T: Real>(z: &[T; W]) -> [T; W] {
    let mut x = [T::ZERO; W];
    for i in 0..W {
        x[i] = -z[i].abs();
    }
    x
}

/// `exp(x_i)` over a chunk of `x_i <= 0`, the last step by `isa`.
#[inline(always)]
fn exp_nonpos_lanes<T: Real, I: Isa, const FMA: bool>(isa: I, x: [T; W]) -> [T; W] {
    let mut p = [T::ZERO; W];
    let mut t = [T::ZERO; W];
    for i in 0..W {
        (p[i], t[i]) = x[i].exp_nonpos_parts::<FMA>();
    }
    isa.exp_scale(p, t)
}

/// One segment of a sigmoid-family row: loss terms into `acc`, gradient (when `BACK`) into
/// `g[range]`; `z` and `g` are the whole row, `exps` scratch.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sigmoid_segment<
    T: Real,
    Y: Source,
    C: BinCoef<T>,
    I: Isa,
    const BACK: bool,
    const FMA: bool,
    const WIDE: bool,
>(
    z: &[T],
    g: &mut [T],
    range: Range<usize>,
    y: Y,
    c: C,
    isa: I,
    exps: &mut [T; BLOCK_ELEMENTS],
    acc: &mut Acc,
    bad: &mut bool,
) {
    let start = range.start;
    let zs = &z[range.clone()];
    let mut gs: &mut [T] = if BACK { &mut g[range] } else { &mut [] };
    let (vector, rest) = zs.split_at(if WIDE { 0 } else { zs.len() - zs.len() % W });
    // The labels checked in a pass of their own: in the chunk loop, the check and its
    // flags took about a tenth of the operations.
    *bad |= !y.all_valid(start..start + zs.len());
    let mut sums = Lanes::<T, 1>::new();
    // Chunks added to `sums` since it was last drained.
    let mut pending = 0;
    for (bi, block) in vector.chunks(BLOCK * W).enumerate() {
        // The block's `exp(-|z|)` first, then the rest from it: one chunk's whole chain
        // (about 40 dependent steps) is longer than the out-of-order scheduler can overlap
        // across chunks, and the two shorter loops run about 1.6 times as fast (same
        // operations, same bits).
        for (zc, ec) in block.chunks_exact(W).zip(exps.chunks_exact_mut(W)) {
            let zc = &lanes(zc);
            let e = exp_nonpos_lanes::<T, I, FMA>(isa, minus_abs(zc));
            ec.copy_from_slice(&e);
        }
        for (cj, (zc, ec)) in block.chunks_exact(W).zip(exps.chunks_exact(W)).enumerate() {
            let zc = &lanes(zc);
            let e = lanes(ec);
            let base = start + (bi * BLOCK + cj) * W;
            let mut grad = [T::ZERO; W];
            let ys = y.chunk(base);
            for i in 0..W {
                let k = base + i;
                let (l, gk) = sigmoid_element_from::<T, FMA>(zc[i], e[i], c.at(k, ys[i]));
                sums.add(0, i, l);
                grad[i] = gk;
            }
            if BACK {
                let (head, tail) = std::mem::take(&mut gs).split_at_mut(W);
                head.copy_from_slice(&grad);
                gs = tail;
            }
        }
        pending = block.len() / W;
        if pending == BLOCK {
            // The portable fold: with the AVX-512 one this loop kept a lane's error on the
            // stack (bce_symmetric 10-15% slower).
            sums.drain_into(Baseline, [acc]);
            pending = 0;
        }
    }
    let base = start + zs.len() - rest.len();
    if WIDE {
        for (i, &zk) in rest.iter().enumerate() {
            let k = base + i;
            let (l, gk) = sigmoid_element::<T, FMA>(zk, c.at(k, y.at(k)));
            acc.add(l.to_f64());
            if BACK {
                gs[i] = gk;
            }
        }
    } else if !rest.is_empty() {
        // The remainder as one chunk, padded with zero logits and zero coefficients (loss
        // terms 0, nothing written): a scalar `exp` and `log1p` cost many lanes' worth, and
        // a sparse row has a remainder after every run of negatives and at every positive.
        let len = rest.len();
        let mut zc = [T::ZERO; W];
        zc[..len].copy_from_slice(rest);
        let mut coef = [[T::ZERO; 5]; W];
        for (i, ci) in coef[..len].iter_mut().enumerate() {
            let k = base + i;
            *ci = c.at(k, y.at(k));
        }
        let e = exp_nonpos_lanes::<T, I, FMA>(isa, minus_abs(&zc));
        let mut grad = [T::ZERO; W];
        for i in 0..W {
            let (l, gk) = sigmoid_element_from::<T, FMA>(zc[i], e[i], coef[i]);
            sums.add(0, i, l);
            grad[i] = gk;
        }
        if BACK {
            gs.copy_from_slice(&grad[..len]);
        }
        pending += 1;
    }
    if pending > 0 {
        sums.drain_into(Baseline, [acc]);
    }
}

// ---------------------------------------------------------------------------------------
// Softmax family.

/// The coefficient `c_k = w_k q_k` of `-log p_k`, and the same times the reduction's scale.
pub(crate) trait SoftCoef<T>: Copy {
    /// Whether the second pass sums the coefficients (otherwise the caller has their sum in
    /// closed form).
    const TOTAL: bool;
    /// `(c, c scale)` of class `k` with label `y`.
    fn at(self, k: usize, y: bool) -> [T; 2];
}

/// Targets `pos`/`neg` (and the scaled ones) without per-class data.
#[derive(Clone, Copy)]
pub(crate) struct SoftPlain<T> {
    pub(crate) pos: [T; 2],
    pub(crate) neg: [T; 2],
}

impl<T: Real> SoftCoef<T> for SoftPlain<T> {
    const TOTAL: bool = false;
    #[inline(always)]
    fn at(self, _: usize, y: bool) -> [T; 2] {
        [
            select(y, self.pos[0], self.neg[0]),
            select(y, self.pos[1], self.neg[1]),
        ]
    }
}

/// With class weights and/or `ml_prior`'s per-class `eps u_k`: `q = share y + eps u_k`.
#[derive(Clone, Copy)]
pub(crate) struct SoftWeighted<'a, T> {
    pub(crate) plain: SoftPlain<T>,
    /// `(1-eps)/n` when `prior` is given.
    pub(crate) share: T,
    pub(crate) prior: Option<&'a [T]>,
    pub(crate) class: Option<&'a [T]>,
    pub(crate) scale: T,
}

impl<T: Real> SoftCoef<T> for SoftWeighted<'_, T> {
    const TOTAL: bool = true;
    #[inline(always)]
    fn at(self, k: usize, y: bool) -> [T; 2] {
        let [q, qs] = match self.prior {
            Some(u) => {
                let b = u[k];
                let q = select(y, self.share + b, b);
                [q, q * self.scale]
            }
            None => self.plain.at(k, y),
        };
        match self.class {
            Some(w) => [w[k] * q, w[k] * qs],
            None => [q, qs],
        }
    }
}

/// `max z` over the non-NaN logits (`-MAX` when there are none). Non-finite logits are
/// found later, by the sums they make non-finite.
#[inline(always)]
fn max_of<T: Real>(z: &[T]) -> T {
    // Four chunks at a time into four accumulators: one `max` chain waits its latency per
    // chunk. Spelled out per accumulator (a loop over them was not unrolled, and its lanes
    // went through memory one by one).
    let quads = z.chunks_exact(4 * W);
    let chunks = quads.remainder().chunks_exact(W);
    let rest = chunks.remainder();
    let [mut m, mut m1, mut m2, mut m3] = [[-T::MAX; W]; 4];
    for zq in quads {
        raise_max(&mut m, &zq[..W]);
        raise_max(&mut m1, &zq[W..2 * W]);
        raise_max(&mut m2, &zq[2 * W..3 * W]);
        raise_max(&mut m3, &zq[3 * W..]);
    }
    for i in 0..W {
        m[i] = max(max(m1[i], m[i]), max(m3[i], m2[i]));
    }
    for zc in chunks {
        raise_max(&mut m, zc);
    }
    rest.iter().fold(fold_max(m), |a, &x| max(x, a))
}

/// The largest lane of `m`: halves folded onto each other, four vector steps, not a chain
/// of sixteen.
#[inline(always)]
fn fold_max<T: Real>(mut m: [T; W]) -> T {
    let mut n = W;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            m[i] = max(m[i + n], m[i]);
        }
    }
    m[0]
}

/// Lanes of `m` below those of the chunk `z` take them.
#[inline(always)]
fn raise_max<T: Real>(m: &mut [T; W], z: &[T]) {
    let z = lanes(z);
    for i in 0..W {
        m[i] = max(z[i], m[i]);
    }
}

/// Elements per stripe of [`max_and_index`].
const STRIPE: usize = 4096;

/// `max z` as [`max_of`] (the same value; a zero's sign may differ, which nothing after it
/// sees) and the first index of that value in `z` (0 when there is none). The maximum is
/// taken stripe by stripe, and the index looked for only in the first stripe whose maximum
/// equals the row's: the earlier ones' are smaller. A search of the whole row, after the pass
/// that streams it in, took 5-7% of a long row's time.
#[inline(always)]
pub(crate) fn max_and_index<T: Real, I: Isa>(z: &[T], isa: I) -> (T, usize) {
    let mut m = -T::MAX;
    let mut from = 0;
    for (si, stripe) in z.chunks(STRIPE).enumerate() {
        let s = max_of(stripe);
        if s > m {
            m = s;
            from = si * STRIPE;
        }
    }
    let stripe = &z[from..z.len().min(from + STRIPE)];
    let i = first_index(stripe, m, isa);
    (
        m,
        if stripe.get(i) == Some(&m) {
            from + i
        } else {
            0
        },
    )
}

/// The first index of the value `m` in `z` (0 when there is none). Found chunk by chunk: a
/// row's maximum is located without tracking indices in the pass that finds it.
#[inline(always)]
pub(crate) fn first_index<T: Real, I: Isa>(z: &[T], m: T, isa: I) -> usize {
    let chunks = z.chunks_exact(W);
    let rest = chunks.remainder();
    for (ci, zc) in chunks.enumerate() {
        let hits = isa.eq_mask(lanes(zc), m);
        if hits != 0 {
            return ci * W + hits.trailing_zeros() as usize;
        }
    }
    let base = z.len() - rest.len();
    rest.iter().position(|&x| x == m).map_or(0, |i| base + i)
}

/// Sums of the softmax row's second pass.
pub(crate) struct SoftSums {
    /// `sum_{k != j} exp(z_k - m)`.
    pub(crate) rest: Acc,
    /// `sum c_k (m - z_k)`.
    pub(crate) linear: Acc,
    /// `sum c_k`, when the coefficients have [`SoftCoef::TOTAL`].
    pub(crate) total: Acc,
}

impl SoftSums {
    /// Whether every sum is finite.
    #[inline(always)]
    pub(crate) fn finite(&self) -> bool {
        [&self.rest, &self.linear, &self.total]
            .iter()
            .all(|a| a.is_finite())
    }
}

/// `c (m - z)` for `m >= z`, halving first where `m - z` overflows.
#[inline(always)]
fn shift_times<T: Real>(m: T, z: T, c: T) -> T {
    let d = m - z;
    let ok = d <= T::MAX;
    let halves = (m * T::HALF - z * T::HALF) * c;
    select(ok, d * c, halves + halves)
}

/// `exp(z - m)` over one chunk (`z` and `e` hold `W` elements) as `shifted_exp`, without
/// its guards: an infinite `z - m` gives NaN here, and such rows run again with `WIDE`
/// (their `m - z` overflows too). Not `SHIFTED`: `exp(z)`, `z` at most
/// [`Real::UNSHIFTED_MAX`], with no two-sum (`m` unused).
#[inline(always)]
fn shifted_exps_one<T: Real, I: Isa, const FMA: bool, const SHIFTED: bool>(
    isa: I,
    z: &[T],
    e: &mut [T],
    m: T,
) {
    let zc = &lanes(z);
    let mut hi = [T::ZERO; W];
    let mut lo = [T::ZERO; W];
    for i in 0..W {
        (hi[i], lo[i]) = if SHIFTED {
            two_diff(zc[i], m)
        } else {
            (zc[i], T::ZERO)
        };
    }
    let ex = exp_nonpos_lanes::<T, I, FMA>(isa, hi);
    if SHIFTED {
        for (ek, (&x, &l)) in e.iter_mut().zip(ex.iter().zip(&lo)) {
            *ek = T::madd::<FMA>(x, l, x);
        }
    } else {
        e[..W].copy_from_slice(&ex);
    }
}

/// [`shifted_exps_one`] over two chunks (`z` and `e` hold `2 W` elements), each step over
/// both: the same bits. Written out beside the one-chunk form, not as one function generic
/// over the chunk count: both generic forms tried compiled to a loop 2-4% slower (the
/// README's change list).
#[inline(always)]
fn shifted_exps_pair<T: Real, I: Isa, const FMA: bool, const SHIFTED: bool>(
    isa: I,
    z: &[T],
    e: &mut [T],
    m: T,
) {
    let mut zc = [T::ZERO; 2 * W];
    zc.copy_from_slice(&z[..2 * W]);
    let mut hi = [T::ZERO; 2 * W];
    let mut lo = [T::ZERO; 2 * W];
    for i in 0..2 * W {
        (hi[i], lo[i]) = if SHIFTED {
            two_diff(zc[i], m)
        } else {
            (zc[i], T::ZERO)
        };
    }
    let mut p = [T::ZERO; 2 * W];
    let mut t = [T::ZERO; 2 * W];
    for i in 0..2 * W {
        (p[i], t[i]) = hi[i].exp_nonpos_parts::<FMA>();
    }
    let (p0, p1) = (lanes(&p[..W]), lanes(&p[W..]));
    let (t0, t1) = (lanes(&t[..W]), lanes(&t[W..]));
    let ex0 = isa.exp_scale(p0, t0);
    let ex1 = isa.exp_scale(p1, t1);
    if SHIFTED {
        for i in 0..W {
            e[i] = T::madd::<FMA>(ex0[i], lo[i], ex0[i]);
            e[W + i] = T::madd::<FMA>(ex1[i], lo[W + i], ex1[i]);
        }
    } else {
        e[..W].copy_from_slice(&ex0);
        e[W..2 * W].copy_from_slice(&ex1);
    }
}

/// Second pass of a softmax row over one segment: `exp(z - m)` (stored into `g` when
/// `BACK`), the linear part of the loss and the sum of the coefficients; `exps` is scratch.
/// Not `SHIFTED` (rows whose maximum `m` is in `[0, UNSHIFTED_MAX]`): `exp(z)` in place of
/// `exp(z - m)`, in the sum and in `g` (the caller scales both by `exp(-m)`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn softmax_sums<
    T: Real,
    Y: Source,
    C: SoftCoef<T>,
    I: Isa,
    const BACK: bool,
    const FMA: bool,
    const WIDE: bool,
    const SHIFTED: bool,
>(
    z: &[T],
    g: &mut [T],
    range: Range<usize>,
    y: Y,
    c: C,
    m: T,
    argmax: usize,
    isa: I,
    exps: &mut [T; BLOCK_ELEMENTS],
    sums: &mut SoftSums,
) {
    let start = range.start;
    let zs = &z[range.clone()];
    let mut gs: &mut [T] = if BACK { &mut g[range] } else { &mut [] };
    let (vector, rest) = zs.split_at(if WIDE { 0 } else { zs.len() - zs.len() % W });
    // The sums of `exp(z - m)` and of `c (m - z)`, and of `c` when `C::TOTAL`.
    let mut pair = Lanes::<T, 2>::new();
    let mut totals = Lanes::<T, 1>::new();
    for (bi, block) in vector.chunks(BLOCK * W).enumerate() {
        let at = start + bi * BLOCK * W;
        // This row's gradient two blocks on, read ahead of the stores that will need its
        // lines (measured: dense wide rows a few percent faster on 2 threads).
        if BACK && let Some(later) = gs.get(2 * BLOCK * W..3 * BLOCK * W) {
            isa.prefetch(later);
        }
        // The block's `exp(z - m)` first, then the sums from it, as in `sigmoid_segment`.
        // Two chunks at a time: one chunk's `exp` is a chain of dependent steps, and a second
        // chain in the same iteration keeps the units busy (the README's change list has the
        // measurements).
        let mut pairs = block.chunks_exact(2 * W);
        let mut out = exps.chunks_exact_mut(2 * W);
        for (zp, ep) in pairs.by_ref().zip(out.by_ref()) {
            shifted_exps_pair::<T, I, FMA, SHIFTED>(isa, zp, ep, m);
        }
        let zr = pairs.remainder();
        if !zr.is_empty() {
            let ec = &mut exps[block.len() - zr.len()..block.len()];
            shifted_exps_one::<T, I, FMA, SHIFTED>(isa, zr, ec, m);
        }
        // The argmax's term is left out of the sum (and of `g`, where the caller writes it):
        // one store per block, not a lane test per chunk.
        if let Some(e) = argmax
            .checked_sub(at)
            .filter(|&i| i < block.len())
            .and_then(|i| exps.get_mut(i))
        {
            *e = T::ZERO;
        }
        for (cj, (zc, ec)) in block.chunks_exact(W).zip(exps.chunks_exact(W)).enumerate() {
            let zc = &lanes(zc);
            let e = lanes(ec);
            let base = start + (bi * BLOCK + cj) * W;
            let ys = y.chunk(base);
            let mut ck = [T::ZERO; W];
            let mut terms = [e, [T::ZERO; W]];
            for i in 0..W {
                ck[i] = c.at(base + i, ys[i])[0];
                // `m - z` overflows only for logits near the range's ends; the sum is then
                // infinite or NaN and the row runs again with `WIDE` (and `shift_times`).
                terms[1][i] = (m - zc[i]) * ck[i];
            }
            pair.add_chunks(isa, &terms);
            if C::TOTAL {
                totals.add_chunks(isa, &[ck]);
            }
            if BACK {
                let (head, tail) = std::mem::take(&mut gs).split_at_mut(W);
                head.copy_from_slice(&e);
                gs = tail;
            }
        }
        pair.drain_into(isa, [&mut sums.rest, &mut sums.linear]);
        if C::TOTAL {
            totals.drain_into(isa, [&mut sums.total]);
        }
    }
    let base = start + zs.len() - rest.len();
    for (i, &zk) in rest.iter().enumerate() {
        let k = base + i;
        let [ck, _] = c.at(k, y.at(k));
        let ek = if SHIFTED {
            shifted_exp::<T, FMA>(zk, m)
        } else {
            zk.exp_with::<FMA>()
        };
        let ek = select(k == argmax, T::ZERO, ek);
        sums.rest.add(ek.to_f64());
        sums.linear.add(shift_times(m, zk, ck).to_f64());
        if C::TOTAL {
            sums.total.add(ck.to_f64());
        }
        if BACK {
            gs[i] = ek;
        }
    }
}

/// Sums of a softmax row's fused pass ([`softmax_sums_fused`]): what the second pass sums,
/// with the maximum found along the way rather than before.
pub(crate) struct FusedSums<T> {
    /// `sum_k exp(z_k)`, the maximum's term included.
    pub(crate) exps: Acc,
    /// `sum_k z_k` over the row (Neumaier's compensation holds for terms of either sign).
    pub(crate) logits: Acc,
    /// `sum_k z_k` over the positives.
    pub(crate) positives: Acc,
    /// Each lane's largest logit so far.
    lanes: [T; W],
    /// The largest logit so far.
    pub(crate) top: T,
    /// The classes of the first block (or remainder element) that held it.
    pub(crate) top_block: Range<usize>,
}

impl<T: Real> FusedSums<T> {
    pub(crate) fn new() -> Self {
        FusedSums {
            exps: Acc::new(),
            logits: Acc::new(),
            positives: Acc::new(),
            lanes: [-T::MAX; W],
            top: -T::MAX,
            top_block: 0..0,
        }
    }

    /// Whether every sum is finite (a non-finite logit makes `logits` NaN or infinite).
    #[inline(always)]
    pub(crate) fn finite(&self) -> bool {
        [&self.exps, &self.logits, &self.positives]
            .iter()
            .all(|a| a.is_finite())
    }

    /// `x`, the largest logit of `block` so far, raises the top.
    #[inline(always)]
    fn raise(&mut self, x: T, block: Range<usize>) {
        if x > self.top {
            self.top = x;
            self.top_block = block;
        }
    }
}

/// The fused pass of a softmax row with plain coefficients, over one segment: `exp(z)`
/// unshifted (stored into `g` when `BACK`), summed with the logits and the positives'
/// logits, and the maximum. The linear part `sum c_k (m - z_k)` is then
/// `neg ((N - P) m - sum_neg z) + pos (P m - sum_pos z)` (`softmax_row`): one pass over the
/// logits where [`max_and_index`] and [`softmax_sums`] take two, for rows whose maximum turns
/// out to be in `[0, UNSHIFTED_MAX]`. The sums are those of the two-sums (exact up to a
/// relative `(BLOCK u)^2` of `sum |z|`), so the differences lose nothing an `f32` result
/// would see.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn softmax_sums_fused<T: Real, Y: Source, I: Isa, const BACK: bool, const FMA: bool>(
    z: &[T],
    g: &mut [T],
    range: Range<usize>,
    y: Y,
    isa: I,
    exps: &mut [T; BLOCK_ELEMENTS],
    sums: &mut FusedSums<T>,
) {
    let start = range.start;
    let zs = &z[range.clone()];
    let mut gs: &mut [T] = if BACK { &mut g[range] } else { &mut [] };
    let (vector, rest) = zs.split_at(zs.len() - zs.len() % W);
    // A segment with one label sums `[exp(z), z]`; one with labels per chunk also sums the
    // positives' `z`.
    let label = y.constant();
    let mut pair = Lanes::<T, 2>::new();
    let mut positives = Lanes::<T, 1>::new();
    for (bi, block) in vector.chunks(BLOCK * W).enumerate() {
        let at = start + bi * BLOCK * W;
        if BACK && let Some(later) = gs.get(2 * BLOCK * W..3 * BLOCK * W) {
            isa.prefetch(later);
        }
        let mut pairs = block.chunks_exact(2 * W);
        let mut out = exps.chunks_exact_mut(2 * W);
        for (zp, ep) in pairs.by_ref().zip(out.by_ref()) {
            shifted_exps_pair::<T, I, FMA, false>(isa, zp, ep, T::ZERO);
        }
        let zr = pairs.remainder();
        if !zr.is_empty() {
            let ec = &mut exps[block.len() - zr.len()..block.len()];
            shifted_exps_one::<T, I, FMA, false>(isa, zr, ec, T::ZERO);
        }
        for (cj, (zc, ec)) in block.chunks_exact(W).zip(exps.chunks_exact(W)).enumerate() {
            let zc = lanes(zc);
            let e = lanes(ec);
            for (top, &x) in sums.lanes.iter_mut().zip(&zc) {
                *top = max(x, *top);
            }
            pair.add_chunks(isa, &[e, zc]);
            if label.is_none() {
                let ys = y.chunk(start + (bi * BLOCK + cj) * W);
                let mut picked = [T::ZERO; W];
                for i in 0..W {
                    picked[i] = select(ys[i], zc[i], T::ZERO);
                }
                positives.add_chunks(isa, &[picked]);
            }
            if BACK {
                let (head, tail) = std::mem::take(&mut gs).split_at_mut(W);
                head.copy_from_slice(&e);
                gs = tail;
            }
        }
        let [e_sum, z_sum] = pair.take(isa);
        sums.exps.add(e_sum);
        sums.logits.add(z_sum);
        match label {
            Some(true) => sums.positives.add(z_sum),
            Some(false) => {}
            None => positives.drain_into(isa, [&mut sums.positives]),
        }
        sums.raise(fold_max(sums.lanes), at..at + block.len());
    }
    let base = start + zs.len() - rest.len();
    for (i, &zk) in rest.iter().enumerate() {
        let k = base + i;
        let ek = zk.exp_with::<FMA>();
        sums.exps.add(ek.to_f64());
        sums.logits.add(zk.to_f64());
        let positive = match label {
            Some(label) => label,
            None => y.at(k),
        };
        if positive {
            sums.positives.add(zk.to_f64());
        }
        sums.raise(zk, k..k + 1);
        if BACK {
            gs[i] = ek;
        }
    }
}

/// Third pass of a softmax row over one segment: `g_k = e_k a - c_k scale`, with `e_k` as
/// left in `g` by [`softmax_sums`] and `a = S scale / (1 + r)`.
#[inline(always)]
pub(crate) fn softmax_gradient<T: Real, Y: Source, C: SoftCoef<T>>(
    g: &mut [T],
    range: Range<usize>,
    y: Y,
    c: C,
    a: T,
) {
    let start = range.start;
    let gs = &mut g[range];
    let tail_start = start + gs.len() - gs.len() % W;
    let mut chunks = gs.chunks_exact_mut(W);
    for (ci, gc) in chunks.by_ref().enumerate() {
        let base = start + ci * W;
        let ys = y.chunk(base);
        for (i, gk) in gc.iter_mut().enumerate() {
            let k = base + i;
            let [_, cs] = c.at(k, ys[i]);
            *gk = *gk * a - cs;
        }
    }
    for (i, gk) in chunks.into_remainder().iter_mut().enumerate() {
        let k = tail_start + i;
        let [_, cs] = c.at(k, y.at(k));
        *gk = *gk * a - cs;
    }
}

/// [`softmax_gradient`] over a whole row with sparse labels: the row as all negatives, then
/// the positives' entries (computed first, from the same `e_k`, by the same expression, so
/// the same bits) written back, instead of a lookup per chunk. Rows with more than
/// [`PATCHED`] positives take the lookup.
#[inline(always)]
pub(crate) fn softmax_gradient_sparse<T: Real, C: SoftCoef<T>>(
    g: &mut [T],
    positives: &[u32],
    c: C,
    a: T,
) {
    let n = g.len();
    if positives.len() > PATCHED {
        return softmax_gradient(g, 0..n, Sparse(positives), c, a);
    }
    let mut patch = [T::ZERO; PATCHED];
    for (entry, &k) in patch.iter_mut().zip(positives) {
        let k = k as usize;
        if let Some(&e) = g.get(k) {
            let [_, cs] = c.at(k, true);
            *entry = e * a - cs;
        }
    }
    // A plain element loop: the chunked one, with a constant label, was vectorised across
    // chunks (gathers and scatters).
    for (k, gk) in g.iter_mut().enumerate() {
        let [_, cs] = c.at(k, false);
        *gk = *gk * a - cs;
    }
    for (&entry, &k) in patch.iter().zip(positives) {
        if let Some(gk) = g.get_mut(k as usize) {
            *gk = entry;
        }
    }
}

/// The most positives a row may have for [`softmax_gradient_sparse`] to patch them.
pub(crate) const PATCHED: usize = 32;

/// The positives of dense labels and whether every label is valid; the classes of the first
/// positives go to `first`, as many as it holds (in order; `u32::MAX` for a class beyond
/// `u32`), so that a long row with few positives takes [`softmax_gradient_sparse`] and its
/// gradient pass reads no labels.
#[inline(always)]
pub(crate) fn count_dense<L: DenseLabel>(labels: &[L], first: &mut [u32]) -> (usize, bool) {
    // Plain element loops (a chunked one was vectorised across chunks, a byte insert per
    // label), counting in bytes over runs of three vectors of bytes (below 256): a `usize`
    // count takes eight labels per vector. Only runs with positives, while `first` has room,
    // are looked at again.
    const RUN: usize = 192;
    let mut total = 0;
    for (ri, run) in labels.chunks(RUN).enumerate() {
        let count = usize::from(run.iter().fold(0u8, |a, &y| a + u8::from(y.positive())));
        if count > 0 && total < first.len() {
            let classes = run.iter().enumerate().filter(|(_, y)| y.positive());
            for (slot, (i, _)) in first[total..].iter_mut().zip(classes) {
                *slot = u32::try_from(ri * RUN + i).unwrap_or(u32::MAX);
            }
        }
        total += count;
    }
    (total, L::all_valid(labels))
}

// ---------------------------------------------------------------------------------------
// ZLPR.

/// Largest and smallest logit of each label group (index 0 negatives, 1 positives) and the
/// first index reaching each.
pub(crate) struct Extremes<T> {
    max: [[T; W]; 2],
    max_at: [[usize; W]; 2],
    min: [[T; W]; 2],
    min_at: [[usize; W]; 2],
}

impl<T: Real> Extremes<T> {
    pub(crate) fn new() -> Self {
        Extremes {
            max: [[-T::MAX; W]; 2],
            max_at: [[usize::MAX; W]; 2],
            min: [[T::MAX; W]; 2],
            min_at: [[usize::MAX; W]; 2],
        }
    }

    #[inline(always)]
    fn lane(&mut self, i: usize, k: usize, z: T, y: bool) {
        for (group, member) in [(0, !y), (1, y)] {
            let up = member && (z > self.max[group][i] || self.max_at[group][i] == usize::MAX);
            self.max[group][i] = select(up, z, self.max[group][i]);
            self.max_at[group][i] = select(up, k, self.max_at[group][i]);
            let down = member && (z < self.min[group][i] || self.min_at[group][i] == usize::MAX);
            self.min[group][i] = select(down, z, self.min[group][i]);
            self.min_at[group][i] = select(down, k, self.min_at[group][i]);
        }
    }

    /// `(max, its index), (min, its index)` of `group`, or `None` when it is empty.
    pub(crate) fn of(&self, group: usize) -> Option<((T, usize), (T, usize))> {
        let mut hi = (-T::MAX, usize::MAX);
        let mut lo = (T::MAX, usize::MAX);
        for i in 0..W {
            let (m, a) = (self.max[group][i], self.max_at[group][i]);
            if a != usize::MAX && (hi.1 == usize::MAX || m > hi.0 || (m == hi.0 && a < hi.1)) {
                hi = (m, a);
            }
            let (m, a) = (self.min[group][i], self.min_at[group][i]);
            if a != usize::MAX && (lo.1 == usize::MAX || m < lo.0 || (m == lo.0 && a < lo.1)) {
                lo = (m, a);
            }
        }
        (hi.1 != usize::MAX).then_some((hi, lo))
    }
}

/// First ZLPR pass over one segment: the extremes per label group, the finiteness check and
/// the label check.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn zlpr_extremes<T: Real, Y: Source>(
    z: &[T],
    range: Range<usize>,
    y: Y,
    ext: &mut Extremes<T>,
    check: &mut Check<T>,
    bad: &mut bool,
) {
    let start = range.start;
    let zs = &z[range];
    let chunks = zs.chunks_exact(W);
    let rest = chunks.remainder();
    // As in `sigmoid_segment`, the labels checked in a pass of their own.
    *bad |= !y.all_valid(start..start + zs.len());
    for (ci, zc) in chunks.enumerate() {
        let zc = &lanes(zc);
        let base = start + ci * W;
        let ys = y.chunk(base);
        for i in 0..W {
            let k = base + i;
            ext.lane(i, k, zc[i], ys[i]);
        }
        check.lanes(zc);
    }
    let base = start + zs.len() - rest.len();
    for (i, &zk) in rest.iter().enumerate() {
        let k = base + i;
        ext.lane(0, k, zk, y.at(k));
        check.one(zk);
    }
}

/// One half of ZLPR, `log(1 + sum_k a_k e^{x_k})` with `x = sign z`: its terms are
/// `coef_y exp(x_k - shift)` (0 where the coefficient is 0), `coef` the ratio of `a` to the
/// largest term's `a` and `shift` that term's `x` when it exceeds 1 (the term at `skip` is
/// then 1 and left out of the sum), else `a` itself and shift 0.
#[derive(Clone, Copy)]
pub(crate) struct Half<T> {
    /// Coefficients of negatives and positives.
    pub(crate) coef: [T; 2],
    pub(crate) sign: T,
    pub(crate) shift: T,
    pub(crate) skip: usize,
}

impl<T: Real> Half<T> {
    #[inline(always)]
    fn term<const FMA: bool>(self, z: T, y: bool) -> T {
        let c = select(y, self.coef[1], self.coef[0]);
        let t = c * shifted_exp::<T, FMA>(self.sign * z, self.shift);
        select(c > T::ZERO, t, T::ZERO)
    }
}

/// Second ZLPR pass over one segment: the sums of both halves' terms (the skipped ones
/// left out).
#[inline(always)]
pub(crate) fn zlpr_sums<T: Real, Y: Source, const FMA: bool>(
    z: &[T],
    range: Range<usize>,
    y: Y,
    halves: [Half<T>; 2],
    sums: &mut [Acc; 2],
) {
    let start = range.start;
    let zs = &z[range];
    let chunks = zs.chunks_exact(W);
    let rest = chunks.remainder();
    let mut terms = Lanes::<T, 2>::new();
    for (bi, block) in zs.chunks(BLOCK * W).enumerate() {
        for (cj, zc) in block.chunks_exact(W).enumerate() {
            let ci = bi * BLOCK + cj;
            let zc = &lanes(zc);
            let base = start + ci * W;
            let ys = y.chunk(base);
            for i in 0..W {
                let k = base + i;
                let yk = ys[i];
                for (h, half) in halves.iter().enumerate() {
                    let t = select(k == half.skip, T::ZERO, half.term::<FMA>(zc[i], yk));
                    terms.add(h, i, t);
                }
            }
        }
        let [neg, pos] = &mut *sums;
        // ZLPR's kernels take no `Isa`: the portable fold, the same bits.
        terms.drain_into(Baseline, [neg, pos]);
    }
    let base = start + zs.len() - rest.len();
    for (i, &zk) in rest.iter().enumerate() {
        let k = base + i;
        let yk = y.at(k);
        for h in 0..2 {
            let t = select(k == halves[h].skip, T::ZERO, halves[h].term::<FMA>(zk, yk));
            sums[h].add(t.to_f64());
        }
    }
}

/// Third ZLPR pass over one segment: `g_k = up_k inv_up - down_k inv_down`.
#[inline(always)]
pub(crate) fn zlpr_gradient<T: Real, Y: Source, const FMA: bool>(
    z: &[T],
    g: &mut [T],
    range: Range<usize>,
    y: Y,
    halves: [Half<T>; 2],
    inv: [T; 2],
) {
    let start = range.start;
    let zs = &z[range.clone()];
    let gs = &mut g[range];
    for (k0, (gk, &zk)) in gs.iter_mut().zip(zs).enumerate() {
        let k = start + k0;
        let yk = y.at(k);
        *gk = halves[0].term::<FMA>(zk, yk) * inv[0] - halves[1].term::<FMA>(zk, yk) * inv[1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`max_and_index`] against a plain scan (the largest non-NaN value from `-MAX`, its
    /// first index, 0 when no element equals it) on rows of lengths around the stripes'
    /// edges, drawn from a few values so that the maximum repeats, with NaN, `-inf` and
    /// signed zeros among them; also rows of only NaN or `-inf`, and the maximum placed at
    /// each stripe's first and last element.
    #[test]
    #[cfg(feature = "verify")]
    fn max_and_index_matches_a_plain_scan() {
        fn plain(z: &[f32]) -> (f32, usize) {
            let mut m = -f32::MAX;
            for &x in z {
                if x > m {
                    m = x;
                }
            }
            (m, z.iter().position(|&x| x == m).unwrap_or(0))
        }
        let palette = [-3.0, -0.0, 0.0, 1.5, f32::NAN, f32::NEG_INFINITY, -f32::MAX];
        let mut rng = crate::verify::sample::Rng::new(0x5eed);
        let mut rows: Vec<Vec<f32>> = Vec::new();
        for n in [
            1,
            15,
            17,
            4095,
            4096,
            4097,
            8191,
            8192,
            8193,
            3 * STRIPE + 100,
        ] {
            for _ in 0..6 {
                rows.push((0..n).map(|_| rng.pick(&palette)).collect());
            }
            rows.push(vec![f32::NAN; n]);
            rows.push(vec![f32::NEG_INFINITY; n]);
            // One maximum at a stripe's first or last element, the rest below it.
            for at in [0, n - 1, n / 2, STRIPE.min(n - 1), (STRIPE - 1).min(n - 1)] {
                let mut z = vec![-1.0f32; n];
                z[at] = 2.0;
                rows.push(z);
            }
        }
        let check = |found: &dyn Fn(&[f32]) -> (f32, usize)| {
            for z in &rows {
                let (m, j) = found(z);
                let (pm, pj) = plain(z);
                assert!(
                    m == pm && j == pj,
                    "{m} at {j}, plainly {pm} at {pj}, n {}",
                    z.len()
                );
            }
        };
        check(&|z| max_and_index(z, Baseline));
        #[cfg(target_arch = "x86_64")]
        if let Some(v4) = pulp::x86::V4::try_new() {
            check(&|z| max_and_index(z, crate::fast::isa::Avx512(v4)));
        }
    }

    /// [`count_dense`] against labels built from a hand-chosen list of positives: the count,
    /// the validity, and the first [`PATCHED`] classes in order, with positives at the ends of
    /// its 192-label runs, one run holding several, and more positives than the list holds.
    #[test]
    fn count_dense_lists_the_first_positives() {
        let cases: [&[usize]; 5] = [
            &[],
            &[0],
            &[191, 192, 383, 384, 999],
            &[5, 6, 7, 190, 191],
            &[
                1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41,
            ],
        ];
        let many: Vec<usize> = (0..40).map(|i| 3 + 25 * i).collect();
        for positives in cases.into_iter().chain([many.as_slice()]) {
            let mut labels = vec![0u8; 1000];
            for &k in positives {
                labels[k] = 1;
            }
            let mut first = [u32::MAX - 1; PATCHED];
            let (count, valid) = count_dense(&labels, &mut first);
            assert_eq!((count, valid), (positives.len(), true), "{positives:?}");
            let listed = positives.len().min(PATCHED);
            let expected: Vec<u32> = positives[..listed].iter().map(|&k| k as u32).collect();
            assert_eq!(&first[..listed], expected.as_slice(), "{positives:?}");
            // Slots past the positives are left as they were.
            assert!(first[listed..].iter().all(|&k| k == u32::MAX - 1));
            // Also as `bool` and `f32` labels.
            let bools: Vec<bool> = labels.iter().map(|&y| y == 1).collect();
            let floats: Vec<f32> = labels.iter().map(|&y| f32::from(y)).collect();
            let mut again = [0; PATCHED];
            assert_eq!(count_dense(&bools, &mut again).0, positives.len());
            assert_eq!(&again[..listed], expected.as_slice());
            assert_eq!(count_dense(&floats, &mut again).0, positives.len());
            assert_eq!(&again[..listed], expected.as_slice());
        }
        // An invalid label is reported.
        let mut labels = vec![0u8; 300];
        labels[250] = 2;
        assert!(!count_dense(&labels, &mut [0; PATCHED]).1);
        // No room: counted, nothing listed.
        let mut labels = vec![0u8; 400];
        labels[7] = 1;
        labels[350] = 1;
        assert_eq!(count_dense(&labels, &mut []), (2, true));
    }
}
