//! `labelsmooth explain`: what a scheme does to one row of N classes with n positives. Every
//! number comes from the crate: exact targets from the reference, optimal logits in MPFR,
//! library equivalents solved by the symbolic checker from `proofs/conversions`.

use std::collections::BTreeMap;

use labelsmooth::reference::{Reference, to_decimal};
use labelsmooth::symbolic::{Item, RatFn, check_tree, solve_linear};
use labelsmooth::{Batch, Family, Param, Params, Problem, Scheme, Smoothing, Weights};
use rug::{Float, Rational};
use serde_json::{Value, json};

use super::CliError;
use super::docs::Paths;

/// The libraries `explain` looks for, by the first word of a conversion's setting.
const LIBRARIES: [&str; 7] = [
    "PyTorch",
    "Keras",
    "timm",
    "fastai",
    "mmpretrain",
    "burn",
    "optax",
];

/// Parsed `explain` arguments.
pub struct ExplainArgs {
    scheme: Scheme,
    classes: usize,
    positives: usize,
    params: Params,
    json: bool,
}

impl ExplainArgs {
    /// Reads `--scheme S --classes N --positives n --eps E [--alpha A --beta B] [--json]`.
    pub fn parse(args: &[String]) -> Result<Self, CliError> {
        let mut map: BTreeMap<&str, &str> = BTreeMap::new();
        let mut json = false;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--json" => json = true,
                key @ ("--scheme" | "--classes" | "--positives" | "--eps" | "--alpha"
                | "--beta") => {
                    let value = it
                        .next()
                        .ok_or_else(|| CliError::Usage(format!("{key} needs a value")))?;
                    map.insert(&key[2..], value);
                }
                other => return Err(CliError::Usage(format!("unknown argument '{other}'"))),
            }
        }
        let need = |k: &str| {
            map.get(k)
                .copied()
                .ok_or_else(|| CliError::Usage(format!("explain needs --{k}")))
        };
        let count = |k: &str| -> Result<usize, CliError> {
            need(k)?
                .parse()
                .map_err(|_| CliError::Input(format!("--{k} must be a whole number")))
        };
        let param = |k: &str| -> Result<Option<Param>, CliError> {
            map.get(k)
                .map(|v| Param::decimal(v).map_err(|e| CliError::Input(format!("--{k}: {e}"))))
                .transpose()
        };
        Ok(ExplainArgs {
            scheme: need("scheme")?.parse()?,
            classes: count("classes")?,
            positives: count("positives")?,
            params: Params {
                eps: param("eps")?,
                alpha: param("alpha")?,
                beta: param("beta")?,
                prior: None,
            },
            json,
        })
    }
}

