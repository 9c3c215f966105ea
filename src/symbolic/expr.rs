//! Expressions as written in `proofs/`: numbers (exact decimals), symbols, `+ - * / ^` and
//! parentheses. Parsed to a tree (kept for display) and turned into a [`RatFn`].

use std::collections::BTreeMap;

use rug::Rational;

use super::ratfn::RatFn;

/// An expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// An exact number.
    Num(Rational),
    /// A symbol or a `let` name.
    Sym(String),
    /// `-a`.
    Neg(Box<Expr>),
    /// `a + b`, `a - b`, `a * b`, `a / b`.
    Bin(char, Box<Expr>, Box<Expr>),
    /// `a ^ k`.
    Pow(Box<Expr>, i32),
}

impl Expr {
    /// Parses an expression.
    ///
    /// # Errors
    /// A message naming the position of the first unexpected character.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let tokens = tokenize(text)?;
        let mut p = Parser { tokens, at: 0 };
        let e = p.sum()?;
        match p.tokens.get(p.at) {
            None => Ok(e),
            Some(t) => Err(format!("unexpected '{}' in '{text}'", t.text())),
        }
    }

    /// The rational function, with `let` names replaced by their definitions.
    ///
    /// # Errors
    /// A division by an identically zero expression, or a negative power of zero.
    pub fn to_ratfn(&self, lets: &BTreeMap<String, RatFn>) -> Result<RatFn, String> {
        Ok(match self {
            Expr::Num(r) => RatFn::constant(r.clone()),
            Expr::Sym(s) => lets.get(s).cloned().unwrap_or_else(|| RatFn::symbol(s)),
            Expr::Neg(a) => a.to_ratfn(lets)?.neg(),
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.to_ratfn(lets)?, b.to_ratfn(lets)?);
                match op {
                    '+' => a.add(&b),
                    '-' => a.sub(&b),
                    '*' => a.mul(&b),
                    _ => a
                        .div(&b)
                        .ok_or_else(|| format!("division by zero in {}", self.plain()))?,
                }
            }
            Expr::Pow(a, k) => a
                .to_ratfn(lets)?
                .pow(*k)
                .ok_or_else(|| format!("negative power of zero in {}", self.plain()))?,
        })
    }

    /// The expression in LaTeX.
    pub fn latex(&self) -> String {
        self.latex_at(0)
    }

    fn latex_at(&self, outer: u8) -> String {
        let (s, prec) = match self {
            Expr::Num(r) => (super::decide::rational_latex(r), 4),
            Expr::Sym(s) => (symbol_latex(s), 4),
            Expr::Neg(a) => (format!("-{}", a.latex_at(3)), 2),
            Expr::Bin('+', a, b) => (format!("{} + {}", a.latex_at(1), b.latex_at(1)), 1),
            Expr::Bin('-', a, b) => (format!("{} - {}", a.latex_at(1), b.latex_at(2)), 1),
            Expr::Bin('*', a, b) => (format!("{} \\, {}", a.latex_at(2), b.latex_at(3)), 2),
            Expr::Bin(_, a, b) => (
                format!("\\frac{{{}}}{{{}}}", a.latex_at(0), b.latex_at(0)),
                4,
            ),
            Expr::Pow(a, k) => (format!("{}^{{{k}}}", a.latex_at(4)), 3),
        };
        if prec < outer {
            format!("\\left({s}\\right)")
        } else {
            s
        }
    }

    /// The expression as plain text (for messages).
    pub fn plain(&self) -> String {
        match self {
            Expr::Num(r) => r.to_string(),
            Expr::Sym(s) => s.clone(),
            Expr::Neg(a) => format!("-({})", a.plain()),
            Expr::Bin(op, a, b) => format!("({} {op} {})", a.plain(), b.plain()),
            Expr::Pow(a, k) => format!("({})^{k}", a.plain()),
        }
    }
}

