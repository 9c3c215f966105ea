//! The domain of the symbols of a derivation: integer symbols with lower bounds, real symbols
//! with intervals. Signs on the domain are certified by substitution (each symbol becomes its
//! lower bound plus a fresh non-negative unknown, an interval `[a, b)` becomes
//! `a + (b - a) x / (1 + x)`): a rational function whose numerator and denominator then have
//! only non-negative coefficients is non-negative on the whole domain.

use std::collections::BTreeMap;

use rug::Rational;

use super::expr::Expr;
use super::ratfn::RatFn;

/// Whether a symbol ranges over integers or reals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Counts such as `n` and `N`.
    Integer,
    /// Parameters such as `eps`.
    Real,
}

/// One end of an interval.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The value, possibly depending on other symbols.
    pub value: Expr,
    /// Whether the end itself is excluded.
    pub strict: bool,
}

/// A declared symbol.
#[derive(Debug, Clone)]
pub struct Symbol {
    /// The name.
    pub name: String,
    /// Integer or real.
    pub kind: Kind,
    /// The lower end, if any.
    pub lower: Option<Bound>,
    /// The upper end, if any.
    pub upper: Option<Bound>,
}

/// The declared symbols, in order (a bound may only use symbols declared before it).
#[derive(Debug, Clone, Default)]
pub struct Domain {
    /// In declaration order.
    pub symbols: Vec<Symbol>,
}

/// The sign of a rational function on a domain, as far as it can be certified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// `> 0` everywhere.
    Positive,
    /// `>= 0` everywhere.
    NonNegative,
    /// `= 0` everywhere.
    Zero,
    /// `<= 0` everywhere.
    NonPositive,
    /// `< 0` everywhere.
    Negative,
}

impl Domain {
    /// The declaration of `name`.
    pub fn get(&self, name: &str) -> Option<&Symbol> {
        self.symbols.iter().find(|s| s.name == name)
    }

    /// A copy with `name`'s lower (or upper) bound replaced.
    pub fn with_bound(&self, name: &str, lower: bool, bound: Bound) -> Domain {
        let mut d = self.clone();
        if let Some(s) = d.symbols.iter_mut().find(|s| s.name == name) {
            if lower {
                s.lower = Some(bound);
            } else {
                s.upper = Some(bound);
            }
        }
        d
    }

    /// The substitution that maps fresh non-negative unknowns onto the domain.
    fn certificate_substitution(&self) -> Result<BTreeMap<String, RatFn>, String> {
        let mut subs: BTreeMap<String, RatFn> = BTreeMap::new();
        for s in &self.symbols {
            let fresh = RatFn::symbol(&format!("{}'", s.name));
            let bound = |b: &Option<Bound>| -> Result<Option<RatFn>, String> {
                match b {
                    Some(b) => Ok(Some(
                        b.value
                            .to_ratfn(&BTreeMap::new())?
                            .substitute(&subs)
                            .ok_or("a bound divides by zero")?,
                    )),
                    None => Ok(None),
                }
            };
            let (lo, hi) = (bound(&s.lower)?, bound(&s.upper)?);
            let one = RatFn::constant(Rational::from(1));
            let value = match (lo, hi) {
                // An integer above a strict bound is at least the bound plus one; certificates
                // only need "at least the bound", which stays sound.
                (Some(lo), None) => lo.add(&fresh),
                (Some(lo), Some(hi)) => {
                    let t = fresh.div(&one.add(&fresh)).ok_or("bad interval")?;
                    lo.add(&hi.sub(&lo).mul(&t))
                }
                (None, Some(hi)) => hi.sub(&fresh),
                (None, None) => continue,
            };
            subs.insert(s.name.clone(), value);
        }
        Ok(subs)
    }

    /// The certified sign of `f` on the domain, or `None` when the certificate does not apply
    /// (the sign may vary, or need a finer argument).
    pub fn sign(&self, f: &RatFn) -> Option<Sign> {
        let mut sign = self.sign_open(f)?;
        // The substitution covers `[a, b)` only: a closed upper end is checked on its own.
        let used = f.symbols();
        for s in &self.symbols {
            if let Some(Bound {
                value,
                strict: false,
            }) = &s.upper
                && s.kind == Kind::Real
                && used.contains(&s.name)
            {
                let hi = value.to_ratfn(&BTreeMap::new()).ok()?;
                let at = f.substitute(&BTreeMap::from([(s.name.clone(), hi)]))?;
                sign = combine(sign, self.sign(&at)?)?;
            }
        }
        Some(sign)
    }

