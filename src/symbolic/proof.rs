//! The derivation files of `proofs/`: a small line-based format, parsed here and checked step
//! by step by the exact checker. Every `check` must hold, every `refute` must fail with a
//! counterexample, every `range`/`solve` is derived; a claim's verdict comes from its
//! `verdict` lines, never from text.
//!
//! ```text
//! claim C4                          # or: scheme NAME / conversion ID
//! title: Complement targets sum to one
//! statement: the claim, as made
//! text: prose (consecutive lines form a paragraph; an empty `text:` ends it)
//! symbol n: integer >= 1            # integer >= EXPR | real in [A, B) | real >= EXPR
//! symbol eps: real in [0, 1]
//! let qpos = (1-eps)/n              # definitions, used by later lines
//! show p*: qpos / (n*qpos + (N-n)*qneg)        # derived value, displayed simplified
//! fact gradient: text               # a family fact, checked by the AD tests, not here
//! check sum: n*qpos + (N-n)*qneg = 1 [where n = 1, N = 2]
//! refute label: lhs = rhs [where ...]          # must be false; a counterexample is shown
//! range label: eps: tpos - tneg > 0 [and ...] [where ...] [with n >= 2]
//! solve label: e2: lhs = rhs [and lhs = rhs] [where ...]
//! convert LIBRARY SETTING => SCHEME: VAR: lhs = rhs [and ...]
//! verdict identity: lhs = rhs [where ...]
//! verdict range: eps: cond [and cond] [where ...] [with ...]   # several: cases of one claim
//! verdict map: VAR: lhs = rhs [and ...]
//! ```

use std::collections::BTreeMap;

use super::decide::{self, Counterexample, Interval, Rel};
use super::domain::{Bound, Domain, Kind, Symbol};
use super::expr::Expr;
use super::ratfn::RatFn;

/// What a derivation file is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// One scheme of the catalog.
    Scheme,
    /// One claim (C1-C14).
    Claim,
    /// A conversion between libraries (F1-F4).
    Conversion,
}

/// A relation between two expressions (`lhs = rhs`) or an expression and zero.
#[derive(Debug, Clone)]
pub struct Equation {
    /// Left side.
    pub lhs: Expr,
    /// Right side.
    pub rhs: Expr,
}

/// A condition `lhs REL rhs`.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Left side.
    pub lhs: Expr,
    /// The relation.
    pub rel: Rel,
    /// Right side.
    pub rhs: Expr,
}

/// Restrictions of one step: fixed symbols and changed lower bounds.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `where NAME = VALUE`.
    pub fixed: Vec<(String, Expr)>,
    /// `with NAME >= VALUE` or `with NAME <= VALUE` (replaces the declared bound; `true` for
    /// a lower bound).
    pub with: Vec<(String, bool, Bound)>,
}

/// One line of a derivation.
#[derive(Debug, Clone)]
pub enum Item {
    /// A paragraph of prose.
    Text(String),
    /// A symbol declaration.
    Symbol(Symbol),
    /// `let NAME = EXPR`.
    Let(String, Expr),
    /// `show LABEL: EXPR`.
    Show(String, Expr),
    /// `fact LABEL: TEXT`.
    Fact(String, String),
    /// `check LABEL: EQUATION` (must hold).
    Check(String, Equation, Scope),
    /// `refute LABEL: EQUATION` (must not hold).
    Refute(String, Equation, Scope),
    /// `range LABEL: VAR: CONDITIONS`.
    Range(String, String, Vec<Condition>, Scope),
    /// `solve LABEL: VAR: EQUATIONS`.
    Solve(String, String, Vec<Equation>, Scope),
    /// `convert SETTING => SCHEME: VAR: EQUATIONS`.
    Convert {
        /// The library and its setting.
        setting: String,
        /// The catalog scheme.
        scheme: String,
        /// The catalog parameter solved for.
        var: String,
        /// Target equalities.
        equations: Vec<Equation>,
    },
    /// `verdict identity: EQUATION`.
    VerdictIdentity(Equation, Scope),
    /// `verdict range: VAR: CONDITIONS` (one case).
    VerdictRange(String, Vec<Condition>, Scope),
    /// `verdict map: VAR: EQUATIONS`.
    VerdictMap(String, Vec<Equation>, Scope),
}