/// A symbol's LaTeX: Greek names, `_pos`/`_neg` group subscripts, and `x_y` subscripts.
pub fn symbol_latex(name: &str) -> String {
    let greek = |s: &str| -> Option<&'static str> {
        Some(match s {
            "eps" => "\\varepsilon",
            "alpha" => "\\alpha",
            "beta" => "\\beta",
            "pi" => "\\pi",
            "sigma" => "\\sigma",
            _ => return None,
        })
    };
    // Multi-letter names are words, not products of letters.
    let base = |s: &str| {
        greek(s).map_or_else(
            || {
                if s.chars().count() > 1 {
                    format!("\\mathrm{{{s}}}")
                } else {
                    s.to_owned()
                }
            },
            str::to_owned,
        )
    };
    match name {
        "Spos" => return "S_{+}".into(),
        "Sneg" => return "S_{-}".into(),
        "Sall" => return "S".into(),
        _ => {}
    }
    for (suffix, sub) in [("pos", "+"), ("neg", "-")] {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            let stem = stem.strip_suffix('_').unwrap_or(stem);
            return format!("{}_{{{sub}}}", base(stem));
        }
    }
    match name.split_once('_') {
        Some((a, b)) => format!("{}_{{{}}}", base(a), base(b)),
        None => base(name),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Num(Rational, String),
    Sym(String),
    Op(char),
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Num(_, s) | Token::Sym(s) => s.clone(),
            Token::Op(c) => c.to_string(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Token::Num(decimal(&s)?, s));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Sym(chars[start..i].iter().collect()));
        } else if "+-*/^()".contains(c) {
            out.push(Token::Op(c));
            i += 1;
        } else {
            return Err(format!("unexpected character '{c}' in '{text}'"));
        }
    }
    Ok(out)
}

/// The exact value of a decimal such as `0.95`.
fn decimal(s: &str) -> Result<Rational, String> {
    let bad = || format!("'{s}' is not a number");
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || frac.contains('.') {
        return Err(bad());
    }
    let digits = format!("{int}{frac}");
    let n = rug::Integer::from_str_radix(&digits, 10).map_err(|_| bad())?;
    let d = rug::ops::Pow::pow(rug::Integer::from(10u32), frac.len() as u32);
    Ok(Rational::from((n, d)))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_op(&self) -> Option<char> {
        match self.tokens.get(self.at) {
            Some(Token::Op(c)) => Some(*c),
            _ => None,
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek_op() {
            self.at += 1;
            e = Expr::Bin(op, Box::new(e), Box::new(self.product()?));
        }
        Ok(e)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while let Some(op @ ('*' | '/')) = self.peek_op() {
            self.at += 1;
            e = Expr::Bin(op, Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_op() == Some('-') {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.atom()?;
        if self.peek_op() != Some('^') {
            return Ok(base);
        }
        self.at += 1;
        let negative = self.peek_op() == Some('-');
        if negative {
            self.at += 1;
        }
        match self.tokens.get(self.at) {
            Some(Token::Num(r, s)) if *r.denom() == 1 => {
                self.at += 1;
                let k: i32 = r
                    .numer()
                    .to_i32()
                    .ok_or_else(|| format!("exponent {s} too large"))?;
                Ok(Expr::Pow(Box::new(base), if negative { -k } else { k }))
            }
            _ => Err("an exponent must be an integer".into()),
        }
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let token = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or("unexpected end of expression")?;
        self.at += 1;
        match token {
            Token::Num(r, _) => Ok(Expr::Num(r)),
            Token::Sym(s) => Ok(Expr::Sym(s)),
            Token::Op('(') => {
                let e = self.sum()?;
                if self.peek_op() != Some(')') {
                    return Err("missing ')'".into());
                }
                self.at += 1;
                Ok(e)
            }
            Token::Op(c) => Err(format!("unexpected '{c}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rf(s: &str) -> RatFn {
        Expr::parse(s).unwrap().to_ratfn(&BTreeMap::new()).unwrap()
    }

    #[test]
    fn identities_are_decided_exactly() {
        assert!(rf("(1-eps)/n + eps/N").equals(&rf("(N - N*eps + n*eps)/(n*N)")));
        assert!(!rf("(1-eps)/n").equals(&rf("(1 - (N-n)*eps/N)/n")));
        assert!(rf("0.95").equals(&rf("19/20")));
        assert!(rf("x^-2 * x^3").equals(&rf("x")));
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse("a $ b").is_err());
        assert!(
            Expr::parse("1/(a-a)")
                .unwrap()
                .to_ratfn(&BTreeMap::new())
                .is_err()
        );
    }

    #[test]
    fn latex_keeps_structure() {
        let e = Expr::parse("(1-eps)/n + eps/N").unwrap();
        assert_eq!(
            e.latex(),
            "\\frac{1 - \\varepsilon}{n} + \\frac{\\varepsilon}{N}"
        );
        assert_eq!(symbol_latex("qpos"), "q_{+}");
        assert_eq!(symbol_latex("t_neg"), "t_{-}");
    }
}