    fn sign_open(&self, f: &RatFn) -> Option<Sign> {
        if f.is_zero() {
            return Some(Sign::Zero);
        }
        let subs = self.certificate_substitution().ok()?;
        let g = f.substitute(&subs)?;
        let (num, den) = (g.numerator(), g.denominator());
        let den_positive = den_positive(den)?;
        let num_sign = poly_sign(num)?;
        Some(match (num_sign, den_positive) {
            (s, true) => s,
            (Sign::Positive, false) => Sign::Negative,
            (Sign::NonNegative, false) => Sign::NonPositive,
            (Sign::Negative, false) => Sign::Positive,
            (Sign::NonPositive, false) => Sign::NonNegative,
            (Sign::Zero, false) => Sign::Zero,
        })
    }

    /// Points of the domain to look for counterexamples at: integers from each lower bound
    /// up, and a few rationals inside each real interval.
    pub fn sample_points(&self, limit: usize) -> Vec<BTreeMap<String, Rational>> {
        let reals: Vec<Rational> = [
            (1, 10),
            (1, 5),
            (1, 3),
            (2, 5),
            (1, 7),
            (3, 10),
            (1, 2),
            (2, 3),
            (9, 10),
            (1, 20),
            (3, 2),
            (7, 3),
        ]
        .into_iter()
        .map(Rational::from)
        .collect();
        let mut points: Vec<BTreeMap<String, Rational>> = vec![BTreeMap::new()];
        for s in &self.symbols {
            let mut next = Vec::new();
            for p in &points {
                let eval = |b: &Option<Bound>| -> Option<(Rational, bool)> {
                    let b = b.as_ref()?;
                    let v = b.value.to_ratfn(&BTreeMap::new()).ok()?.evaluate(p)?;
                    Some((v, b.strict))
                };
                let (lo, hi) = (eval(&s.lower), eval(&s.upper));
                let inside = |v: &Rational| {
                    lo.as_ref()
                        .is_none_or(|(l, strict)| if *strict { v > l } else { v >= l })
                        && hi
                            .as_ref()
                            .is_none_or(|(h, strict)| if *strict { v < h } else { v <= h })
                };
                let candidates: Vec<Rational> = match s.kind {
                    Kind::Integer => {
                        let start = lo.as_ref().map_or(Rational::from(1), |(l, strict)| {
                            let c = Rational::from(l.ceil_ref());
                            if *strict && c == *l { c + 1u32 } else { c }
                        });
                        (0..4u32)
                            .map(|k| Rational::from(&start + k))
                            .filter(&inside)
                            .collect()
                    }
                    Kind::Real => reals.iter().filter(|v| inside(v)).cloned().collect(),
                };
                for v in candidates {
                    let mut q = p.clone();
                    q.insert(s.name.clone(), v);
                    next.push(q);
                    if next.len() >= limit {
                        break;
                    }
                }
            }
            points = next;
        }
        points
    }
}

/// The sign of a polynomial in non-negative unknowns, from its coefficients: non-negative when
/// all are, positive when moreover the constant term is.
fn poly_sign(p: &super::poly::Poly) -> Option<Sign> {
    let constant = p
        .terms()
        .find(|(m, _)| m.is_empty())
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    if p.is_zero() {
        return Some(Sign::Zero);
    }
    if p.coefficients_non_negative() {
        return Some(if constant > 0 {
            Sign::Positive
        } else {
            Sign::NonNegative
        });
    }
    if p.neg().coefficients_non_negative() {
        return Some(if constant < 0 {
            Sign::Negative
        } else {
            Sign::NonPositive
        });
    }
    None
}

/// The sign that holds on the union of two sets with signs `a` and `b`.
fn combine(a: Sign, b: Sign) -> Option<Sign> {
    use Sign::*;
    let upper = |s| matches!(s, Positive | NonNegative | Zero);
    let lower = |s| matches!(s, Negative | NonPositive | Zero);
    Some(match (a, b) {
        (x, y) if x == y => x,
        (Positive, Positive) => Positive,
        (x, y) if upper(x) && upper(y) => NonNegative,
        (x, y) if lower(x) && lower(y) => NonPositive,
        _ => return None,
    })
}

/// For a denominator, which must not vanish anywhere: `Some(true)` if certainly positive,
/// `Some(false)` if certainly negative.
fn den_positive(p: &super::poly::Poly) -> Option<bool> {
    match poly_sign(p)? {
        Sign::Positive => Some(true),
        Sign::Negative => Some(false),
        _ => None,
    }
}
