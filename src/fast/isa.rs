//! What the kernels use beyond the portable code on the instruction set they were dispatched
//! to: AVX-512's `vscalef` for the last step of `exp`, and AVX2's one-factor form of it where
//! every lane's `2^n` is normal (each the same bits as the portable step), its compares into
//! a mask register and AVX2's into `movemask` bits (LLVM built the portable bit mask partly
//! from scalar compares), prefetches of a long softmax row's gradient ahead of its stores
//! (hints, which change no result), and AVX-512 vectors for the softmax rows' two-sums (partly
//! on the multiply-add units).

use super::kernel::W;
use super::math::{Real, two_sum_into};

/// An instruction set's extras, as a zero-sized token obtained from `pulp`'s run-time check.
pub(crate) trait Isa: Copy {
    /// Whether the kernels' bodies run out of line (see [`split`]): the portable code's do;
    /// a dispatched instruction set's stay inline, in the function that has its target
    /// features.
    const OUTLINE: bool = false;
    /// [`Real::exp_scale`] over a chunk's lanes.
    fn exp_scale<T: Real>(self, p: [T; W], t: [T; W]) -> [T; W];
    /// The lanes of `z` equal to `m`, as the bits of a mask (lane `i` as bit `i`).
    fn eq_mask<T: Real>(self, z: [T; W], m: T) -> u32;
    /// Asks for the cache lines of `x` to be loaded (nothing where there is no prefetch).
    fn prefetch<T>(self, x: &[T]);
    /// `sum_i (s_i + e_i)` in `f64`: each lane's sum and error added, then the lanes folded
    /// in halves (lane `i` taking lane `i + n/2`, for `n` = 16, 8, 4, 2). Portable: that
    /// loop, which LLVM compiled to two lanes at a time joined by inserts (a tenth of a
    /// softmax row's second pass).
    #[inline(always)]
    fn fold_lanes<T: Real>(self, s: [T; W], e: [T; W]) -> f64 {
        fold_lanes_portable(s, e)
    }
    /// Knuth's two-sum of each chunk `x[k]` into the lane sums `s[k]` with their errors
    /// `e[k]`, lane by lane. Portable: one loop over all `K W` lanes (with a loop per sum,
    /// LLVM vectorised the softmax row's sums across the sums, two lanes of a vector, one
    /// per sum, instead of across a chunk's lanes).
    #[inline(always)]
    fn two_sums<T: Real, const K: usize>(
        self,
        s: &mut [[T; W]; K],
        e: &mut [[T; W]; K],
        x: &[[T; W]; K],
    ) {
        for k in 0..K {
            for i in 0..W {
                two_sum_into(&mut s[k][i], &mut e[k][i], x[k][i]);
            }
        }
    }
}

/// [`Isa::fold_lanes`] as a loop over the lanes.
#[inline(always)]
fn fold_lanes_portable<T: Real>(s: [T; W], e: [T; W]) -> f64 {
    let mut v = [0.0; W];
    for ((v, s), e) in v.iter_mut().zip(s).zip(e) {
        *v = s.to_f64() + e.to_f64();
    }
    let mut n = W;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            v[i] += v[i + n];
        }
    }
    v[0]
}

/// `$call`, out of line where the instruction set `$isa` is the portable code, inline
/// otherwise. Inlined everywhere, one chunk's portable code was a single function with
/// thousands of loops, and LLVM's loop passes, whose cost grows with the function around
/// each loop, took most of a build: about five of the seven and a half minutes for one entry
/// point (`f32` dense forward and backward) at opt-level 1. A dispatched kernel must stay
/// inline, in the function compiled with its target features; the branch not taken is not
/// compiled.
macro_rules! split {
    ($isa:ty, $call:expr) => {
        if <$isa as $crate::fast::isa::Isa>::OUTLINE {
            $crate::fast::isa::out_of_line(|| $call)
        } else {
            $call
        }
    };
}
pub(crate) use split;

/// Runs `f` in a function of its own (see [`split`]).
#[inline(never)]
pub(crate) fn out_of_line<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The portable code: no extras.
#[derive(Clone, Copy)]
pub(crate) struct Baseline;

