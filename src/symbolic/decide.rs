//! The decisions the checker makes: identities (with counterexamples), ranges of a parameter
//! (linear conditions, signs certified on the domain), and solutions of linear equations.

use std::collections::BTreeMap;

use rug::Rational;

use super::domain::{Bound, Domain, Sign};
use super::expr::{Expr, symbol_latex};
use super::poly::Poly;
use super::ratfn::RatFn;

/// A point of the domain where two sides differ, with both exact values.
#[derive(Debug, Clone, PartialEq)]
pub struct Counterexample {
    /// The symbols' values.
    pub point: BTreeMap<String, Rational>,
    /// The left side there.
    pub lhs: Rational,
    /// The right side there.
    pub rhs: Rational,
}

impl Counterexample {
    /// `eps = 1/10, n = 1: lhs = 9/10, rhs = 19/20`.
    pub fn plain(&self) -> String {
        let point: Vec<String> = self
            .point
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        format!(
            "at {}: left = {}, right = {}",
            point.join(", "),
            self.lhs,
            self.rhs
        )
    }

    /// The same in LaTeX.
    pub fn latex(&self) -> String {
        let point: Vec<String> = self
            .point
            .iter()
            .map(|(k, v)| format!("{} = {}", symbol_latex(k), rational_latex(v)))
            .collect();
        let at = if point.is_empty() {
            String::new()
        } else {
            format!("at ${}$: ", point.join(",\\ "))
        };
        format!(
            "{at}left $= {}$, right $= {}$",
            rational_latex(&self.lhs),
            rational_latex(&self.rhs)
        )
    }
}

/// Whether `lhs = rhs` identically; if not, a counterexample from the domain (when one is
/// found among the sample points).
pub fn identity(lhs: &RatFn, rhs: &RatFn, domain: &Domain) -> Result<(), Option<Counterexample>> {
    if lhs.equals(rhs) {
        return Ok(());
    }
    // Symbols the domain does not declare (loss terms such as Spos, free letters) take a few
    // fixed values of their own.
    let mut free: Vec<String> = lhs.symbols().into_iter().chain(rhs.symbols()).collect();
    free.sort();
    free.dedup();
    free.retain(|s| domain.get(s).is_none());
    for mut point in domain.sample_points(400) {
        for (k, name) in free.iter().enumerate() {
            point.insert(name.clone(), Rational::from((2 * k as u32 + 3, 2)));
        }
        if let (Some(a), Some(b)) = (lhs.evaluate(&point), rhs.evaluate(&point))
            && a != b
        {
            let used: Vec<String> = lhs.symbols().into_iter().chain(rhs.symbols()).collect();
            let point = point
                .into_iter()
                .filter(|(k, _)| used.contains(k))
                .collect();
            return Err(Some(Counterexample {
                point,
                lhs: a,
                rhs: b,
            }));
        }
    }
    Err(None)
}

/// Where a false identity does hold: the unique value of a real symbol that makes the two
/// sides agree, when their difference is linear in it.
pub fn agreement(lhs: &RatFn, rhs: &RatFn, domain: &Domain) -> Option<(String, RatFn)> {
    let diff = lhs.sub(rhs);
    domain
        .symbols
        .iter()
        .filter(|s| s.kind == super::domain::Kind::Real)
        .find_map(|s| solve_linear(&diff, &s.name).map(|v| (s.name.clone(), v)))
}

/// The value of `var` that makes `f` vanish, when `f`'s numerator is linear in `var` with a
/// coefficient that is not identically zero.
pub fn solve_linear(f: &RatFn, var: &str) -> Option<RatFn> {
    let coefficients = f.numerator().coefficients_in(var);
    let [c0, c1] = coefficients.as_slice() else {
        return None;
    };
    let (c0, c1) = (poly_ratfn(c0), poly_ratfn(c1));
    c0.neg().div(&c1)
}

fn poly_ratfn(p: &Poly) -> RatFn {
    // A polynomial is a rational function over 1.
    let mut out = RatFn::constant(Rational::new());
    for (m, c) in p.terms() {
        let mut t = RatFn::constant(c.clone());
        for (name, &e) in m {
            for _ in 0..e {
                t = t.mul(&RatFn::symbol(name));
            }
        }
        out = out.add(&t);
    }
    out
}

/// A relation of a condition `f REL 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// An end of a derived interval.
#[derive(Debug, Clone)]
pub struct End {
    /// The value.
    pub value: RatFn,
    /// Excluded?
    pub strict: bool,
}

/// The set of values of a parameter where conditions hold.
#[derive(Debug, Clone)]
pub struct Interval {
    /// The parameter.
    pub var: String,
    /// Lower end (none: unbounded).
    pub lower: Option<End>,
    /// Upper end.
    pub upper: Option<End>,
    /// No value satisfies the conditions.
    pub empty: bool,
}