/// A parsed derivation file.
#[derive(Debug, Clone)]
pub struct Document {
    /// Scheme, claim or conversion.
    pub kind: DocKind,
    /// `uniform`, `C4`, `F1`.
    pub id: String,
    /// One line.
    pub title: String,
    /// The claim as made (claims and conversions).
    pub statement: Option<String>,
    /// The lines, in order.
    pub items: Vec<Item>,
}

/// How a derivation file failed to parse: the line number and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Document {
    /// Parses a derivation file.
    ///
    /// # Errors
    /// The first malformed line.
    pub fn parse(text: &str) -> Result<Document, ParseError> {
        let mut doc: Option<Document> = None;
        let mut paragraph: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let err = |message: String| ParseError {
                line: index + 1,
                message,
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = line
                .split_once([' ', ':'])
                .map(|(k, r)| (k, r.trim_start_matches(':').trim()))
                .unwrap_or((line, ""));
            let Some(d) = doc.as_mut() else {
                let kind = match keyword {
                    "scheme" => DocKind::Scheme,
                    "claim" => DocKind::Claim,
                    "conversion" => DocKind::Conversion,
                    _ => {
                        return Err(err(
                            "a file starts with 'scheme', 'claim' or 'conversion'".into()
                        ));
                    }
                };
                doc = Some(Document {
                    kind,
                    id: rest.to_owned(),
                    title: String::new(),
                    statement: None,
                    items: Vec::new(),
                });
                continue;
            };
            if keyword != "text"
                && let Some(p) = paragraph.take()
            {
                d.items.push(Item::Text(p));
            }
            let item = match keyword {
                "title" => {
                    d.title = rest.to_owned();
                    continue;
                }
                "statement" => {
                    d.statement = Some(rest.to_owned());
                    continue;
                }
                "text" => {
                    if rest.is_empty() {
                        if let Some(p) = paragraph.take() {
                            d.items.push(Item::Text(p));
                        }
                    } else {
                        let p = paragraph.get_or_insert_with(String::new);
                        if !p.is_empty() {
                            p.push(' ');
                        }
                        p.push_str(rest);
                    }
                    continue;
                }
                "symbol" => Item::Symbol(parse_symbol(rest).map_err(err)?),
                "let" => {
                    let (name, value) = rest
                        .split_once('=')
                        .ok_or_else(|| err("expected let NAME = EXPR".into()))?;
                    Item::Let(name.trim().to_owned(), Expr::parse(value).map_err(err)?)
                }
                "fact" => {
                    let (label, body) = labelled(rest).map_err(err)?;
                    Item::Fact(label, body.to_owned())
                }
                "show" => {
                    let (label, body) = labelled(rest).map_err(err)?;
                    Item::Show(label, Expr::parse(body).map_err(err)?)
                }
                "check" | "refute" => {
                    let (label, body) = labelled(rest).map_err(err)?;
                    let (body, scope) = parse_scope(body).map_err(err)?;
                    let eq = parse_equation(body).map_err(err)?;
                    if keyword == "check" {
                        Item::Check(label, eq, scope)
                    } else {
                        Item::Refute(label, eq, scope)
                    }
                }
                "range" | "solve" => {
                    let (label, body) = labelled(rest).map_err(err)?;
                    let (var, body) = labelled(body).map_err(err)?;
                    let (body, scope) = parse_scope(body).map_err(err)?;
                    if keyword == "range" {
                        Item::Range(label, var, parse_conditions(body).map_err(err)?, scope)
                    } else {
                        Item::Solve(label, var, parse_equations(body).map_err(err)?, scope)
                    }
                }
                "convert" => {
                    let (setting, body) = rest.split_once("=>").ok_or_else(|| {
                        err("expected convert SETTING => SCHEME: VAR: ...".into())
                    })?;
                    let (scheme, body) = labelled(body.trim()).map_err(err)?;
                    let (var, body) = labelled(body).map_err(err)?;
                    Item::Convert {
                        setting: setting.trim().to_owned(),
                        scheme,
                        var,
                        equations: parse_equations(body).map_err(err)?,
                    }
                }
                "verdict" => {
                    let (form, body) = labelled(rest).map_err(err)?;
                    let (body, scope) = parse_scope(body).map_err(err)?;
                    match form.as_str() {
                        "identity" => {
                            Item::VerdictIdentity(parse_equation(body).map_err(err)?, scope)
                        }
                        "range" | "map" => {
                            let (var, body) = labelled(body).map_err(err)?;
                            if form == "range" {
                                Item::VerdictRange(var, parse_conditions(body).map_err(err)?, scope)
                            } else {
                                Item::VerdictMap(var, parse_equations(body).map_err(err)?, scope)
                            }
                        }
                        other => return Err(err(format!("unknown verdict form '{other}'"))),
                    }
                }
                other => return Err(err(format!("unknown keyword '{other}'"))),
            };
            d.items.push(item);
        }
        let mut d = doc.ok_or(ParseError {
            line: 0,
            message: "empty file".into(),
        })?;
        if let Some(p) = paragraph {
            d.items.push(Item::Text(p));
        }
        Ok(d)
    }
}

