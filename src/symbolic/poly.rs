//! Multivariate polynomials over Q, in canonical form (a sorted map from monomials to
//! non-zero exact rational coefficients), so that equality of polynomials is equality of maps.

use std::collections::BTreeMap;
use std::fmt;

use rug::Rational;

/// A product of symbols with positive exponents, sorted by name.
pub type Monomial = BTreeMap<String, u32>;

/// A polynomial with rational coefficients; no zero coefficient is ever stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Poly {
    terms: BTreeMap<Monomial, Rational>,
}

impl Poly {
    /// The zero polynomial.
    pub fn zero() -> Self {
        Poly::default()
    }

    /// A constant.
    pub fn constant(c: Rational) -> Self {
        let mut p = Poly::zero();
        p.add_term(Monomial::new(), c);
        p
    }

    /// The symbol `name`.
    pub fn symbol(name: &str) -> Self {
        let mut m = Monomial::new();
        m.insert(name.to_owned(), 1);
        let mut p = Poly::zero();
        p.add_term(m, Rational::from(1));
        p
    }

    fn add_term(&mut self, m: Monomial, c: Rational) {
        if c == 0 {
            return;
        }
        let entry = self.terms.entry(m);
        match entry {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(c);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                *o.get_mut() += c;
                if *o.get() == 0 {
                    o.remove();
                }
            }
        }
    }

    /// Whether this is the zero polynomial.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// The constant value, if the polynomial is a constant.
    pub fn as_constant(&self) -> Option<Rational> {
        match self.terms.len() {
            0 => Some(Rational::new()),
            1 => self
                .terms
                .iter()
                .next()
                .filter(|(m, _)| m.is_empty())
                .map(|(_, c)| c.clone()),
            _ => None,
        }
    }

    /// The terms, by monomial.
    pub fn terms(&self) -> impl Iterator<Item = (&Monomial, &Rational)> {
        self.terms.iter()
    }

    /// Every symbol that occurs.
    pub fn symbols(&self) -> Vec<String> {
        let mut names: Vec<String> = self.terms.keys().flat_map(|m| m.keys().cloned()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// The highest power of `name`.
    pub fn degree_in(&self, name: &str) -> u32 {
        self.terms
            .keys()
            .map(|m| m.get(name).copied().unwrap_or(0))
            .max()
            .unwrap_or(0)
    }

    /// The coefficients of `name^0, name^1, ...` as polynomials in the other symbols.
    pub fn coefficients_in(&self, name: &str) -> Vec<Poly> {
        let mut out = vec![Poly::zero(); self.degree_in(name) as usize + 1];
        for (m, c) in &self.terms {
            let mut rest = m.clone();
            let power = rest.remove(name).unwrap_or(0) as usize;
            out[power].add_term(rest, c.clone());
        }
        out
    }

    /// `self + other`.
    pub fn add(&self, other: &Poly) -> Poly {
        let mut out = self.clone();
        for (m, c) in &other.terms {
            out.add_term(m.clone(), c.clone());
        }
        out
    }

    /// `-self`.
    pub fn neg(&self) -> Poly {
        Poly {
            terms: self
                .terms
                .iter()
                .map(|(m, c)| (m.clone(), Rational::from(-c)))
                .collect(),
        }
    }

    /// `self * other`.
    pub fn mul(&self, other: &Poly) -> Poly {
        let mut out = Poly::zero();
        for (ma, ca) in &self.terms {
            for (mb, cb) in &other.terms {
                let mut m = ma.clone();
                for (name, e) in mb {
                    *m.entry(name.clone()).or_insert(0) += e;
                }
                out.add_term(m, Rational::from(ca * cb));
            }
        }
        out
    }

    /// The value with every symbol replaced by a polynomial (symbols not in `values` stay).
    pub fn substitute(&self, values: &BTreeMap<String, Poly>) -> Poly {
        let mut out = Poly::zero();
        for (m, c) in &self.terms {
            let mut term = Poly::constant(c.clone());
            for (name, &e) in m {
                let factor = values
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| Poly::symbol(name));
                for _ in 0..e {
                    term = term.mul(&factor);
                }
            }
            out = out.add(&term);
        }
        out
    }

    /// Whether every coefficient is non-negative (so the polynomial is non-negative wherever
    /// every symbol is).
    pub fn coefficients_non_negative(&self) -> bool {
        self.terms.values().all(|c| *c >= 0)
    }

    /// The greatest monomial dividing every term, and the positive rational content.
    pub fn content(&self) -> (Monomial, Rational) {
        let mut common: Option<Monomial> = None;
        for m in self.terms.keys() {
            common = Some(match common {
                None => m.clone(),
                Some(c) => c
                    .into_iter()
                    .filter_map(|(k, e)| m.get(&k).map(|&f| (k, e.min(f))))
                    .collect(),
            });
        }
        let mut num = rug::Integer::new();
        let mut den = rug::Integer::from(1);
        for c in self.terms.values() {
            num = num.gcd(c.numer());
            den = den.lcm(c.denom());
        }
        let content = if num == 0 {
            Rational::from(1)
        } else {
            Rational::from((num, den))
        };
        (common.unwrap_or_default(), content)
    }

    /// Divides by a monomial and a rational that divide every term.
    pub fn divide_exact(&self, m: &Monomial, c: &Rational) -> Poly {
        Poly {
            terms: self
                .terms
                .iter()
                .map(|(mm, cc)| {
                    let mut q = mm.clone();
                    for (k, e) in m {
                        if let Some(v) = q.get_mut(k) {
                            *v -= e;
                            if *v == 0 {
                                q.remove(k);
                            }
                        }
                    }
                    (q, Rational::from(cc / c))
                })
                .collect(),
        }
    }

    /// Whether the constant term (or, without one, the first term) is negative: fractions
    /// are normalised so that this is false for the denominator.
    pub fn leading_sign_negative(&self) -> bool {
        self.terms.values().next().is_some_and(|c| *c < 0)
    }
}