impl Interval {
    /// `0 <= eps < 1/2`, or `no value of eps`.
    pub fn plain(&self) -> String {
        self.render(
            ratfn_plain,
            str::to_owned,
            ["<=", "<", ">=", ">"],
            "no value of",
        )
    }

    /// The same in LaTeX (without dollars).
    pub fn latex(&self) -> String {
        self.render(
            ratfn_latex,
            symbol_latex,
            ["\\le", "<", "\\ge", ">"],
            "\\text{no value of}",
        )
    }

    fn render(
        &self,
        value: impl Fn(&RatFn) -> String,
        name: impl Fn(&str) -> String,
        [le, lt, ge, gt]: [&str; 4],
        none: &str,
    ) -> String {
        let var = name(&self.var);
        if self.empty {
            return format!("{none} {var}");
        }
        let rel = |strict: bool| if strict { lt } else { le };
        match (&self.lower, &self.upper) {
            (Some(l), Some(u)) => format!(
                "{} {} {var} {} {}",
                value(&l.value),
                rel(l.strict),
                rel(u.strict),
                value(&u.value)
            ),
            (Some(l), None) => {
                format!(
                    "{var} {} {}",
                    if l.strict { gt } else { ge },
                    value(&l.value)
                )
            }
            (None, Some(u)) => format!("{var} {} {}", rel(u.strict), value(&u.value)),
            (None, None) => format!("any {var}"),
        }
    }

    /// Whether this is the same set as `other` (same ends, same strictness).
    pub fn same_as(&self, other: &Interval) -> bool {
        let same = |a: &Option<End>, b: &Option<End>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => a.strict == b.strict && a.value.equals(&b.value),
            _ => false,
        };
        self.empty == other.empty
            && (self.empty || (same(&self.lower, &other.lower) && same(&self.upper, &other.upper)))
    }
}

/// The interval of `var` declared in the domain.
pub fn declared(var: &str, domain: &Domain) -> Result<Interval, String> {
    let s = domain
        .get(var)
        .ok_or_else(|| format!("'{var}' is not a declared symbol"))?;
    let end = |b: &Option<Bound>| -> Result<Option<End>, String> {
        b.as_ref()
            .map(|b| {
                Ok(End {
                    value: b.value.to_ratfn(&BTreeMap::new())?,
                    strict: b.strict,
                })
            })
            .transpose()
    };
    Ok(Interval {
        var: var.to_owned(),
        lower: end(&s.lower)?,
        upper: end(&s.upper)?,
        empty: false,
    })
}

/// The values of `var` in its declared interval where every condition `f REL 0` holds. Each
/// `f` must be linear in `var` over a denominator of certified sign; the coefficient's sign and
/// the order of competing bounds are certified on the domain, else the derivation is refused
/// with the reason (split the domain into cases).
///
/// # Errors
/// A message saying which sign could not be certified.
pub fn range(var: &str, conditions: &[(RatFn, Rel)], domain: &Domain) -> Result<Interval, String> {
    let mut interval = declared(var, domain)?;
    for (f, rel) in conditions {
        // Normalise to g > 0 or g >= 0.
        let (g, strict) = match rel {
            Rel::Gt => (f.clone(), true),
            Rel::Ge => (f.clone(), false),
            Rel::Lt => (f.neg(), true),
            Rel::Le => (f.neg(), false),
        };
        let den = poly_ratfn(g.denominator());
        let num = match domain.sign(&den) {
            Some(Sign::Positive) => poly_ratfn(g.numerator()),
            Some(Sign::Negative) => poly_ratfn(g.numerator()).neg(),
            _ => {
                return Err(format!(
                    "cannot certify the sign of the denominator {}",
                    ratfn_plain(&den)
                ));
            }
        };
        let coefficients = num.numerator().coefficients_in(var);
        let (c0, c1) = match coefficients.as_slice() {
            [c0] => (poly_ratfn(c0), RatFn::constant(Rational::new())),
            [c0, c1] => (poly_ratfn(c0), poly_ratfn(c1)),
            _ => return Err(format!("{} is not linear in {var}", ratfn_plain(f))),
        };
        match domain.sign(&c1) {
            Some(Sign::Zero) => match domain.sign(&c0) {
                Some(Sign::Positive) => {}
                Some(Sign::NonNegative) if !strict => {}
                Some(Sign::Negative) => interval.empty = true,
                Some(Sign::NonPositive) if strict => interval.empty = true,
                Some(Sign::Zero) if strict => interval.empty = true,
                Some(Sign::Zero) => {}
                _ => return Err(format!("cannot certify the sign of {}", ratfn_plain(&c0))),
            },
            Some(s @ (Sign::Positive | Sign::Negative)) => {
                let bound = c0.neg().div(&c1).ok_or("zero coefficient")?;
                let end = End {
                    value: bound,
                    strict,
                };
                if s == Sign::Positive {
                    interval.lower = tighter(interval.lower, end, true, domain)?;
                } else {
                    interval.upper = tighter(interval.upper, end, false, domain)?;
                }
            }
            _ => {
                return Err(format!(
                    "cannot certify the sign of {}, the coefficient of {var}; split into cases",
                    ratfn_plain(&c1)
                ));
            }
        }
    }
    if let (Some(l), Some(u)) = (&interval.lower, &interval.upper) {
        match domain.sign(&u.value.sub(&l.value)) {
            Some(Sign::Negative) => interval.empty = true,
            // Where the ends coincide a strict end leaves nothing; elsewhere upper < lower.
            Some(Sign::Zero | Sign::NonPositive) if l.strict || u.strict => interval.empty = true,
            Some(Sign::Positive | Sign::Zero) => {}
            _ => return Err("cannot order the interval's ends; split into cases".into()),
        }
    }
    Ok(interval)
}