/// `LABEL: REST`.
fn labelled(text: &str) -> Result<(String, &str), String> {
    let (label, rest) = text
        .split_once(':')
        .ok_or_else(|| format!("expected LABEL: ... in '{text}'"))?;
    Ok((label.trim().to_owned(), rest.trim()))
}

fn parse_symbol(text: &str) -> Result<Symbol, String> {
    let (name, spec) = labelled(text)?;
    let (kind, bounds) = if let Some(b) = spec.strip_prefix("integer") {
        (Kind::Integer, b.trim())
    } else if let Some(b) = spec.strip_prefix("real") {
        (Kind::Real, b.trim())
    } else {
        return Err(format!("symbol {name}: expected 'integer' or 'real'"));
    };
    let mut symbol = Symbol {
        name,
        kind,
        lower: None,
        upper: None,
    };
    if let Some(interval) = bounds.strip_prefix("in") {
        let interval = interval.trim();
        let open_lo = interval.starts_with('(');
        let open_hi = interval.ends_with(')');
        let inner = interval
            .get(1..interval.len().saturating_sub(1))
            .ok_or("bad interval")?;
        let (lo, hi) = inner.split_once(',').ok_or("expected [A, B]")?;
        symbol.lower = Some(Bound {
            value: Expr::parse(lo)?,
            strict: open_lo,
        });
        symbol.upper = Some(Bound {
            value: Expr::parse(hi)?,
            strict: open_hi,
        });
    } else if let Some(lo) = bounds.strip_prefix(">=") {
        symbol.lower = Some(Bound {
            value: Expr::parse(lo)?,
            strict: false,
        });
    } else if let Some(lo) = bounds.strip_prefix('>') {
        symbol.lower = Some(Bound {
            value: Expr::parse(lo)?,
            strict: true,
        });
    } else if !bounds.is_empty() {
        return Err(format!("cannot read the bounds '{bounds}'"));
    }
    Ok(symbol)
}

/// Splits off ` where A = 1, B = 2` and ` with N >= 3` clauses.
fn parse_scope(text: &str) -> Result<(&str, Scope), String> {
    let mut scope = Scope::default();
    let mut body = text;
    if let Some((b, with)) = body.rsplit_once(" with ") {
        body = b;
        for part in with.split(',') {
            let (name, lower, value) = match (part.split_once(">="), part.split_once("<=")) {
                (Some((n, v)), _) => (n, true, v),
                (None, Some((n, v))) => (n, false, v),
                _ => {
                    return Err(format!(
                        "expected NAME >= VALUE or NAME <= VALUE in '{part}'"
                    ));
                }
            };
            scope.with.push((
                name.trim().to_owned(),
                lower,
                Bound {
                    value: Expr::parse(value)?,
                    strict: false,
                },
            ));
        }
    }
    if let Some((b, fixed)) = body.rsplit_once(" where ") {
        body = b;
        scope.fixed = decide::parse_assignments(fixed)?;
    }
    Ok((body.trim(), scope))
}

fn parse_equation(text: &str) -> Result<Equation, String> {
    let (lhs, rhs) = text
        .split_once('=')
        .ok_or_else(|| format!("expected LHS = RHS in '{text}'"))?;
    Ok(Equation {
        lhs: Expr::parse(lhs)?,
        rhs: Expr::parse(rhs)?,
    })
}

fn parse_equations(text: &str) -> Result<Vec<Equation>, String> {
    text.split(" and ").map(parse_equation).collect()
}