/// Runs `explain`.
pub fn run(args: &ExplainArgs, paths: &Paths) -> Result<String, CliError> {
    let scheme = args.scheme;
    if scheme == Scheme::MlPrior {
        return Err(CliError::Input(
            "explain needs the whole prior of ml_prior; use eval instead".into(),
        ));
    }
    let (n, big_n) = (args.positives, args.classes);
    if n > big_n {
        return Err(CliError::Input(format!(
            "--positives {n} exceeds --classes {big_n}"
        )));
    }
    let smoothing = Smoothing::new(scheme, &args.params)?;
    let labels: Vec<u8> = (0..big_n).map(|k| u8::from(k < n)).collect();
    let batch = Batch::from_rows(&[vec![0.0; big_n]], &[labels])?;
    let problem = Problem::new(smoothing, Weights::default(), batch)?;
    let reference = Reference::default();
    let targets = &reference.evaluate(&problem).rows[0].targets;
    let pos = (n > 0).then(|| targets[0].clone());
    let neg = (n < big_n).then(|| targets[big_n - 1].clone());
    let sum = targets.iter().fold(Rational::new(), |s, t| s + t);
    let exact = |r: &Option<Rational>| r.as_ref().map_or(Value::Null, |r| json!(r.to_string()));
    let decimal = |r: &Option<Rational>| {
        r.as_ref().map_or(Value::Null, |r| {
            json!(to_decimal(&Float::with_val(reference.precision(), r), 20))
        })
    };
    let bits = reference.precision();
    let ln = |r: &Rational| Float::with_val(bits, r).ln();
    // The optimal probabilities and logits, and the rule that recovers the labels.
    let half = Rational::from((1, 2));
    let (p_pos, p_neg, logit_pos, logit_neg, gap) = match scheme.family() {
        Family::Softmax => {
            let p = |t: &Option<Rational>| t.as_ref().map(|t| Rational::from(t / &sum));
            let gap = match (&pos, &neg) {
                (Some(a), Some(b)) if *b != 0 => Some(ln(a) - ln(b)),
                _ => None,
            };
            // Logits are defined up to a common shift: report log p*.
            let log = |t: &Option<Rational>| p(t).filter(|v| *v != 0).map(|v| ln(&v));
            (p(&pos), p(&neg), log(&pos), log(&neg), gap)
        }
        family => {
            let odds = |t: &Option<Rational>| {
                t.as_ref().and_then(|t| {
                    let rest = Rational::from(1 - t);
                    (*t != 0 && rest != 0).then(|| {
                        let l = ln(t) - ln(&rest);
                        if family == Family::Zlpr { l / 2u32 } else { l }
                    })
                })
            };
            (pos.clone(), neg.clone(), odds(&pos), odds(&neg), None)
        }
    };
    // ZLPR thresholds its scores at 0, which is t = 1/2; the others threshold p at 1/2.
    let above = |p: &Option<Rational>| p.as_ref().is_none_or(|p| *p > half);
    let below = |p: &Option<Rational>| p.as_ref().is_none_or(|p| *p < half);
    let recovers = above(&p_pos) && below(&p_neg);
    let rule = if recovers {
        "a 0.5 threshold on the fitted probabilities (0 on ZLPR scores) recovers the labels"
            .to_owned()
    } else {
        match (&p_pos, &p_neg) {
            (Some(a), Some(b)) if a > b => {
                let mid = Rational::from(a + b) / 2u32;
                format!(
                    "a 0.5 threshold does not recover the labels; a threshold strictly between \
                     {b} and {a} does, e.g. their midpoint {mid} (~{}), or take the top {n} \
                     classes",
                    to_decimal(&Float::with_val(64, &mid), 6)
                )
            }
            _ => "no threshold recovers the labels: positives and negatives get the same fitted \
                  value"
                .to_owned(),
        }
    };
    let pair = [
        pos.clone().unwrap_or_default(),
        neg.clone().unwrap_or_default(),
    ];
    let equivalents = equivalents(scheme, &pair, n, big_n, paths)?;
    let float = |f: &Option<Float>| f.as_ref().map_or(Value::Null, |f| json!(to_decimal(f, 20)));
    let out = json!({
        "scheme": scheme.name(),
        "classes": big_n,
        "positives": n,
        "target": {"positive": exact(&pos), "negative": exact(&neg),
                   "positive_decimal": decimal(&pos), "negative_decimal": decimal(&neg)},
        "target_sum": sum.to_string(),
        "optimal_probability": {"positive": exact(&p_pos), "negative": exact(&p_neg)},
        "optimal_logit": {"positive": float(&logit_pos), "negative": float(&logit_neg),
                          "gap_positive_minus_negative": float(&gap)},
        "threshold_half_recovers_labels": recovers,
        "rule": rule,
        "equivalents": equivalents,
    });
    if args.json {
        return serde_json::to_string_pretty(&out)
            .map_err(|e| CliError::Input(format!("cannot write JSON: {e}")));
    }
    Ok(text(&out))
}

/// The human-readable form of the JSON report.
fn text(out: &Value) -> String {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    let mut t = format!(
        "{} with N = {} classes, n = {} positives\n\n",
        s(&out["scheme"]),
        s(&out["classes"]),
        s(&out["positives"])
    );
    t += &format!(
        "targets:               positive {} ({}), negative {} ({})\n",
        s(&out["target"]["positive"]),
        s(&out["target"]["positive_decimal"]),
        s(&out["target"]["negative"]),
        s(&out["target"]["negative_decimal"])
    );
    t += &format!("sum of the row's targets: {}\n", s(&out["target_sum"]));
    t += &format!(
        "optimal probabilities: positive {}, negative {}\n",
        s(&out["optimal_probability"]["positive"]),
        s(&out["optimal_probability"]["negative"])
    );
    t += &format!(
        "optimal logits:        positive {}, negative {}, gap {}\n",
        s(&out["optimal_logit"]["positive"]),
        s(&out["optimal_logit"]["negative"]),
        s(&out["optimal_logit"]["gap_positive_minus_negative"])
    );
    t += &format!(
        "threshold:             {}\n\nequivalent settings:\n",
        s(&out["rule"])
    );
    if let Some(map) = out["equivalents"].as_object() {
        for (library, setting) in map {
            t += &format!("  {library:<11} {}\n", s(setting));
        }
    }
    t
}

