//! Branch-free polynomial `exp` and `log1p` for `f32` and `f64`, written so that a loop over
//! a fixed-size array of them vectorises (selects instead of branches, bit casts instead of
//! float-to-int conversions), and the [`Real`] trait the kernels are generic over.
//!
//! # `exp(x)`
//! Cody-Waite reduction `x = n ln 2 + r`, `|r| <= ln 2 / 2 (1 + 2^-20)`: `n` is rounded with
//! the `1.5 * 2^p` trick (its integer read from the bits, no conversion), `ln 2 = hi + lo`
//! with `hi` short enough that `n hi` and `x - n hi` are exact. `exp(r)` is its Taylor
//! polynomial (degree 7 in `f32`, 13 in `f64`; the truncation error `|r|^(d+1)/(d+1)!` is
//! below 2^-27 and 2^-57 relative; `f32` evaluates it by Estrin's scheme), and `2^n` is
//! applied as two exact powers of two, so results in the subnormal range are rounded once
//! (AVX-512's `vscalef`, used by the kernels where the CPU has it, rounds `p 2^n` once too:
//! the same bits; so does one normal factor `2^n`, which AVX2 kernels use where every lane
//! of a chunk has one). Inputs are clamped to
//! `[-110, 89]` (`f32`) and `[-760, 710]` (`f64`), which map to 0 and +inf as the true values
//! round; a NaN input gives 0 (the kernels detect non-finite logits separately).
//!
//! # `log1p(x)` for `0 <= x <= 1`
//! `f32`: `x + x^2 Q(x)`, `Q` of degree 8 fitted by Remez's exchange with coefficients
//! rounded to `f32` (`scripts/fit_log1p_f32.py`; relative error below 2^-27.5 before the
//! arithmetic's own rounding). No division, and `Q` is evaluated by Estrin's scheme, so the
//! chain of dependent steps is 5 long; the `atanh` series below, which `f32` used before, took
//! a division and about 12 dependent steps, and the sigmoid kernels' speed is bound by such
//! chains more than by the number of operations.
//!
//! `f64`: `1 + x = 2^k (1 + s)/(1 - s)` with `s = x/(x + 2)` (`k = 0`) or, above
//! `sqrt 2 - 1`, `s = (x - 1)/(x + 3)` (`k = 1`), so `|s| <= 0.1716` and `1 + x` is never
//! rounded (no correction term needed); `log((1 + s)/(1 - s)) = 2 atanh(s)` by its odd series
//! up to `s^23` (truncation below 2^-60 relative); then `log1p(x) = k ln 2 + 2 atanh(s)`.
//!
//! The measured errors of both (against MPFR, exhaustive over the `f32` inputs the kernels
//! use, sampled in `f64`) are asserted in `tests/fast_math.rs`: at most 1 ulp for `exp`
//! (2 ulps in `f64`) and 2 ulps for `log1p` over the ranges above.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

#[cfg(target_arch = "x86_64")]
use pulp::core_arch::x86::{Avx, Avx512f};
#[cfg(target_arch = "x86_64")]
use pulp::x86::V3;

use crate::scheme::Param;