/// The tighter of two lower (or upper) ends.
fn tighter(
    current: Option<End>,
    new: End,
    lower: bool,
    domain: &Domain,
) -> Result<Option<End>, String> {
    let Some(current) = current else {
        return Ok(Some(new));
    };
    let diff = new.value.sub(&current.value);
    let new_wins = match (domain.sign(&diff), lower) {
        (Some(Sign::Zero), _) => {
            return Ok(Some(End {
                value: current.value,
                strict: current.strict || new.strict,
            }));
        }
        (Some(Sign::Positive), true) | (Some(Sign::Negative), false) => true,
        (Some(Sign::Negative), true) | (Some(Sign::Positive), false) => false,
        // Ordered but equal somewhere: the tighter-or-equal end wins outright when it is
        // at least as strict where the two coincide.
        (Some(Sign::NonNegative), true) | (Some(Sign::NonPositive), false)
            if new.strict || !current.strict =>
        {
            true
        }
        (Some(Sign::NonPositive), true) | (Some(Sign::NonNegative), false)
            if current.strict || !new.strict =>
        {
            false
        }
        _ => {
            return Err(format!(
                "cannot order the bounds {} and {}; split into cases",
                ratfn_plain(&new.value),
                ratfn_plain(&current.value)
            ));
        }
    };
    Ok(Some(if new_wins { new } else { current }))
}

/// Replaces symbols fixed by `where` clauses.
pub fn fixed(f: &RatFn, values: &BTreeMap<String, RatFn>) -> Result<RatFn, String> {
    f.substitute(values)
        .ok_or_else(|| "a substitution divides by zero".to_owned())
}

/// A rational function as text, `num / den` with the denominator dropped when it is 1.
pub fn ratfn_plain(f: &RatFn) -> String {
    let wrap = |p: &Poly| {
        if p.terms().count() > 1 {
            format!("({p})")
        } else {
            p.to_string()
        }
    };
    match f.denominator().as_constant() {
        Some(d) if d == 1 => f.numerator().to_string(),
        _ => format!("{}/{}", wrap(f.numerator()), wrap(f.denominator())),
    }
}

/// A rational function in LaTeX.
pub fn ratfn_latex(f: &RatFn) -> String {
    if let Some(c) = f.as_constant() {
        return rational_latex(&c);
    }
    let num = poly_latex(f.numerator());
    match f.denominator().as_constant() {
        Some(d) if d == 1 => num,
        _ => format!("\\frac{{{num}}}{{{}}}", poly_latex(f.denominator())),
    }
}

fn poly_latex(p: &Poly) -> String {
    let mut out = String::new();
    for (i, (m, c)) in p.display_terms().into_iter().enumerate() {
        let negative = *c < 0;
        let magnitude = Rational::from(c.abs_ref());
        out += match (i, negative) {
            (0, true) => "-",
            (0, false) => "",
            (_, true) => " - ",
            (_, false) => " + ",
        };
        let factors: Vec<String> = m
            .iter()
            .map(|(k, &e)| {
                let s = symbol_latex(k);
                if e == 1 { s } else { format!("{s}^{{{e}}}") }
            })
            .collect();
        if factors.is_empty() {
            out += &rational_latex(&magnitude);
        } else {
            if magnitude != 1 {
                out += &rational_latex(&magnitude);
                out += " ";
            }
            out += &factors.join(" ");
        }
    }
    if out.is_empty() { "0".into() } else { out }
}

/// An exact rational in LaTeX.
pub fn rational_latex(r: &Rational) -> String {
    if *r.denom() == 1 {
        r.numer().to_string()
    } else {
        let sign = if *r < 0 { "-" } else { "" };
        format!(
            "{sign}\\tfrac{{{}}}{{{}}}",
            r.numer().clone().abs(),
            r.denom()
        )
    }
}

/// Parses `a = 1, b = 2/3` into substitutions.
pub fn parse_assignments(text: &str) -> Result<Vec<(String, Expr)>, String> {
    text.split(',')
        .map(|part| {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("expected NAME = VALUE in '{part}'"))?;
            Ok((name.trim().to_owned(), Expr::parse(value.trim())?))
        })
        .collect()
}
