//! `ln(1 + e)` for `e ∈ [0, 1]`, the logarithm of the cross-entropy, inlined into its loops.
//!
//! The C library's `log1p` is an out-of-line call with error handling for the whole real
//! line, and its `log` takes a slower path near 1, where `1 + e^−|s|` lies for every
//! confident rating; in the solver's loops either took about a third of the time. This
//! uses the classic fdlibm reduction and polynomial (Sun Microsystems, freely usable),
//! restricted to the range the cross-entropy needs, and stays within about one unit in the
//! last place of the exact value. Being plain arithmetic it gives the same bits on every
//! machine and thread count.

// The constants as fdlibm publishes them (more digits than an f64 holds).
#![allow(clippy::excessive_precision)]

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

const LG1: f64 = 6.666_666_666_666_735_130e-1;
const LG2: f64 = 3.999_999_999_940_941_908e-1;
const LG3: f64 = 2.857_142_874_366_239_149e-1;
const LG4: f64 = 2.222_219_843_214_978_396e-1;
const LG5: f64 = 1.818_357_216_161_805_012e-1;
const LG6: f64 = 1.531_383_769_920_937_332e-1;
const LG7: f64 = 1.479_819_860_511_658_591e-1;

/// `ln(1 + e)` for `e ∈ [0, 1]`.
#[inline(always)]
pub(super) fn ln_1p_unit(e: f64) -> f64 {
    debug_assert!(e.is_nan() || (0.0..=1.0).contains(&e));
    // 1 + e = 2^k (1 + f) with f ∈ [√2/2 − 1, √2 − 1].
    let (k, f) = if e > std::f64::consts::SQRT_2 - 1.0 {
        (1.0, (e - 1.0) * 0.5)
    } else {
        (0.0, e)
    };
    // ln(1 + f) = 2 atanh(s) with s = f / (2 + f), as a polynomial in s².
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn matches_the_library_within_an_ulp() {
        let mut worst = 0;
        for k in 0..=200_000 {
            let e = k as f64 / 200_000.0;
            worst = worst.max(ulps(ln_1p_unit(e), e.ln_1p()));
        }
        for k in 0..=100_000 {
            let e = (-(k as f64) * 0.007).exp();
            worst = worst.max(ulps(ln_1p_unit(e), e.ln_1p()));
        }
        assert!(worst <= 1, "{worst} ulps");
        assert_eq!(ln_1p_unit(0.0), 0.0);
        assert_eq!(ln_1p_unit(1.0), std::f64::consts::LN_2);
        assert_eq!(ln_1p_unit(1e-300), 1e-300);
    }
}
