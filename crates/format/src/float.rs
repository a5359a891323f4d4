//! Number text exactly as Python (and numpy, for 32-bit floats) prints it.
//!
//! The reference writes its tables with pandas, which prints a float with the shortest
//! decimal text that reads back as the same value *of its own width*: `0.1` for a 64-bit
//! 0.1, `0.41234568` for a 32-bit value. Integral values keep a `.0`; exponents are used
//! below 1e-4 and from 1e16 on, as `1e-05` or `1.5e+16`. Rust's formatter finds the same
//! shortest digits; this module only lays them out the Python way.

use std::fmt::Write as _;

/// Appends the Python `repr` of a 64-bit float to `out`.
pub fn push_f64(out: &mut String, value: f64) {
    if !value.is_finite() {
        push_non_finite(out, value.is_nan(), value.is_sign_negative());
        return;
    }
    let mut digits = String::with_capacity(32);
    write!(digits, "{value:e}").expect("writing to a String cannot fail");
    layout(out, &digits);
}

/// Appends numpy's `str` of a 32-bit float to `out` (shortest text that round-trips as f32).
pub fn push_f32(out: &mut String, value: f32) {
    if !value.is_finite() {
        push_non_finite(out, value.is_nan(), value.is_sign_negative());
        return;
    }
    let mut digits = String::with_capacity(32);
    write!(digits, "{value:e}").expect("writing to a String cannot fail");
    layout(out, &digits);
}

/// The Python `repr` of a 64-bit float.
pub fn f64_repr(value: f64) -> String {
    let mut s = String::new();
    push_f64(&mut s, value);
    s
}

/// numpy's `str` of a 32-bit float.
pub fn f32_repr(value: f32) -> String {
    let mut s = String::new();
    push_f32(&mut s, value);
    s
}

fn push_non_finite(out: &mut String, nan: bool, negative: bool) {
    out.push_str(match (nan, negative) {
        (true, _) => "nan",
        (false, false) => "inf",
        (false, true) => "-inf",
    });
}

/// Lays out Rust's `{:e}` text (`-1.2345e-5`: shortest digits, one before the point) the
/// way Python's `repr` does.
fn layout(out: &mut String, sci: &str) {
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` output has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if negative {
        out.push('-');
    }
    if digits == "0" {
        out.push_str("0.0");
        return;
    }
    if !(-4..16).contains(&exponent) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exponent.abs());
        return;
    }
    if exponent < 0 {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(&digits);
        return;
    }
    let point = exponent as usize + 1;
    if digits.len() <= point {
        out.push_str(&digits);
        for _ in digits.len()..point {
            out.push('0');
        }
        out.push_str(".0");
    } else {
        out.push_str(&digits[..point]);
        out.push('.');
        out.push_str(&digits[point..]);
    }
}

/// Text of a float that the public download writes as an integer when it is one
/// (timestamps, modeling groups): `1787901748795`, `-1`, else the Python repr.
pub fn push_integral_or_repr(out: &mut String, value: f64) {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        push_f64(out, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_python_repr_of_doubles() {
        let cases: [(f64, &str); 16] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1787901748795.0, "1787901748795.0"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (1.5e16, "1.5e+16"),
            (-2.5e-7, "-2.5e-07"),
            (0.9655172413793104, "0.9655172413793104"),
            (16.316367387771606, "16.316367387771606"),
            (1e100, "1e+100"),
            (123.456, "123.456"),
        ];
        for (value, text) in cases {
            assert_eq!(f64_repr(value), text, "{value:?}");
        }
        assert_eq!(f64_repr(f64::NAN), "nan");
        assert_eq!(f64_repr(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn matches_numpy_str_of_singles() {
        // Values seen in the reference's outputs.
        for text in [
            "0.18988118",
            "-0.48774654",
            "1.136659",
            "-0.055547487",
            "0.258677",
            "1e-05",
        ] {
            let value: f32 = text.parse().unwrap();
            assert_eq!(f32_repr(value), text);
        }
        assert_eq!(f32_repr(0.1), "0.1");
        assert_eq!(f32_repr(20.0), "20.0");
    }

    #[test]
    fn integral_values_print_without_a_point() {
        let mut s = String::new();
        push_integral_or_repr(&mut s, -1.0);
        s.push(' ');
        push_integral_or_repr(&mut s, 1787901748795.0);
        s.push(' ');
        push_integral_or_repr(&mut s, 0.5);
        assert_eq!(s, "-1 1787901748795 0.5");
    }

    proptest! {
        #[test]
        fn f64_text_reads_back_exactly(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            prop_assume!(value.is_finite());
            let text = f64_repr(value);
            prop_assert_eq!(text.parse::<f64>().unwrap().to_bits(), value.to_bits());
            prop_assert!(text.contains('.') || text.contains('e'));
        }

        #[test]
        fn f32_text_reads_back_exactly(bits in any::<u32>()) {
            let value = f32::from_bits(bits);
            prop_assume!(value.is_finite());
            prop_assert_eq!(f32_repr(value).parse::<f32>().unwrap().to_bits(), value.to_bits());
        }
    }
}
