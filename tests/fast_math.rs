//! The fast path's polynomial `exp` and `log1p` against MPFR, in ULPs: `exp` over its whole
//! finite range and `log1p` over `[0, 1]` (the arguments the kernels use), strided through
//! every `f32` bit pattern of the range by default, exhaustively with
//! `LABELSMOOTH_SLOW=1 cargo test --release --all-features --test fast_math -- --ignored`,
//! and sampled for `f64`; both the plain and the fused (multiply-add) variants.
#![cfg(feature = "verify")]

use labelsmooth::fast::Real;
use rug::Float;

/// The bounds asserted here (and quoted in `src/fast/math.rs`).
const EXP_F32: u64 = 1;
const EXP_F64: u64 = 2;
const LOG1P_F32: u64 = 2;
const LOG1P_F64: u64 = 2;

fn ulps32(a: f32, b: f32) -> u64 {
    let key = |x: f32| {
        let bits = x.to_bits() as i32;
        i64::from(if bits < 0 { i32::MIN - bits } else { bits })
    };
    key(a).abs_diff(key(b))
}

fn ulps64(a: f64, b: f64) -> u64 {
    let key = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    key(a).abs_diff(key(b))
}

/// Every `stride`-th `f32` from `lo` to `hi` (same sign), ends included.
fn f32s(lo: f32, hi: f32, stride: u32) -> impl Iterator<Item = f32> {
    let (a, b) = (
        lo.to_bits().min(hi.to_bits()),
        lo.to_bits().max(hi.to_bits()),
    );
    (a..=b)
        .step_by(stride as usize)
        .chain([b])
        .map(f32::from_bits)
}

fn worst_f32(stride: u32) -> (u64, u64) {
    let mut worst = (0, 0);
    for x in f32s(-0.0, -110.0, stride).chain(f32s(0.0, 89.0, stride)) {
        let exact = Float::with_val(64, x).exp().to_f32();
        let got = Real::exp(x);
        let fused = Real::exp_with::<true>(x);
        if x <= 0.0 {
            // The kernels' variant for arguments that are never positive: the same bits.
            assert_eq!(Real::exp_nonpos_with::<false>(x).to_bits(), got.to_bits());
            assert_eq!(Real::exp_nonpos_with::<true>(x).to_bits(), fused.to_bits());
        }
        let e = ulps32(got, exact).max(ulps32(fused, exact));
        assert!(
            e <= EXP_F32,
            "exp({x:e}) = {got:e}, exact {exact:e}: {e} ulps"
        );
        worst.0 = worst.0.max(e);
    }
    for x in f32s(0.0, 1.0, stride) {
        let exact = Float::with_val(64, x).ln_1p().to_f32();
        let got = Real::log1p_unit(x);
        let fused = Real::log1p_unit_with::<true>(x);
        let e = ulps32(got, exact).max(ulps32(fused, exact));
        assert!(
            e <= LOG1P_F32,
            "log1p({x:e}) = {got:e}, exact {exact:e}: {e} ulps"
        );
        worst.1 = worst.1.max(e);
    }
    worst
}

#[test]
fn f32_exp_and_log1p_within_bounds_strided() {
    let worst = worst_f32(4099);
    eprintln!("f32 worst ulps: exp {}, log1p {}", worst.0, worst.1);
}

#[test]
#[ignore = "slow: every f32 of the ranges (about 2.2e9 MPFR calls); LABELSMOOTH_SLOW=1"]
fn f32_exp_and_log1p_within_bounds_exhaustive() {
    if std::env::var("LABELSMOOTH_SLOW").as_deref() == Ok("1") {
        let worst = worst_f32(1);
        eprintln!("f32 worst ulps: exp {}, log1p {}", worst.0, worst.1);
    }
}

#[test]
fn f64_exp_and_log1p_within_bounds_sampled() {
    let mut state = 0x0123_4567_89ab_cdefu64;
    let mut unit = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut worst = (0, 0);
    for i in 0..200_000 {
        // Uniform over the range, log-spaced magnitudes, and the edges.
        let x = match i % 3 {
            0 => unit() * 1470.0 - 760.0,
            1 => -(10f64.powf(unit() * 33.0 - 30.0)),
            _ => [709.78, 709.79, -708.4, -745.13, -744.4, 0.0, -1e-300][i % 7] + unit() * 1e-3,
        };
        let x = x.min(710.0);
        let exact = Float::with_val(128, x).exp().to_f64();
        let got = Real::exp(x);
        let fused = Real::exp_with::<true>(x);
        if x <= 0.0 {
            // The kernels' variant for arguments that are never positive: the same bits.
            assert_eq!(Real::exp_nonpos_with::<false>(x).to_bits(), got.to_bits());
            assert_eq!(Real::exp_nonpos_with::<true>(x).to_bits(), fused.to_bits());
        }
        let e = ulps64(got, exact).max(ulps64(fused, exact));
        assert!(
            e <= EXP_F64,
            "exp({x:e}) = {got:e}, exact {exact:e}: {e} ulps"
        );
        worst.0 = worst.0.max(e);
        let y = if i % 2 == 0 {
            unit()
        } else {
            10f64.powf(-unit() * 300.0)
        };
        let exact = Float::with_val(128, y).ln_1p().to_f64();
        let got = Real::log1p_unit(y);
        let fused = Real::log1p_unit_with::<true>(y);
        let e = ulps64(got, exact).max(ulps64(fused, exact));
        assert!(
            e <= LOG1P_F64,
            "log1p({y:e}) = {got:e}, exact {exact:e}: {e} ulps"
        );
        worst.1 = worst.1.max(e);
    }
    eprintln!("f64 worst ulps: exp {}, log1p {}", worst.0, worst.1);
}