impl Poly {
    /// `self / d` when `d` divides `self` exactly (multivariate division in graded
    /// lexicographic order, which leaves no remainder exactly when `d` divides).
    pub fn div_exact(&self, d: &Poly) -> Option<Poly> {
        if d.is_zero() {
            return None;
        }
        let mut names = self.symbols();
        names.extend(d.symbols());
        names.sort();
        names.dedup();
        let key = |m: &Monomial| {
            let exps: Vec<u32> = names
                .iter()
                .map(|n| m.get(n).copied().unwrap_or(0))
                .collect();
            (exps.iter().sum::<u32>(), exps)
        };
        let leading = |p: &Poly| -> Option<(Monomial, Rational)> {
            p.terms
                .iter()
                .max_by_key(|(m, _)| key(m))
                .map(|(m, c)| (m.clone(), c.clone()))
        };
        let (dm, dc) = leading(d)?;
        let mut rest = self.clone();
        let mut quotient = Poly::zero();
        // Each step removes the leading term of the remainder; the number of monomials below
        // it is finite, so this ends.
        while let Some((rm, rc)) = leading(&rest) {
            let mut m = Monomial::new();
            for (name, &e) in &rm {
                let f = dm.get(name).copied().unwrap_or(0);
                if e > f {
                    m.insert(name.clone(), e - f);
                }
            }
            if dm
                .iter()
                .any(|(name, &f)| rm.get(name).copied().unwrap_or(0) < f)
            {
                return None;
            }
            let mut t = Poly::zero();
            t.add_term(m, Rational::from(&rc / &dc));
            quotient = quotient.add(&t);
            rest = rest.add(&t.mul(d).neg());
        }
        Some(quotient)
    }
}

impl Poly {
    /// The terms in display order: by descending total degree (then by name), with the first
    /// positive term moved to the front, so `1 - eps` and `2 N - 2` read as usual.
    pub fn display_terms(&self) -> Vec<(&Monomial, &Rational)> {
        let names = self.symbols();
        let key = |m: &Monomial| {
            let exps: Vec<u32> = names
                .iter()
                .map(|n| m.get(n).copied().unwrap_or(0))
                .collect();
            (exps.iter().sum::<u32>(), exps)
        };
        let mut terms: Vec<(&Monomial, &Rational)> = self.terms.iter().collect();
        terms.sort_by_key(|(m, _)| std::cmp::Reverse(key(m)));
        if let Some(first_positive) = terms.iter().position(|(_, c)| **c > 0) {
            let t = terms.remove(first_positive);
            terms.insert(0, t);
        }
        terms
    }
}

impl fmt::Display for Poly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("0");
        }
        let mut first = true;
        for (m, c) in self.display_terms() {
            let negative = *c < 0;
            let magnitude = Rational::from(c.abs_ref());
            if first {
                if negative {
                    f.write_str("-")?;
                }
            } else {
                f.write_str(if negative { " - " } else { " + " })?;
            }
            first = false;
            let factors: Vec<String> = m
                .iter()
                .map(|(k, &e)| {
                    if e == 1 {
                        k.clone()
                    } else {
                        format!("{k}^{e}")
                    }
                })
                .collect();
            if factors.is_empty() {
                write!(f, "{magnitude}")?;
            } else if magnitude == 1 {
                write!(f, "{}", factors.join("*"))?;
            } else {
                write!(f, "{magnitude}*{}", factors.join("*"))?;
            }
        }
        Ok(())
    }
}