/// `ln 2 = LN2_HI + LN2_LO` in `f32`: `LN2_HI = 355/512`, so `n LN2_HI` is exact for
/// `|n| < 2^15`.
const LN2_HI_F32: f32 = f32::from_bits(0x3f31_8000);
const LN2_LO_F32: f32 = f32::from_bits(0xb95e_8083);
/// `Q` of the `f32` `log1p(x) = x + x^2 Q(x)` on `[0, 1]`, lowest degree first: a weighted
/// minimax fit (relative error of the result below 2^-27.5 with these rounded coefficients),
/// from `scripts/fit_log1p_f32.py`.
const LOG1P_Q_F32: [f32; 9] = [
    f32::from_bits(0xbeff_ffe9),
    f32::from_bits(0x3eaa_a6e8),
    f32::from_bits(0xbe7f_91f3),
    f32::from_bits(0x3e49_a5aa),
    f32::from_bits(0xbe1d_21af),
    f32::from_bits(0x3dda_5704),
    f32::from_bits(0xbd6b_5846),
    f32::from_bits(0x3ca4_8be7),
    f32::from_bits(0xbb57_a4e7),
];
/// fdlibm's split of `ln 2` in `f64`: the low 32 bits of `LN2_HI` are zero.
const LN2_HI_F64: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO_F64: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`: the logit types of the fast path.
pub trait Real:
    Copy
    + Send
    + Sync
    + Debug
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + sealed::Sealed
    + 'static
{
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 1/2.
    const HALF: Self;
    /// The largest finite value.
    const MAX: Self;
    /// `+inf`.
    const INFINITY: Self;
    /// Below this, [`Real::exp`] returns 0.
    const EXP_LO: Self;
    /// Above this, [`Real::exp`] overflows to +inf.
    const EXP_HI: Self;
    /// The least positive normal value.
    const MIN_NORMAL: Self;
    /// The largest row maximum `m` for which the softmax rows sum `exp(z)` and scale the
    /// sums by `exp(-m)` afterwards (`m >= 0` too), see `softmax_row`; `None` in `f64`,
    /// whose own precision that `f64` scaling would spend.
    #[doc(hidden)]
    const UNSHIFTED_MAX: Option<f64>;
    /// `x` rounded to nearest.
    fn from_f64(x: f64) -> Self;
    /// The value widened exactly.
    fn to_f64(self) -> f64;
    /// A parameter rounded once to this type (from its decimal text when it has one).
    fn from_param(p: &Param) -> Self;
    /// `e^x` by the vectorisable polynomial (see the module docs), without fused
    /// multiply-adds.
    fn exp(self) -> Self {
        self.exp_with::<false>()
    }
    /// `e^x`, with the polynomial's steps fused (`FMA`) or not.
    fn exp_with<const FMA: bool>(self) -> Self;
    /// `e^x` for `x <= 0` (or NaN, giving 0), one clamp fewer than [`Real::exp_with`]: the
    /// same bits there and up to [`Real::EXP_HI`], wrong above it. For the kernels, whose
    /// arguments are never positive, or at most [`Real::UNSHIFTED_MAX`].
    #[doc(hidden)]
    fn exp_nonpos_with<const FMA: bool>(self) -> Self;
    /// [`Real::exp_nonpos_with`] before its last step: `(p, t)` with the result
    /// [`Real::exp_scale`]`(p, t)`, so that step can run over a vector of lanes.
    #[doc(hidden)]
    fn exp_nonpos_parts<const FMA: bool>(self) -> (Self, Self);
    /// `p 2^n`, rounded once, with `n` kept in `t` as [`Real::exp_nonpos_parts`] leaves it
    /// (`t = n + 1.5 * 2^p`).
    #[doc(hidden)]
    fn exp_scale(p: Self, t: Self) -> Self;
    /// [`Real::exp_scale`] over 16 lanes by AVX-512's `vscalef`, which rounds `p 2^n` once
    /// as well: the same bits.
    #[cfg(target_arch = "x86_64")]
    #[doc(hidden)]
    fn exp_scale_avx512(simd: Avx512f, p: [Self; 16], t: [Self; 16]) -> [Self; 16];
    /// [`Real::exp_scale`] over 16 lanes with AVX2, for `n <= 0` (as [`Real::exp_nonpos_parts`]
    /// leaves it): where no lane's `n` is below the least normal exponent, `2^n` is a normal
    /// number made from `t`'s bits by a shift and an add, and `p 2^n` one product, rounded
    /// once like the two-factor step's second product (the first is exact): the same bits
    /// with two vector operations per product instead of eight. Otherwise the two factors.
    #[cfg(target_arch = "x86_64")]
    #[doc(hidden)]
    fn exp_scale_avx2(simd: V3, p: [Self; 16], t: [Self; 16]) -> [Self; 16];
    /// The lanes of `z` equal to `m`, as the bits of a mask, by AVX-512 compares.
    #[cfg(target_arch = "x86_64")]
    #[doc(hidden)]
    fn eq_mask_avx512(simd: Avx512f, z: [Self; 16], m: Self) -> u32;
    /// The lanes of `z` equal to `m`, as the bits of a mask, by AVX compares and
    /// `movemask` (the portable mask was built partly from scalar compares).
    #[cfg(target_arch = "x86_64")]
    #[doc(hidden)]
    fn eq_mask_avx(simd: Avx, z: [Self; 16], m: Self) -> u32;
    /// Knuth's two-sum of `x` into the lane sums `s` with their errors `e`, by AVX-512
    /// vectors: the same roundings in the same order as the portable lanes, so the same
    /// bits (LLVM's vectoriser split the arrays' version into 4- and 8-lane pieces); three
    /// of the additions are multiply-adds by 1, see [`NEAREST`].
    #[cfg(target_arch = "x86_64")]
    #[doc(hidden)]
    fn two_sum_avx512(
        simd: Avx512f,
        s: [Self; 16],
        e: [Self; 16],
        x: [Self; 16],
    ) -> ([Self; 16], [Self; 16]);
    /// `sum_i (s_i + e_i)` in `f64` by AVX-512 vectors, lane pairs and halves added in the
    /// order of the portable fold (so the same bits), see `Isa::fold_lanes`.
    #[cfg(target_arch = "x86_64")]
    #[doc(hidden)]
    fn fold_lanes_avx512(simd: Avx512f, s: [Self; 16], e: [Self; 16]) -> f64;
    /// `log(1 + x)` for `0 <= x <= 1` by the vectorisable polynomial, without fused
    /// multiply-adds.
    fn log1p_unit(self) -> Self {
        self.log1p_unit_with::<false>()
    }
    /// `log(1 + x)` for `0 <= x <= 1`, fused (`FMA`) or not.
    fn log1p_unit_with<const FMA: bool>(self) -> Self;
    /// `a b + c`, rounded once (`FMA`) or twice.
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self;
    /// `|x|`.
    fn abs(self) -> Self;
}

/// The sum of 16 `f64` lanes, `lo` the first 8 and `hi` the rest, folded in halves: lane
/// `i` plus lane `i + 8`, then `i + 4`, `i + 2`, `i + 1` (additions commute exactly, so the
/// order of each pair's operands does not matter).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn fold_halves(
    simd: Avx512f,
    lo: std::arch::x86_64::__m512d,
    hi: std::arch::x86_64::__m512d,
) -> f64 {
    let a = simd._mm512_add_pd(lo, hi);
    // 128-bit blocks 2 and 3 (lanes 4-7) to blocks 0 and 1.
    let b = simd._mm512_add_pd(a, simd._mm512_shuffle_f64x2::<0b11_10_11_10>(a, a));
    // Block 1 (lanes 2-3) to block 0.
    let c = simd._mm512_add_pd(b, simd._mm512_shuffle_f64x2::<0b01_01_01_01>(b, b));
    // Lane 1 to lane 0.
    let d = simd._mm512_add_pd(c, simd._mm512_permute_pd::<0b0101_0101>(c));
    let lanes: [f64; 8] = pulp::cast(d);
    lanes[0]
}

/// `if c { a } else { b }`, as a select.
#[inline(always)]
pub(crate) fn select<T: Copy>(c: bool, a: T, b: T) -> T {
    if c { a } else { b }
}

/// `max(a, b)` for non-NaN `b`: NaN `a` gives `b`.
#[inline(always)]
pub(crate) fn max<T: Real>(a: T, b: T) -> T {
    select(a > b, a, b)
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const HALF: Self = 0.5;
    const MAX: Self = f32::MAX;
    const INFINITY: Self = f32::INFINITY;
    const EXP_LO: Self = -110.0;
    const EXP_HI: Self = 89.0;
    const MIN_NORMAL: Self = f32::MIN_POSITIVE;
    const UNSHIFTED_MAX: Option<f64> = Some(64.0);

    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_param(p: &Param) -> Self {
        p.value_f32()
    }

    #[inline(always)]
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self {
        if FMA { a.mul_add(b, c) } else { a * b + c }
    }

    #[inline(always)]
    fn exp_with<const FMA: bool>(self) -> Self {
        exp_f32::<FMA, true>(self)
    }

    #[inline(always)]
    fn exp_nonpos_with<const FMA: bool>(self) -> Self {
        exp_f32::<FMA, false>(self)
    }

    #[inline(always)]
    fn exp_nonpos_parts<const FMA: bool>(self) -> (Self, Self) {
        exp_parts_f32::<FMA, false>(self)
    }

    #[inline(always)]
    fn exp_scale(p: Self, t: Self) -> Self {
        scale_f32(p, t)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn exp_scale_avx512(simd: Avx512f, p: [Self; 16], t: [Self; 16]) -> [Self; 16] {
        let n = simd._mm512_sub_ps(pulp::cast(t), simd._mm512_set1_ps(MAGIC_F32));
        pulp::cast(simd._mm512_scalef_ps(pulp::cast(p), n))
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn exp_scale_avx2(simd: V3, p: [Self; 16], t: [Self; 16]) -> [Self; 16] {
        use std::arch::x86_64::{__m256, __m256i, _CMP_LT_OQ};
        let (avx, avx2) = (simd.avx, simd.avx2);
        let ts: [__m256; 2] = pulp::cast(t);
        // `t = n + MAGIC_F32` exactly, so `n >= -126` is `t >= MAGIC_F32 - 126`.
        let least = avx._mm256_set1_ps(MAGIC_F32 - 126.0);
        let below = ts.map(|h| avx._mm256_movemask_ps(avx._mm256_cmp_ps::<_CMP_LT_OQ>(h, least)));
        if below != [0, 0] {
            let mut e = [0.0; 16];
            for i in 0..16 {
                e[i] = scale_f32(p[i], t[i]);
            }
            return e;
        }
        // The bits of `2^n`, `(n + 127) << 23`, are `(t << 23) + ((127 - MAGIC) << 23)`
        // in wrapping arithmetic.
        let bias = avx._mm256_set1_epi32((127u32.wrapping_sub(MAGIC_F32.to_bits()) << 23) as i32);
        let ti: [__m256i; 2] = pulp::cast(t);
        let ps: [__m256; 2] = pulp::cast(p);
        let times = |i: usize| {
            let s = avx2._mm256_add_epi32(avx2._mm256_slli_epi32::<23>(ti[i]), bias);
            avx._mm256_mul_ps(ps[i], pulp::cast(s))
        };
        pulp::cast([times(0), times(1)])
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn eq_mask_avx512(simd: Avx512f, z: [Self; 16], m: Self) -> u32 {
        use std::arch::x86_64::_CMP_EQ_OQ;
        let m = simd._mm512_set1_ps(m);
        u32::from(simd._mm512_cmp_ps_mask::<_CMP_EQ_OQ>(pulp::cast(z), m))
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn eq_mask_avx(simd: Avx, z: [Self; 16], m: Self) -> u32 {
        use std::arch::x86_64::{__m256, _CMP_EQ_OQ};
        let z: [__m256; 2] = pulp::cast(z);
        let m = simd._mm256_set1_ps(m);
        let [lo, hi] = z.map(|h| simd._mm256_movemask_ps(simd._mm256_cmp_ps::<_CMP_EQ_OQ>(h, m)));
        (lo as u32) | (hi as u32) << 8
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn two_sum_avx512(
        simd: Avx512f,
        s: [Self; 16],
        e: [Self; 16],
        x: [Self; 16],
    ) -> ([Self; 16], [Self; 16]) {
        let (s, e, x) = (pulp::cast(s), pulp::cast(e), pulp::cast(x));
        let one = simd._mm512_set1_ps(1.0);
        // Three of the seven additions as `a - b 1`, see `NEAREST`; not the two that carry
        // a sum to the next chunk, whose latency (an addition's is shorter) bounds the loop.
        let t = simd._mm512_add_ps(s, x);
        let bp = simd._mm512_fnmadd_round_ps::<NEAREST>(s, one, t);
        let tb = simd._mm512_fnmadd_round_ps::<NEAREST>(bp, one, t);
        let sd = simd._mm512_fnmadd_round_ps::<NEAREST>(tb, one, s);
        let err = simd._mm512_add_ps(sd, simd._mm512_sub_ps(x, bp));
        let e = simd._mm512_add_ps(e, err);
        (pulp::cast(t), pulp::cast(e))
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn fold_lanes_avx512(simd: Avx512f, s: [Self; 16], e: [Self; 16]) -> f64 {
        use std::arch::x86_64::__m512;
        // Whole vectors, as in `two_sum_avx512`.
        let (s, e): (__m512, __m512) = (pulp::cast(s), pulp::cast(e));
        // Lanes 0-7 and 8-15, widened exactly.
        let low = |x| simd._mm512_cvtps_pd(simd._mm512_castps512_ps256(x));
        let high = |x| {
            let upper = simd._mm512_extractf64x4_pd::<1>(simd._mm512_castps_pd(x));
            simd._mm512_cvtps_pd(pulp::cast(upper))
        };
        let lo = simd._mm512_add_pd(low(s), low(e));
        let hi = simd._mm512_add_pd(high(s), high(e));
        fold_halves(simd, lo, hi)
    }

    #[inline(always)]
    fn log1p_unit_with<const FMA: bool>(self) -> Self {
        let m = Self::madd::<FMA>;
        let x = self;
        // x + x^2 Q(x), Q by Estrin's scheme (a shorter dependency chain than Horner's).
        let [q0, q1, q2, q3, q4, q5, q6, q7, q8] = LOG1P_Q_F32;
        let x2 = x * x;
        let x4 = x2 * x2;
        let lo = m(x2, m(x, q3, q2), m(x, q1, q0));
        let hi = m(x2, m(x, q7, q6), m(x, q5, q4));
        let q = m(x4, m(x4, q8, hi), lo);
        m(x2, q, x)
    }

    #[inline(always)]
    fn abs(self) -> Self {
        f32::from_bits(self.to_bits() & 0x7fff_ffff)
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const HALF: Self = 0.5;
    const MAX: Self = f64::MAX;
    const INFINITY: Self = f64::INFINITY;
    const EXP_LO: Self = -760.0;
    const EXP_HI: Self = 710.0;
    const MIN_NORMAL: Self = f64::MIN_POSITIVE;
    const UNSHIFTED_MAX: Option<f64> = None;

    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    fn from_param(p: &Param) -> Self {
        p.value()
    }

    #[inline(always)]
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self {
        if FMA { a.mul_add(b, c) } else { a * b + c }
    }

    #[inline(always)]
    fn exp_with<const FMA: bool>(self) -> Self {
        exp_f64::<FMA, true>(self)
    }

    #[inline(always)]
    fn exp_nonpos_with<const FMA: bool>(self) -> Self {
        exp_f64::<FMA, false>(self)
    }

    #[inline(always)]
    fn exp_nonpos_parts<const FMA: bool>(self) -> (Self, Self) {
        exp_parts_f64::<FMA, false>(self)
    }

    #[inline(always)]
    fn exp_scale(p: Self, t: Self) -> Self {
        scale_f64(p, t)
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn exp_scale_avx512(simd: Avx512f, p: [Self; 16], t: [Self; 16]) -> [Self; 16] {
        let p: [std::arch::x86_64::__m512d; 2] = pulp::cast(p);
        let t: [std::arch::x86_64::__m512d; 2] = pulp::cast(t);
        let magic = simd._mm512_set1_pd(MAGIC_F64);
        pulp::cast(std::array::from_fn::<_, 2, _>(|i| {
            simd._mm512_scalef_pd(p[i], simd._mm512_sub_pd(t[i], magic))
        }))
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn exp_scale_avx2(simd: V3, p: [Self; 16], t: [Self; 16]) -> [Self; 16] {
        use std::arch::x86_64::{__m256d, __m256i, _CMP_LT_OQ};
        let (avx, avx2) = (simd.avx, simd.avx2);
        let ts: [__m256d; 4] = pulp::cast(t);
        // As in `f32`: `n >= -1022` is `t >= MAGIC_F64 - 1022`.
        let least = avx._mm256_set1_pd(MAGIC_F64 - 1022.0);
        let below = ts.map(|h| avx._mm256_movemask_pd(avx._mm256_cmp_pd::<_CMP_LT_OQ>(h, least)));
        if below != [0; 4] {
            let mut e = [0.0; 16];
            for i in 0..16 {
                e[i] = scale_f64(p[i], t[i]);
            }
            return e;
        }
        let bias = avx._mm256_set1_epi64x((1023u64.wrapping_sub(MAGIC_F64.to_bits()) << 52) as i64);
        let ti: [__m256i; 4] = pulp::cast(t);
        let ps: [__m256d; 4] = pulp::cast(p);
        let times = |i: usize| {
            let s = avx2._mm256_add_epi64(avx2._mm256_slli_epi64::<52>(ti[i]), bias);
            avx._mm256_mul_pd(ps[i], pulp::cast(s))
        };
        pulp::cast([times(0), times(1), times(2), times(3)])
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn eq_mask_avx512(simd: Avx512f, z: [Self; 16], m: Self) -> u32 {
        use std::arch::x86_64::_CMP_EQ_OQ;
        let z: [std::arch::x86_64::__m512d; 2] = pulp::cast(z);
        let m = simd._mm512_set1_pd(m);
        let [lo, hi] = z.map(|h| u32::from(simd._mm512_cmp_pd_mask::<_CMP_EQ_OQ>(h, m)));
        lo | hi << 8
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn eq_mask_avx(simd: Avx, z: [Self; 16], m: Self) -> u32 {
        use std::arch::x86_64::{__m256d, _CMP_EQ_OQ};
        let z: [__m256d; 4] = pulp::cast(z);
        let m = simd._mm256_set1_pd(m);
        let mut mask = 0;
        for (i, h) in z.into_iter().enumerate() {
            let bits = simd._mm256_movemask_pd(simd._mm256_cmp_pd::<_CMP_EQ_OQ>(h, m));
            mask |= (bits as u32) << (4 * i);
        }
        mask
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn two_sum_avx512(
        simd: Avx512f,
        s: [Self; 16],
        e: [Self; 16],
        x: [Self; 16],
    ) -> ([Self; 16], [Self; 16]) {
        use std::arch::x86_64::__m512d;
        let s: [__m512d; 2] = pulp::cast(s);
        let e: [__m512d; 2] = pulp::cast(e);
        let x: [__m512d; 2] = pulp::cast(x);
        let one = simd._mm512_set1_pd(1.0);
        // Three additions as multiply-adds by 1, as `f32` had them before it moved two (the
        // ones carrying a sum to the next chunk) back to additions for their shorter latency:
        // a chunk here is two vectors, two such chains side by side. `f32`'s arrangement
        // measured no faster here (the README's change list).
        let half = |i: usize| {
            let t = simd._mm512_fmadd_round_pd::<NEAREST>(x[i], one, s[i]);
            let bp = simd._mm512_fnmadd_round_pd::<NEAREST>(s[i], one, t);
            let err = simd._mm512_add_pd(
                simd._mm512_sub_pd(s[i], simd._mm512_sub_pd(t, bp)),
                simd._mm512_sub_pd(x[i], bp),
            );
            (t, simd._mm512_fmadd_round_pd::<NEAREST>(err, one, e[i]))
        };
        let ((t0, e0), (t1, e1)) = (half(0), half(1));
        (pulp::cast([t0, t1]), pulp::cast([e0, e1]))
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn fold_lanes_avx512(simd: Avx512f, s: [Self; 16], e: [Self; 16]) -> f64 {
        use std::arch::x86_64::__m512d;
        let (s, e): ([__m512d; 2], [__m512d; 2]) = (pulp::cast(s), pulp::cast(e));
        let half = |i: usize| simd._mm512_add_pd(s[i], e[i]);
        fold_halves(simd, half(0), half(1))
    }

    #[inline(always)]
    fn log1p_unit_with<const FMA: bool>(self) -> Self {
        let m = Self::madd::<FMA>;
        let x = self;
        // As in `f32`.
        let big = x > std::f64::consts::SQRT_2 - 1.0;
        let k = select(big, 1.0f64, 0.0);
        let s = (x - k) / (x + select(big, 3.0f64, 2.0));
        let s2 = s * s;
        let mut q = 1.0 / 23.0;
        for d in [21.0, 19.0, 17.0, 15.0, 13.0, 11.0, 9.0, 7.0, 5.0, 3.0] {
            q = m(s2, q, 1.0 / d);
        }
        let two_s = s + s;
        m(k, LN2_HI_F64, two_s + m(two_s * s2, q, k * LN2_LO_F64))
    }

    #[inline(always)]
    fn abs(self) -> Self {
        f64::from_bits(self.to_bits() & 0x7fff_ffff_ffff_ffff)
    }
}

/// `e^x` as in the module docs; `UPPER`: clamp above too (not needed for `x <= 0`).
#[inline(always)]
fn exp_f32<const FMA: bool, const UPPER: bool>(x: f32) -> f32 {
    let (p, t) = exp_parts_f32::<FMA, UPPER>(x);
    scale_f32(p, t)
}

/// Explicit round-to-nearest (exceptions suppressed) for the AVX-512 multiply-adds by 1 that
/// stand in for some of the two-sums' additions. `a + b 1` is `a + b` rounded once, the same
/// bits, but it runs on the multiply-add units, which the softmax row's sums leave idle while
/// their additions queue for the adders (on Zen 4 the two kinds have separate pipes): the
/// row's forward pass took 15% less time. The explicit rounding mode is the default one; it
/// only keeps LLVM from folding the multiply-add back into an addition, as it does a
/// generic `fma(b, 1, a)`.
#[cfg(target_arch = "x86_64")]
const NEAREST: i32 =
    std::arch::x86_64::_MM_FROUND_TO_NEAREST_INT | std::arch::x86_64::_MM_FROUND_NO_EXC;

/// `1.5 * 2^23`: added to `x log2 e`, it leaves `n` rounded in the low bits.
const MAGIC_F32: f32 = 12_582_912.0;
/// `1.5 * 2^52`, as [`MAGIC_F32`].
const MAGIC_F64: f64 = 6_755_399_441_055_744.0;

/// `p 2^n` for `t = n + MAGIC_F32` as two exact powers of two: `p 2^(n/2)` is exact, so a
/// subnormal result is rounded once.
#[inline(always)]
fn scale_f32(p: f32, t: f32) -> f32 {
    let n = (t.to_bits() as i32).wrapping_sub(MAGIC_F32.to_bits() as i32);
    let n1 = n >> 1;
    let n2 = n - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    p * s1 * s2
}

/// [`scale_f32`] in `f64`.
#[inline(always)]
fn scale_f64(p: f64, t: f64) -> f64 {
    let n = (t.to_bits() as i64).wrapping_sub(MAGIC_F64.to_bits() as i64);
    let n1 = n >> 1;
    let n2 = n - n1;
    let s1 = f64::from_bits(((n1 + 1023) as u64) << 52);
    let s2 = f64::from_bits(((n2 + 1023) as u64) << 52);
    p * s1 * s2
}

/// `e^x = p 2^n` with `t = n + MAGIC_F32` (see [`exp_f32`]).
#[inline(always)]
fn exp_parts_f32<const FMA: bool, const UPPER: bool>(x: f32) -> (f32, f32) {
    let m = f32::madd::<FMA>;
    let x = select(x > f32::EXP_LO, x, f32::EXP_LO);
    let x = if UPPER {
        select(x < f32::EXP_HI, x, f32::EXP_HI)
    } else {
        x
    };
    let t = m(x, std::f32::consts::LOG2_E, MAGIC_F32);
    let n = t - MAGIC_F32;
    // `n LN2_HI` and `x - n LN2_HI` are exact, fused or not.
    let r = m(-n, LN2_LO_F32, m(-n, LN2_HI_F32, x));
    let r2 = r * r;
    let a = m(r, 1.0 / 6.0, 0.5);
    let b = m(r, 1.0 / 120.0, 1.0 / 24.0);
    let c = m(r, 1.0 / 5040.0, 1.0 / 720.0);
    let q = m(r2, m(r2, c, b), a);
    (1.0 + m(r2, q, r), t)
}

/// `e^x` as in the module docs; `UPPER`: clamp above too (not needed for `x <= 0`).
#[inline(always)]
fn exp_f64<const FMA: bool, const UPPER: bool>(x: f64) -> f64 {
    let (p, t) = exp_parts_f64::<FMA, UPPER>(x);
    scale_f64(p, t)
}

/// [`exp_parts_f32`] in `f64`.
#[inline(always)]
fn exp_parts_f64<const FMA: bool, const UPPER: bool>(x: f64) -> (f64, f64) {
    let m = f64::madd::<FMA>;
    let x = select(x > f64::EXP_LO, x, f64::EXP_LO);
    let x = if UPPER {
        select(x < f64::EXP_HI, x, f64::EXP_HI)
    } else {
        x
    };
    let t = m(x, std::f64::consts::LOG2_E, MAGIC_F64);
    let n = t - MAGIC_F64;
    // `n LN2_HI` and `x - n LN2_HI` are exact, fused or not.
    let r = m(-n, LN2_LO_F64, m(-n, LN2_HI_F64, x));
    let mut q = 1.0 / 6_227_020_800.0; // 1/13!
    for k in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
    ] {
        q = m(r, q, 1.0 / k);
    }
    (1.0 + m(r * r, q, r), t)
}

/// `log(1 + x)` for `x >= 0` in `f64`, for the once-a-row logarithms of the softmax rows
/// (libm's `ln_1p` took a tenth of a short row's time): [`Real::log1p_unit_with`] up to 1;
/// above, `1 + x = 2^k f` with `f` in `[1, 2)`, so `log(1 + x) = k ln 2 + log1p(f - 1)` (`f - 1`
/// exact; rounding `1 + x` costs at most `u/2` absolute, below `0.73 u` relative since the
/// result exceeds `ln 2`); at most 3 ulps in all (tested against MPFR below). `+inf` and NaN
/// are returned as they are.
#[inline(always)]
pub(crate) fn ln_1p_f64<const FMA: bool>(x: f64) -> f64 {
    if x <= 1.0 {
        return x.log1p_unit_with::<FMA>();
    }
    if !x.is_finite() {
        return x;
    }
    let y = 1.0 + x;
    let bits = y.to_bits();
    let k = ((bits >> 52) as i64) - 1023;
    let f = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let k = k as f64;
    f64::madd::<FMA>(
        k,
        LN2_HI_F64,
        f64::madd::<FMA>(k, LN2_LO_F64, (f - 1.0).log1p_unit_with::<FMA>()),
    )
}

/// `exp(z - m)`, with the rounding error of `z - m` put back: `z - m = hi + lo` exactly
/// (two-sum) and `exp(hi + lo) = exp(hi)(1 + lo)` to first order. Where `hi` is below the
/// range of `exp` (or infinite) the result is 0.
#[inline(always)]
pub(crate) fn shifted_exp<T: Real, const FMA: bool>(z: T, m: T) -> T {
    let (hi, lo) = two_diff(z, m);
    let ok = hi > T::EXP_LO;
    let lo = select(ok, lo, T::ZERO);
    let e = hi.exp_with::<FMA>();
    T::madd::<FMA>(e, lo, e)
}

/// Knuth's two-sum of `x` into the sum `s` with its error `e` kept apart: `s` becomes the
/// rounded `s + x`, and `e` gains that addition's rounding error.
#[inline(always)]
pub(crate) fn two_sum_into<T: Real>(s: &mut T, e: &mut T, x: T) {
    let t = *s + x;
    let bp = t - *s;
    *e = *e + ((*s - (t - bp)) + (x - bp));
    *s = t;
}

/// `z - m = hi + lo`, `hi` rounded (Knuth's two-sum).
#[inline(always)]
pub(crate) fn two_diff<T: Real>(z: T, m: T) -> (T, T) {
    let hi = z - m;
    let bb = hi - z;
    (hi, (z - (hi - bb)) + (-m - bb))
}

#[cfg(all(test, feature = "verify"))]
mod tests {
    use super::*;
    use crate::verify::accuracy::ulps_f64 as ulps;
    use rug::Float;

    /// [`ln_1p_f64`] against MPFR over `[0, 1e300]` (uniform on `[0, 100]`, log-spaced
    /// magnitudes, the ends of the two ranges), fused and not: at most 3 ulps.
    #[test]
    fn ln_1p_f64_within_three_ulps() {
        let mut state = 0x1a2b_u64;
        let mut unit = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut worst = 0;
        for i in 0..100_000 {
            let x = match i % 3 {
                0 => unit() * 100.0,
                1 => 10f64.powf(unit() * 330.0 - 30.0),
                _ => [
                    0.0,
                    1.0,
                    f64::from_bits(1.0f64.to_bits() + 1),
                    0.999_999,
                    1e300,
                ][i % 5],
            };
            let exact = Float::with_val(128, x).ln_1p().to_f64();
            for got in [ln_1p_f64::<false>(x), ln_1p_f64::<true>(x)] {
                let e = ulps(got, exact);
                assert!(e <= 3, "ln_1p({x:e}) = {got:e}, exact {exact:e}: {e} ulps");
                worst = worst.max(e);
            }
        }
        eprintln!("ln_1p_f64 worst: {worst} ulps");
        assert_eq!(ln_1p_f64::<true>(f64::INFINITY), f64::INFINITY);
        assert!(ln_1p_f64::<true>(f64::NAN).is_nan());
    }
}
