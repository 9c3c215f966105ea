//! Rational functions over Q: a numerator and a non-zero denominator polynomial. Two rational
//! functions are equal exactly when `a.num * b.den - b.num * a.den` is the zero polynomial.

use std::collections::BTreeMap;

use rug::Rational;

use super::poly::{Monomial, Poly};

/// `num / den`, `den` never the zero polynomial.
#[derive(Debug, Clone)]
pub struct RatFn {
    num: Poly,
    den: Poly,
}

impl RatFn {
    /// A constant.
    pub fn constant(c: Rational) -> Self {
        RatFn {
            num: Poly::constant(c),
            den: Poly::constant(Rational::from(1)),
        }
    }

    /// A symbol.
    pub fn symbol(name: &str) -> Self {
        RatFn {
            num: Poly::symbol(name),
            den: Poly::constant(Rational::from(1)),
        }
    }

    /// The numerator.
    pub fn numerator(&self) -> &Poly {
        &self.num
    }

    /// The denominator.
    pub fn denominator(&self) -> &Poly {
        &self.den
    }

    /// `self + other`.
    pub fn add(&self, other: &RatFn) -> RatFn {
        if self.den == other.den {
            return RatFn {
                num: self.num.add(&other.num),
                den: self.den.clone(),
            }
            .reduced();
        }
        RatFn {
            num: self.num.mul(&other.den).add(&other.num.mul(&self.den)),
            den: self.den.mul(&other.den),
        }
        .reduced()
    }

    /// `-self`.
    pub fn neg(&self) -> RatFn {
        RatFn {
            num: self.num.neg(),
            den: self.den.clone(),
        }
    }

    /// `self - other`.
    pub fn sub(&self, other: &RatFn) -> RatFn {
        self.add(&other.neg())
    }

    /// `self * other`.
    pub fn mul(&self, other: &RatFn) -> RatFn {
        RatFn {
            num: self.num.mul(&other.num),
            den: self.den.mul(&other.den),
        }
        .reduced()
    }

    /// `self / other`, or `None` when `other` is identically zero.
    pub fn div(&self, other: &RatFn) -> Option<RatFn> {
        if other.num.is_zero() {
            return None;
        }
        Some(
            RatFn {
                num: self.num.mul(&other.den),
                den: self.den.mul(&other.num),
            }
            .reduced(),
        )
    }

    /// `self^k` for an integer `k` (`None` for a negative power of zero).
    pub fn pow(&self, k: i32) -> Option<RatFn> {
        let mut out = RatFn::constant(Rational::from(1));
        for _ in 0..k.unsigned_abs() {
            out = out.mul(self);
        }
        if k < 0 {
            RatFn::constant(Rational::from(1)).div(&out)
        } else {
            Some(out)
        }
    }

    /// Whether `self` and `other` are the same rational function.
    pub fn equals(&self, other: &RatFn) -> bool {
        self.num.mul(&other.den) == other.num.mul(&self.den)
    }

    /// Whether the function is identically zero.
    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    /// The constant value, if the function is constant.
    pub fn as_constant(&self) -> Option<Rational> {
        let n = self.num.as_constant()?;
        let d = self.den.as_constant()?;
        (d != 0).then(|| Rational::from(&n / &d))
    }

    /// Replaces symbols by rational functions; `None` if the denominator becomes zero.
    pub fn substitute(&self, values: &BTreeMap<String, RatFn>) -> Option<RatFn> {
        // Bring every substituted value over a common denominator power by evaluating the
        // numerator and denominator as polynomials in fresh fractions.
        let eval = |p: &Poly| -> RatFn {
            let mut out = RatFn::constant(Rational::new());
            for (m, c) in p.terms() {
                let mut term = RatFn::constant(c.clone());
                for (name, &e) in m {
                    let factor = values
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| RatFn::symbol(name));
                    for _ in 0..e {
                        term = term.mul(&factor);
                    }
                }
                out = out.add(&term);
            }
            out
        };
        eval(&self.num).div(&eval(&self.den))
    }

    /// The value at a point where every symbol has a rational value; `None` where the
    /// denominator vanishes or a symbol has no value.
    pub fn evaluate(&self, point: &BTreeMap<String, Rational>) -> Option<Rational> {
        let values: BTreeMap<String, RatFn> = point
            .iter()
            .map(|(k, v)| (k.clone(), RatFn::constant(v.clone())))
            .collect();
        self.substitute(&values)?.as_constant()
    }

    /// Every symbol that occurs.
    pub fn symbols(&self) -> Vec<String> {
        let mut s = self.num.symbols();
        s.extend(self.den.symbols());
        s.sort();
        s.dedup();
        s
    }

    /// Cancels the common monomial and rational content of numerator and denominator, and
    /// makes the denominator's leading coefficient positive. (No polynomial gcd: equality
    /// never depends on this, only display does.)
    fn reduced(self) -> RatFn {
        if self.num.is_zero() {
            return RatFn::constant(Rational::new());
        }
        let (mn, _) = self.num.content();
        let (md, cd) = self.den.content();
        let common: Monomial = mn
            .iter()
            .filter_map(|(k, &e)| md.get(k).map(|&f| (k.clone(), e.min(f))))
            .collect();
        let mut num = self.num.divide_exact(&common, &cd);
        let mut den = self.den.divide_exact(&common, &cd);
        // Cancel the non-monomial part of either side when it divides the other (no general
        // gcd; enough for the derivations' display).
        let one = Rational::from(1);
        let (dm, _) = den.content();
        let den_part = den.divide_exact(&dm, &one);
        if den_part.as_constant().is_none()
            && let Some(q) = num.div_exact(&den_part)
        {
            num = q;
            den = Poly::zero().add(&den.div_exact(&den_part).unwrap_or(den.clone()));
        }
        let (nm, _) = num.content();
        let num_part = num.divide_exact(&nm, &one);
        if num_part.as_constant().is_none()
            && let Some(q) = den.div_exact(&num_part)
        {
            den = q;
            num = num.div_exact(&num_part).unwrap_or(num.clone());
        }
        // Integer coefficients, no common integer factor, and the sign with the fewest minus
        // signs (ties: the denominator's constant or first term positive).
        let coefficients: Vec<Rational> = num
            .terms()
            .chain(den.terms())
            .map(|(_, c)| c.clone())
            .collect();
        let mut lcm = rug::Integer::from(1);
        let mut gcd = rug::Integer::new();
        for c in &coefficients {
            lcm.lcm_mut(c.denom());
            gcd.gcd_mut(c.numer());
        }
        let scale = Rational::from((lcm, gcd.max(rug::Integer::from(1))));
        let times = |p: &Poly| p.mul(&Poly::constant(scale.clone()));
        let (num, den) = (times(&num), times(&den));
        let negatives = |p: &Poly| p.terms().filter(|(_, c)| **c < 0).count();
        let terms = num.terms().count() + den.terms().count();
        let minus = negatives(&num) + negatives(&den);
        let flip = 2 * minus > terms || (2 * minus == terms && den.leading_sign_negative());
        if flip {
            RatFn {
                num: num.neg(),
                den: den.neg(),
            }
        } else {
            RatFn { num, den }
        }
    }
}