fn parse_conditions(text: &str) -> Result<Vec<Condition>, String> {
    text.split(" and ")
        .map(|c| {
            for (op, rel) in [
                (">=", Rel::Ge),
                ("<=", Rel::Le),
                (">", Rel::Gt),
                ("<", Rel::Lt),
            ] {
                if let Some((lhs, rhs)) = c.split_once(op) {
                    return Ok(Condition {
                        lhs: Expr::parse(lhs)?,
                        rel,
                        rhs: Expr::parse(rhs)?,
                    });
                }
            }
            Err(format!("expected a condition with >, >=, < or <= in '{c}'"))
        })
        .collect()
}

/// What the checker found for one line.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing to check (prose, declarations, definitions).
    Nothing,
    /// A derived value.
    Value(RatFn),
    /// The identity holds.
    Holds,
    /// The identity fails; the counterexample if one was found, and where the sides agree.
    Fails(Option<Counterexample>, Option<(String, RatFn)>),
    /// A derived interval.
    Range(Interval),
    /// A solution of equations: the value, or the equation it fails with a counterexample.
    Solved(Result<RatFn, (usize, Option<Counterexample>)>),
    /// The derivation could not be carried out (message).
    Error(String),
}

/// The verdict on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Holds on the whole domain.
    True,
    /// Fails (a counterexample is given).
    False,
    /// Holds exactly under the stated condition.
    Conditional,
}

impl Verdict {
    /// `"true"`, `"false"`, `"conditional"`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::True => "true",
            Verdict::False => "false",
            Verdict::Conditional => "conditional",
        }
    }
}

/// A checked derivation.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The document.
    pub doc: Document,
    /// One outcome per item.
    pub outcomes: Vec<Outcome>,
    /// Steps that failed: `check` that does not hold, `refute` that holds, errors.
    pub failures: Vec<String>,
    /// For claims and conversions with verdict lines: the verdict, its condition, and detail.
    pub verdict: Option<(Verdict, String, String)>,
}

/// Checks every line of a document.
pub fn check(doc: Document) -> Checked {
    let mut domain = Domain::default();
    let mut lets: BTreeMap<String, RatFn> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(doc.items.len());
    let mut failures = Vec::new();
    let mut parts: Vec<(Verdict, String, String)> = Vec::new();
    let mut cases: Vec<(String, Interval, Interval)> = Vec::new();
    for item in &doc.items {
        let outcome = match item {
            Item::Text(_) | Item::Fact(..) => Outcome::Nothing,
            Item::Symbol(s) => {
                domain.symbols.push(s.clone());
                Outcome::Nothing
            }
            Item::Let(name, e) => match e.to_ratfn(&lets) {
                Ok(v) => {
                    lets.insert(name.clone(), v.clone());
                    Outcome::Value(v)
                }
                Err(m) => Outcome::Error(m),
            },
            Item::Show(_, e) => e
                .to_ratfn(&lets)
                .map_or_else(Outcome::Error, Outcome::Value),
            Item::Check(_, eq, scope)
            | Item::Refute(_, eq, scope)
            | Item::VerdictIdentity(eq, scope) => identity_outcome(eq, scope, &lets, &domain),
            Item::Range(_, var, conds, scope) | Item::VerdictRange(var, conds, scope) => {
                range_outcome(var, conds, scope, &lets, &domain)
            }
            Item::Solve(_, var, eqs, scope) | Item::VerdictMap(var, eqs, scope) => {
                solve_outcome(var, eqs, scope, &lets, &domain)
            }
            Item::Convert { var, equations, .. } => {
                solve_outcome(var, equations, &Scope::default(), &lets, &domain)
            }
        };
        let label = item_label(item);
        match (item, &outcome) {
            (_, Outcome::Error(m)) => failures.push(format!("{label}: {m}")),
            (Item::Check(..), Outcome::Fails(c, _)) => failures.push(format!(
                "{label} does not hold{}",
                c.as_ref()
                    .map(|c| format!(": {}", c.plain()))
                    .unwrap_or_default()
            )),
            (Item::Refute(..), Outcome::Holds) => {
                failures.push(format!("{label} holds, but the file says it is false"))
            }
            (Item::Refute(..), Outcome::Fails(None, _)) => {
                failures.push(format!("{label}: false, but no counterexample was found"))
            }
            (Item::Solve(..) | Item::Convert { .. }, Outcome::Solved(Err(_))) => {
                failures.push(format!("{label}: no solution"))
            }
            (Item::VerdictIdentity(..), Outcome::Holds) => parts.push((
                Verdict::True,
                String::new(),
                "the identity holds exactly".into(),
            )),
            (Item::VerdictIdentity(..), Outcome::Fails(c, agree)) => {
                let mut detail = c.as_ref().map_or_else(
                    || "the identity fails".to_owned(),
                    |c| format!("counterexample {}", c.plain()),
                );
                if let Some((name, v)) = agree {
                    detail += &format!(
                        "; the two sides agree only where {name} = {}",
                        decide::ratfn_plain(v)
                    );
                }
                parts.push((Verdict::False, String::new(), detail));
            }
            (Item::VerdictRange(var, _, scope), Outcome::Range(interval)) => {
                match decide::declared(var, &scoped_domain(&domain, scope, &lets)) {
                    Ok(full) => cases.push((scope_text(scope), interval.clone(), full)),
                    Err(m) => failures.push(format!("{label}: {m}")),
                }
            }
            (Item::VerdictMap(var, ..), Outcome::Solved(result)) => parts.push(match result {
                Ok(v) => (
                    Verdict::True,
                    String::new(),
                    format!("{var} = {}", decide::ratfn_plain(v)),
                ),
                Err((k, c)) => (
                    Verdict::False,
                    String::new(),
                    format!(
                        "no {var} makes equation {} hold{}",
                        k + 1,
                        c.as_ref()
                            .map(|c| format!(": {}", c.plain()))
                            .unwrap_or_default()
                    ),
                ),
            }),
            _ => {}
        }
        outcomes.push(outcome);
    }
    if !cases.is_empty() {
        parts.push(combine_cases(&cases));
    }
    let verdict = combine_parts(parts);
    Checked {
        doc,
        outcomes,
        failures,
        verdict,
    }
}