impl Isa for Baseline {
    const OUTLINE: bool = true;
    #[inline(always)]
    fn exp_scale<T: Real>(self, p: [T; W], t: [T; W]) -> [T; W] {
        // A loop, not `array::from_fn`: that was left out of line in some kernels, compiled
        // for the baseline target (SSE) inside an AVX2 one.
        let mut e = [T::ZERO; W];
        for i in 0..W {
            e[i] = T::exp_scale(p[i], t[i]);
        }
        e
    }
    #[inline(always)]
    fn eq_mask<T: Real>(self, z: [T; W], m: T) -> u32 {
        (0..W).fold(0, |a, i| a | u32::from(z[i] == m) << i)
    }
    #[inline(always)]
    fn prefetch<T>(self, _: &[T]) {}
}

/// AVX2 and FMA (x86-64-v3): `2^n` of `exp` as one factor where it is normal, compares into
/// `movemask` bits, and prefetches.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx2(pub(crate) pulp::x86::V3);

#[cfg(target_arch = "x86_64")]
impl Isa for Avx2 {
    #[inline(always)]
    fn exp_scale<T: Real>(self, p: [T; W], t: [T; W]) -> [T; W] {
        T::exp_scale_avx2(self.0, p, t)
    }
    #[inline(always)]
    fn eq_mask<T: Real>(self, z: [T; W], m: T) -> u32 {
        T::eq_mask_avx(self.0.avx, z, m)
    }
    #[inline(always)]
    fn prefetch<T>(self, x: &[T]) {
        prefetch_lines(self.0.sse, x);
    }
}

/// AVX-512 (x86-64-v4): `vscalef`, mask compares and prefetches.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(crate) struct Avx512(pub(crate) pulp::x86::V4);

#[cfg(target_arch = "x86_64")]
impl Isa for Avx512 {
    #[inline(always)]
    fn exp_scale<T: Real>(self, p: [T; W], t: [T; W]) -> [T; W] {
        T::exp_scale_avx512(self.0.avx512f, p, t)
    }
    #[inline(always)]
    fn eq_mask<T: Real>(self, z: [T; W], m: T) -> u32 {
        T::eq_mask_avx512(self.0.avx512f, z, m)
    }
    #[inline(always)]
    fn two_sums<T: Real, const K: usize>(
        self,
        s: &mut [[T; W]; K],
        e: &mut [[T; W]; K],
        x: &[[T; W]; K],
    ) {
        for k in 0..K {
            (s[k], e[k]) = T::two_sum_avx512(self.0.avx512f, s[k], e[k], x[k]);
        }
    }
    #[inline(always)]
    fn prefetch<T>(self, x: &[T]) {
        prefetch_lines(self.0.sse, x);
    }
    #[inline(always)]
    fn fold_lanes<T: Real>(self, s: [T; W], e: [T; W]) -> f64 {
        T::fold_lanes_avx512(self.0.avx512f, s, e)
    }
}