/// For each library, the settings that give exactly this row's targets under the same loss:
/// each conversion in `proofs/conversions` equates a catalog scheme's targets (positive, then
/// negative) with the library's, written in the library's parameter; here the library's side is
/// set to this row's exact targets and solved for that parameter, which must then satisfy the
/// other equation exactly and lie in the range its derivation declares.
fn equivalents(
    scheme: Scheme,
    targets: &[Rational; 2],
    positives: usize,
    classes: usize,
    paths: &Paths,
) -> Result<Value, CliError> {
    let checked = check_tree(&paths.proofs).map_err(CliError::Input)?;
    let n_value: BTreeMap<String, RatFn> =
        [("N".to_owned(), RatFn::constant(Rational::from(classes)))].into();
    let point: BTreeMap<String, Rational> = [("N".to_owned(), Rational::from(classes))].into();
    let mut out = serde_json::Map::new();
    for library in LIBRARIES {
        let mut found = Vec::new();
        for c in &checked {
            for item in &c.doc.items {
                let Item::Convert {
                    setting,
                    scheme: target,
                    var,
                    equations,
                } = item
                else {
                    continue;
                };
                let Ok(target) = target.parse::<Scheme>() else {
                    continue;
                };
                let same_loss = target.family() == scheme.family()
                    && (!target.single_label() || positives == 1);
                if !setting.starts_with(library) || !same_loss {
                    continue;
                }
                // The library's parameter: the real symbol of the derivation other than `var`.
                let Some(symbol) = c.doc.items.iter().find_map(|i| match i {
                    Item::Symbol(s)
                        if s.kind == labelsmooth::symbolic::Kind::Real && s.name != *var =>
                    {
                        Some(s)
                    }
                    _ => None,
                }) else {
                    continue;
                };
                let lets = BTreeMap::new();
                let library_side = |k: usize| -> Option<RatFn> {
                    equations
                        .get(k)?
                        .rhs
                        .to_ratfn(&lets)
                        .ok()?
                        .substitute(&n_value)
                };
                let target_of = |k: usize| RatFn::constant(targets[k].clone());
                let Some(value) = library_side(0)
                    .and_then(|side| solve_linear(&side.sub(&target_of(0)), &symbol.name))
                    .and_then(|v| v.as_constant())
                else {
                    continue;
                };
                let at: BTreeMap<String, Rational> = [(symbol.name.clone(), value.clone())].into();
                let other_holds = positives == classes
                    || library_side(1)
                        .and_then(|side| side.evaluate(&at))
                        .is_some_and(|v| v == targets[1]);
                let end = |b: &Option<labelsmooth::symbolic::Bound>| {
                    b.as_ref().and_then(|b| {
                        let v = b.value.to_ratfn(&lets).ok()?.evaluate(&point)?;
                        Some((v, b.strict))
                    })
                };
                let in_range = end(&symbol.lower)
                    .is_none_or(|(lo, strict)| if strict { value > lo } else { value >= lo })
                    && end(&symbol.upper)
                        .is_none_or(|(hi, strict)| if strict { value < hi } else { value <= hi });
                if other_holds && in_range {
                    let decimal = to_decimal(&Float::with_val(64, &value), 8);
                    let line = format!("{setting} with {} = {value} (~{decimal})", symbol.name);
                    if !found.contains(&line) {
                        found.push(line);
                    }
                }
            }
        }
        let value = if found.is_empty() {
            json!("none")
        } else {
            json!(found.join("; "))
        };
        out.insert(library.to_owned(), value);
    }
    Ok(Value::Object(out))
}