/// A line's label, for messages.
pub fn item_label(item: &Item) -> String {
    match item {
        Item::Check(l, ..) => format!("check '{l}'"),
        Item::Refute(l, ..) => format!("refute '{l}'"),
        Item::Range(l, ..) => format!("range '{l}'"),
        Item::Solve(l, ..) => format!("solve '{l}'"),
        Item::Show(l, _) => format!("show '{l}'"),
        Item::Let(n, _) => format!("let {n}"),
        Item::Convert { setting, .. } => format!("convert '{setting}'"),
        Item::VerdictIdentity(..) | Item::VerdictRange(..) | Item::VerdictMap(..) => {
            "verdict".into()
        }
        _ => "line".into(),
    }
}

fn scoped_domain(domain: &Domain, scope: &Scope, _lets: &BTreeMap<String, RatFn>) -> Domain {
    let mut d = domain.clone();
    for (name, lower, bound) in &scope.with {
        d = d.with_bound(name, *lower, bound.clone());
    }
    let fixed: Vec<&String> = scope.fixed.iter().map(|(n, _)| n).collect();
    d.symbols.retain(|s| !fixed.contains(&&s.name));
    d
}

fn substitutions(
    scope: &Scope,
    lets: &BTreeMap<String, RatFn>,
) -> Result<BTreeMap<String, RatFn>, String> {
    scope
        .fixed
        .iter()
        .map(|(n, e)| Ok((n.clone(), e.to_ratfn(lets)?)))
        .collect()
}

fn side(e: &Expr, scope: &Scope, lets: &BTreeMap<String, RatFn>) -> Result<RatFn, String> {
    decide::fixed(&e.to_ratfn(lets)?, &substitutions(scope, lets)?)
}

fn identity_outcome(
    eq: &Equation,
    scope: &Scope,
    lets: &BTreeMap<String, RatFn>,
    domain: &Domain,
) -> Outcome {
    let sides = side(&eq.lhs, scope, lets).and_then(|l| Ok((l, side(&eq.rhs, scope, lets)?)));
    match sides {
        Err(m) => Outcome::Error(m),
        Ok((l, r)) => {
            let d = scoped_domain(domain, scope, lets);
            match decide::identity(&l, &r, &d) {
                Ok(()) => Outcome::Holds,
                Err(c) => Outcome::Fails(c, decide::agreement(&l, &r, &d)),
            }
        }
    }
}

