//! Exact rational values of parameters, and the target formulas' field for them.

use rug::ops::Pow;
use rug::{Integer, Rational};

use crate::scheme::{Field, Param};

/// The exact value of a parameter: its decimal text where it was given as one, else its
/// binary64 value.
pub fn exact_value(p: &Param) -> Rational {
    match p.decimal_parts() {
        Some(parts) => {
            // The digits were checked when the Param was made.
            let digits = Integer::from_str_radix(&parts.digits(), 10).unwrap_or_default();
            let ten = Integer::from(10u32);
            let scale = parts.scale();
            let magnitude = ten.pow(scale.unsigned_abs() as u32);
            let value = if scale >= 0 {
                Rational::from(digits * magnitude)
            } else {
                Rational::from((digits, magnitude))
            };
            if parts.negative() { -value } else { value }
        }
        // Finite by construction; NaN or infinity would only come from a Param made by
        // `Param::new`, which validation rejects before any formula runs.
        None => Rational::from_f64(p.value()).unwrap_or_default(),
    }
}

impl Field for Rational {
    fn from_count(n: usize) -> Self {
        Rational::from(n)
    }
    fn from_param(p: &Param) -> Self {
        exact_value(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        let r = |s: &str| exact_value(&Param::decimal(s).unwrap());
        assert_eq!(r("0.1"), Rational::from((1, 10)));
        assert_eq!(r("-2.5e-3"), Rational::from((-1, 400)));
        assert_eq!(r("12e2"), Rational::from(1200));
        assert_eq!(
            exact_value(&Param::new(0.1)),
            Rational::from_f64(0.1).unwrap()
        );
        assert_ne!(exact_value(&Param::new(0.1)), Rational::from((1, 10)));
    }
}
