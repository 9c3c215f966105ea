//! Parameter values, kept exactly as the caller gave them.

use crate::error::Error;

/// A real parameter (`eps`, `alpha`, `beta`, a prior entry or a weight), exactly as given.
///
/// Either a binary64 value, taken exactly, or a decimal text such as `"0.1"`, taken exactly by
/// the MPFR reference and rounded once (to nearest) for the `f64` and `f32` formulas. A
/// decimal's `f32` value is rounded from the text directly, never through `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    value: f64,
    decimal: Option<Box<str>>,
}

/// Decimal exponents beyond this are refused: their values are far outside binary64 anyway,
/// and the exact reference would have to build a huge power of ten.
const MAX_DECIMAL_EXPONENT: i64 = 1000;

impl Param {
    /// A parameter with this exact binary64 value.
    pub const fn new(value: f64) -> Self {
        Param {
            value,
            decimal: None,
        }
    }

    /// A parameter with the exact value of a decimal text: an optional sign, digits with an
    /// optional point, and an optional exponent (`0.1`, `-2.5e-3`, `.5`, `1E2`).
    ///
    /// # Errors
    /// [`Error::InvalidDecimal`] when the text is not of that form, or its value lies outside
    /// the finite binary64 range (it would round to infinity).
    pub fn decimal(text: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidDecimal {
            text: text.to_owned(),
        };
        let parts = DecimalParts::split(text).ok_or_else(invalid)?;
        if parts.scale().abs() > MAX_DECIMAL_EXPONENT + parts.digits().len() as i64 {
            return Err(invalid());
        }
        // Rust's float parsing rounds correctly to nearest; the syntax check above keeps
        // "inf" and "nan" out.
        let value: f64 = text.parse().map_err(|_| invalid())?;
        if !value.is_finite() {
            return Err(invalid());
        }
        Ok(Param {
            value,
            decimal: Some(text.into()),
        })
    }

    /// The value rounded to binary64 (exact when the parameter was given as one).
    pub const fn value(&self) -> f64 {
        self.value
    }

    /// The value rounded once to binary32.
    pub fn value_f32(&self) -> f32 {
        match &self.decimal {
            // Parsing the text again rounds once; `value as f32` could round twice.
            Some(text) => text.parse().unwrap_or(self.value as f32),
            None => self.value as f32,
        }
    }

    /// The decimal text, when the parameter was given as one.
    pub fn decimal_text(&self) -> Option<&str> {
        self.decimal.as_deref()
    }

    /// The digits and power-of-ten scale of the exact value: `value = ±digits · 10^scale`.
    #[cfg_attr(not(feature = "reference"), allow(dead_code))]
    pub(crate) fn decimal_parts(&self) -> Option<DecimalParts<'_>> {
        self.decimal.as_deref().and_then(DecimalParts::split)
    }
}

impl From<f64> for Param {
    fn from(value: f64) -> Self {
        Param::new(value)
    }
}

/// A decimal text split into sign, digit string and power-of-ten scale.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecimalParts<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
    exponent: i64,
}

impl<'a> DecimalParts<'a> {
    fn split(text: &'a str) -> Option<Self> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => {
                let exp = &rest[at + 1..];
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if !is_digits(digits) || digits.len() > 18 {
                    return None;
                }
                (&rest[..at], exp.parse::<i64>().ok()?)
            }
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = (int.is_empty() || is_digits(int)) && (frac.is_empty() || is_digits(frac));
        if !all_digits || int.len() + frac.len() == 0 {
            return None;
        }
        Some(DecimalParts {
            negative,
            int,
            frac,
            exponent,
        })
    }

    /// Whether the value is negative (`-0` counts as negative zero, value 0).
    #[cfg_attr(not(feature = "reference"), allow(dead_code))]
    pub(crate) fn negative(&self) -> bool {
        self.negative
    }

    /// All mantissa digits, integer part then fraction.
    pub(crate) fn digits(&self) -> String {
        let mut s = String::with_capacity(self.int.len() + self.frac.len());
        s.push_str(self.int);
        s.push_str(self.frac);
        s
    }

    /// The power of ten that multiplies [`Self::digits`].
    pub(crate) fn scale(&self) -> i64 {
        self.exponent - self.frac.len() as i64
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_to_nearest_values() {
        assert_eq!(Param::decimal("0.1").unwrap().value(), 0.1);
        assert_eq!(Param::decimal("-2.5e-3").unwrap().value(), -0.0025);
        assert_eq!(Param::decimal(".5").unwrap().value(), 0.5);
        assert_eq!(Param::decimal("1E2").unwrap().value(), 100.0);
        assert_eq!(Param::decimal("7.").unwrap().value(), 7.0);
        // 0.1 rounded to f32 directly is 0x3dcccccd.
        assert_eq!(
            Param::decimal("0.1").unwrap().value_f32().to_bits(),
            0x3dcc_cccd
        );
    }

    #[test]
    fn malformed_decimals_are_refused() {
        for bad in [
            "",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "0x10",
            "inf",
            "nan",
            "NaN",
            "1.2.3",
            " 1",
            "1 ",
            "1e999999",
            "1_000",
            "--1",
            "1e1000000000000000000",
        ] {
            assert_eq!(
                Param::decimal(bad),
                Err(Error::InvalidDecimal { text: bad.into() }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parts_give_digits_and_scale() {
        let p = Param::decimal("-12.345e2").unwrap();
        let parts = p.decimal_parts().unwrap();
        assert!(parts.negative());
        assert_eq!(parts.digits(), "12345");
        assert_eq!(parts.scale(), -1);
    }
}