/// One prefetch per 64 bytes of `x`, into L2 (a long row does not fit L1): each cache line
/// holds one of those addresses.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn prefetch_lines<T>(sse: pulp::core_arch::x86::Sse, x: &[T]) {
    use std::arch::x86_64::_MM_HINT_T1;
    let start = x.as_ptr().cast::<i8>();
    for offset in (0..std::mem::size_of_val(x)).step_by(64) {
        sse._mm_prefetch::<_MM_HINT_T1>(start.wrapping_add(offset));
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// `isa`'s scaling gives the bits of the portable two-factor step wherever the kernels use
    /// it: every `f32` in the range where `exp` is subnormal or near it (chunks with and
    /// without a lane whose `2^n` is subnormal), a grid elsewhere, and grids over the `f64`
    /// range and its subnormal end; returns how many values were compared.
    fn scale_matches<I: Isa>(isa: I) -> usize {
        fn check<T: Real, I: Isa>(isa: I, xs: impl Iterator<Item = T>) -> usize {
            let xs: Vec<T> = xs.collect();
            for chunk in xs.chunks_exact(W) {
                let mut p = [T::ZERO; W];
                let mut t = [T::ZERO; W];
                for i in 0..W {
                    (p[i], t[i]) = chunk[i].exp_nonpos_parts::<true>();
                }
                let fast = isa.exp_scale(p, t);
                let portable = Baseline.exp_scale(p, t);
                for i in 0..W {
                    let (a, b) = (fast[i], portable[i]);
                    assert!(
                        a.to_f64().to_bits() == b.to_f64().to_bits(),
                        "{}: exp({:?}) = {a:?} here, {b:?} portable",
                        T::NAME,
                        chunk[i]
                    );
                }
            }
            xs.len()
        }
        // All f32 from -110 (below it exp is 0) up to -80 (exp ~ 2^-115).
        let lo = (-110f32).to_bits();
        let hi = (-80f32).to_bits();
        let n32 = check(isa, (hi..=lo).map(f32::from_bits));
        let grid32 = check(
            isa,
            (0..1 << 20).map(|i| -110.0 * i as f32 / (1 << 20) as f32),
        );
        let grid64 = check(
            isa,
            (0..1 << 20).map(|i| -760.0 * f64::from(i) / f64::from(1 << 20)),
        );
        let edge64 = check(
            isa,
            (0..1 << 20).map(|i| -760.0 + 60.0 * f64::from(i) / f64::from(1 << 20)),
        );
        n32 + grid32 + grid64 + edge64
    }

    #[test]
    fn avx512_scale_matches_the_portable_bits() {
        let Some(v4) = pulp::x86::V4::try_new() else {
            eprintln!("no AVX-512 here: nothing to compare");
            return;
        };
        assert!(scale_matches(Avx512(v4)) > 3 << 20);
    }

    #[test]
    fn avx2_scale_matches_the_portable_bits() {
        let Some(v3) = pulp::x86::V3::try_new() else {
            eprintln!("no AVX2 here: nothing to compare");
            return;
        };
        assert!(scale_matches(Avx2(v3)) > 3 << 20);
    }

    /// The compares of `isa` give the portable bit masks: no hit, one, several, signed zeros
    /// (equal), NaN (equal to nothing) and infinities, in every lane; returns how many masks
    /// were compared.
    fn eq_masks_match<I: Isa>(isa: I) -> usize {
        fn check<T: Real, I: Isa>(isa: I, from: fn(f64) -> T) -> usize {
            let values = [
                0.0,
                -0.0,
                1.5,
                -3.0,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
            ];
            let mut compared = 0;
            for (ai, &a) in values.iter().enumerate() {
                for &m in &values {
                    for lane in 0..W {
                        // `a` in `lane`, the next value in every third lane, 7 elsewhere.
                        let b = values[(ai + 1) % values.len()];
                        let z: [T; W] = std::array::from_fn(|i| {
                            from(if i == lane {
                                a
                            } else if i % 3 == 0 {
                                b
                            } else {
                                7.0
                            })
                        });
                        let fast = isa.eq_mask(z, from(m));
                        let portable = Baseline.eq_mask(z, from(m));
                        assert_eq!(fast, portable, "{}: {a} in lane {lane}, m = {m}", T::NAME);
                        compared += 1;
                    }
                }
            }
            compared
        }
        check(isa, |x| x as f32) + check(isa, |x| x)
    }

    #[test]
    fn avx512_eq_mask_matches_the_portable_bits() {
        let Some(v4) = pulp::x86::V4::try_new() else {
            eprintln!("no AVX-512 here: nothing to compare");
            return;
        };
        assert_eq!(eq_masks_match(Avx512(v4)), 2 * 7 * 7 * W);
    }

    /// A splitmix64 stream of values from `seed`: sign, exponent (2^-40 to 2^40) and mantissa
    /// at random, and for every 97th index an infinity, NaN or the largest finite value.
    fn mixed_values(seed: u64) -> impl FnMut(usize) -> f64 {
        let special = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MAX,
            -f64::MAX,
        ];
        let mut state = seed;
        move |i: usize| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            if i.is_multiple_of(97) {
                return special[(z % special.len() as u64) as usize];
            }
            let magnitude = (z >> 11) as f64 / (1u64 << 53) as f64;
            let exponent = (z % 80) as i32 - 40;
            let sign = if z & 1 == 0 { 1.0 } else { -1.0 };
            sign * magnitude * 2f64.powi(exponent)
        }
    }

    /// `isa`'s two-sums give the portable bits: sums and errors after adding chunks of
    /// terms of every size (tiny to near overflow, both signs, exact and inexact sums,
    /// infinities and NaN) into two sums side by side; returns how many lanes were compared.
    fn two_sums_match<I: Isa>(isa: I) -> usize {
        fn check<T: Real, I: Isa>(isa: I, from: fn(f64) -> T) -> usize {
            let mut values = mixed_values(7);
            let mut term = |i: usize| from(values(i));
            let mut fast = ([[T::ZERO; W]; 2], [[T::ZERO; W]; 2]);
            let mut portable = fast;
            let mut compared = 0;
            for round in 0..4000 {
                let x: [[T; W]; 2] = std::array::from_fn(|k| {
                    std::array::from_fn(|i| term(round * 2 * W + k * W + i))
                });
                isa.two_sums(&mut fast.0, &mut fast.1, &x);
                Baseline.two_sums(&mut portable.0, &mut portable.1, &x);
                for k in 0..2 {
                    for i in 0..W {
                        for (a, b) in [
                            (fast.0[k][i], portable.0[k][i]),
                            (fast.1[k][i], portable.1[k][i]),
                        ] {
                            assert!(
                                a.to_f64().to_bits() == b.to_f64().to_bits()
                                    || (a.to_f64().is_nan() && b.to_f64().is_nan()),
                                "{}: round {round}, sum {k}, lane {i}: {a:?} here, {b:?} portable",
                                T::NAME
                            );
                        }
                        compared += 1;
                    }
                }
                // Start again now and then, so later rounds do not all add into NaN.
                if round % 50 == 49 {
                    fast = ([[T::ZERO; W]; 2], [[T::ZERO; W]; 2]);
                    portable = fast;
                }
            }
            compared
        }
        check(isa, |x| x as f32) + check(isa, |x| x)
    }

    #[test]
    fn avx512_two_sums_match_the_portable_bits() {
        let Some(v4) = pulp::x86::V4::try_new() else {
            eprintln!("no AVX-512 here: nothing to compare");
            return;
        };
        assert_eq!(two_sums_match(Avx512(v4)), 2 * 4000 * 2 * W);
    }

    /// `isa`'s folds of lane sums and errors give the portable bits (NaN for NaN), on lanes
    /// of every size and sign with infinities and NaN among them; returns how many folds were
    /// compared.
    fn folds_match<I: Isa>(isa: I) -> usize {
        fn check<T: Real, I: Isa>(isa: I, from: fn(f64) -> T) -> usize {
            let mut values = mixed_values(11);
            let mut compared = 0;
            for round in 0..4000 {
                let base = round * 2 * W;
                let s: [T; W] = std::array::from_fn(|i| from(values(base + i)));
                // Errors smaller than their sums, as the two-sums leave them, and not.
                let scale = if round % 2 == 0 { 2f64.powi(-30) } else { 1.0 };
                let e: [T; W] = std::array::from_fn(|i| from(values(base + W + i) * scale));
                let (a, b) = (isa.fold_lanes(s, e), fold_lanes_portable(s, e));
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{}: round {round}: {a:?} here, {b:?} portable",
                    T::NAME
                );
                compared += 1;
            }
            compared
        }
        check(isa, |x| x as f32) + check(isa, |x| x)
    }

    #[test]
    fn avx512_folds_match_the_portable_bits() {
        let Some(v4) = pulp::x86::V4::try_new() else {
            eprintln!("no AVX-512 here: nothing to compare");
            return;
        };
        assert_eq!(folds_match(Avx512(v4)), 2 * 4000);
    }

    #[test]
    fn avx2_eq_mask_matches_the_portable_bits() {
        let Some(v3) = pulp::x86::V3::try_new() else {
            eprintln!("no AVX2 here: nothing to compare");
            return;
        };
        assert_eq!(eq_masks_match(Avx2(v3)), 2 * 7 * 7 * W);
    }
}