fn range_outcome(
    var: &str,
    conds: &[Condition],
    scope: &Scope,
    lets: &BTreeMap<String, RatFn>,
    domain: &Domain,
) -> Outcome {
    let conditions: Result<Vec<(RatFn, Rel)>, String> = conds
        .iter()
        .map(|c| {
            Ok((
                side(&c.lhs, scope, lets)?.sub(&side(&c.rhs, scope, lets)?),
                c.rel,
            ))
        })
        .collect();
    match conditions.and_then(|c| decide::range(var, &c, &scoped_domain(domain, scope, lets))) {
        Ok(i) => Outcome::Range(i),
        Err(m) => Outcome::Error(m),
    }
}

fn solve_outcome(
    var: &str,
    eqs: &[Equation],
    scope: &Scope,
    lets: &BTreeMap<String, RatFn>,
    domain: &Domain,
) -> Outcome {
    let diffs: Result<Vec<RatFn>, String> = eqs
        .iter()
        .map(|e| Ok(side(&e.lhs, scope, lets)?.sub(&side(&e.rhs, scope, lets)?)))
        .collect();
    let diffs = match diffs {
        Ok(d) => d,
        Err(m) => return Outcome::Error(m),
    };
    let Some(value) = diffs.iter().find_map(|d| decide::solve_linear(d, var)) else {
        return Outcome::Error(format!(
            "no equation is linear in {var} with a non-zero coefficient"
        ));
    };
    let at = BTreeMap::from([(var.to_owned(), value.clone())]);
    let d = scoped_domain(domain, scope, lets);
    for (k, diff) in diffs.iter().enumerate() {
        match diff.substitute(&at) {
            Some(rest) if rest.is_zero() => {}
            Some(rest) => {
                let zero = RatFn::constant(rug::Rational::new());
                let c = decide::identity(&rest, &zero, &d).err().flatten();
                return Outcome::Solved(Err((k, c)));
            }
            None => return Outcome::Solved(Err((k, None))),
        }
    }
    Outcome::Solved(Ok(value))
}

fn scope_text(scope: &Scope) -> String {
    let mut parts: Vec<String> = scope
        .fixed
        .iter()
        .map(|(n, e)| format!("{n} = {}", e.plain().trim_matches(['(', ')'])))
        .collect();
    parts.extend(scope.with.iter().map(|(n, lower, b)| {
        let rel = if *lower { ">=" } else { "<=" };
        format!("{n} {rel} {}", b.value.plain().trim_matches(['(', ')']))
    }));
    parts.join(", ")
}

/// The verdict of a claim split into cases: true if it holds on every case's whole interval,
/// false if on none, else conditional on the union of the per-case intervals.
fn combine_cases(cases: &[(String, Interval, Interval)]) -> (Verdict, String, String) {
    let all = cases.iter().all(|(_, got, full)| got.same_as(full));
    let none = cases.iter().all(|(_, got, _)| got.empty);
    // A case that holds on its whole interval is described by its scope alone.
    let describe = |(scope, got, full): &(String, Interval, Interval)| match (
        scope.is_empty(),
        got.same_as(full),
    ) {
        (true, _) => got.plain(),
        (false, true) => scope.clone(),
        (false, false) => format!("{scope} and {}", got.plain()),
    };
    let detail: Vec<String> = cases
        .iter()
        .map(|c| {
            if c.0.is_empty() {
                c.1.plain()
            } else {
                format!("[{}] {}", c.0, c.1.plain())
            }
        })
        .collect();
    let detail = format!("derived per case: {}", detail.join("; "));
    if all {
        (Verdict::True, String::new(), detail)
    } else if none {
        (Verdict::False, String::new(), detail)
    } else {
        let holding: Vec<String> = cases.iter().filter(|c| !c.1.empty).map(describe).collect();
        (Verdict::Conditional, holding.join(" or "), detail)
    }
}

/// All parts must hold: false if any is false, conditional if any is, else true.
fn combine_parts(parts: Vec<(Verdict, String, String)>) -> Option<(Verdict, String, String)> {
    if parts.is_empty() {
        return None;
    }
    let verdict = if parts.iter().any(|p| p.0 == Verdict::False) {
        Verdict::False
    } else if parts.iter().any(|p| p.0 == Verdict::Conditional) {
        Verdict::Conditional
    } else {
        Verdict::True
    };
    let condition: Vec<String> = parts
        .iter()
        .filter(|p| !p.1.is_empty())
        .map(|p| p.1.clone())
        .collect();
    let detail: Vec<String> = parts.into_iter().map(|p| p.2).collect();
    Some((verdict, condition.join(" and "), detail.join("; ")))
}
