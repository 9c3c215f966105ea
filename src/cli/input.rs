//! Reading the JSON document of `labelsmooth eval` into a checked [`Problem`].

use labelsmooth::{Batch, Error, Param, Params, Problem, Scheme, Smoothing, Weights};
use serde_json::{Map, Value};

use super::CliError;

/// The keys an eval document may have.
const KEYS: [&str; 10] = [
    "scheme",
    "eps",
    "alpha",
    "beta",
    "prior",
    "class_weights",
    "pos_weight",
    "logits",
    "labels",
    "precision_bits",
];

/// A checked problem, with what the document gave that the scheme does not use.
pub struct EvalInput {
    pub problem: Problem,
    pub ignored: Vec<&'static str>,
    pub precision_bits: Option<u32>,
}

/// Reads an eval document.
///
/// Parameters and weights are decimal texts (taken exactly) or JSON numbers (taken as their
/// binary64 value); logits are JSON numbers (binary64), or the texts `"nan"`, `"inf"`,
/// `"-inf"` (refused, with the row and column, by the batch checks); labels are 0, 1, `false`
/// or `true`. Parameters and weights the scheme does not use are ignored and reported.
pub fn parse(text: &str) -> Result<EvalInput, CliError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| CliError::Input(format!("invalid JSON: {e}")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| CliError::Input("the document must be a JSON object".into()))?;
    if let Some(key) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(CliError::Input(format!(
            "unknown key '{key}'; expected some of: {}",
            KEYS.join(", ")
        )));
    }
    let scheme: Scheme = match obj.get("scheme") {
        Some(Value::String(name)) => name.parse()?,
        Some(_) => return Err(CliError::Input("'scheme' must be a string".into())),
        None => return Err(CliError::Input("missing key 'scheme'".into())),
    };
    let params = Params {
        eps: optional(obj, "eps", param)?,
        alpha: optional(obj, "alpha", param)?,
        beta: optional(obj, "beta", param)?,
        prior: optional(obj, "prior", params_list)?,
    };
    let mut ignored = params.unused_by(scheme);
    let mut weights = Weights {
        class: optional(obj, "class_weights", params_list)?,
        pos: optional(obj, "pos_weight", params_list)?,
    };
    if weights.class.is_some() && scheme == Scheme::Zlpr {
        weights.class = None;
        ignored.push("class_weights");
    }
    if weights.pos.is_some() && scheme.family() != labelsmooth::Family::Sigmoid {
        weights.pos = None;
        ignored.push("pos_weight");
    }
    let smoothing = Smoothing::new(scheme, &params)?;
    let logits = rows(obj, "logits", logit)?;
    let labels = rows(obj, "labels", label)?;
    let batch = Batch::from_rows(&logits, &labels)?;
    let precision_bits = optional(obj, "precision_bits", |key, v| {
        v.as_u64()
            .and_then(|b| u32::try_from(b).ok())
            .ok_or_else(|| CliError::Input(format!("'{key}' must be a whole number of bits")))
    })?;
    Ok(EvalInput {
        problem: Problem::new(smoothing, weights, batch)?,
        ignored,
        precision_bits,
    })
}

fn optional<T>(
    obj: &Map<String, Value>,
    key: &str,
    read: impl Fn(&str, &Value) -> Result<T, CliError>,
) -> Result<Option<T>, CliError> {
    obj.get(key).map(|v| read(key, v)).transpose()
}

/// A decimal text (exact) or a JSON number (its binary64 value).
fn param(key: &str, v: &Value) -> Result<Param, CliError> {
    match v {
        Value::String(text) => {
            Param::decimal(text).map_err(|e| CliError::Input(format!("{key}: {e}")))
        }
        Value::Number(n) => n
            .as_f64()
            .map(Param::new)
            .ok_or_else(|| CliError::Input(format!("{key}: {n} is outside the binary64 range"))),
        _ => Err(CliError::Input(format!(
            "{key} must be a decimal string or a number"
        ))),
    }
}

fn params_list(key: &str, v: &Value) -> Result<Vec<Param>, CliError> {
    let items = v
        .as_array()
        .ok_or_else(|| CliError::Input(format!("{key} must be an array")))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| param(&format!("{key}[{i}]"), item))
        .collect()
}

fn rows<T>(
    obj: &Map<String, Value>,
    key: &str,
    read: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<Vec<T>>, CliError> {
    let not_rows = || CliError::Input(format!("'{key}' must be an array of rows (arrays)"));
    let outer = obj
        .get(key)
        .ok_or_else(|| CliError::Input(format!("missing key '{key}'")))?
        .as_array()
        .ok_or_else(not_rows)?;
    outer
        .iter()
        .enumerate()
        .map(|(row, r)| {
            r.as_array()
                .ok_or_else(not_rows)?
                .iter()
                .enumerate()
                .map(|(column, v)| {
                    read(v).ok_or_else(|| {
                        CliError::Input(format!(
                            "{key} at row {row}, column {column} is {v}, not a {}",
                            if key == "labels" {
                                "label (0, 1, false or true)"
                            } else {
                                "number"
                            }
                        ))
                    })
                })
                .collect()
        })
        .collect()
}

/// A logit: a JSON number, or `"nan"`, `"inf"`, `"-inf"` so the policy on them can be
/// exercised. A number beyond the binary64 range is an infinity.
fn logit(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(n.as_f64().unwrap_or_else(|| {
            if n.to_string().starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        })),
        Value::String(s) => match s.as_str() {
            "nan" | "NaN" => Some(f64::NAN),
            "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
            "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// A label: a number (the batch checks that it is 0 or 1) or a boolean.
fn label(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Problem(e)
    }
}
