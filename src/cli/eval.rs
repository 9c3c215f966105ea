//! `labelsmooth eval`: the reference and the f64/f32 formulas on one document.

use labelsmooth::reference::{Reference, to_decimal};
use labelsmooth::{Precision, Problem, Reduction};
use serde_json::{Map, Number, Value, json};

use super::CliError;
use super::input;

/// Significant digits of the reference's decimal output (binary128 needs 34 to round-trip).
const DIGITS: usize = 40;

pub fn run(text: &str, precision: Option<u32>) -> Result<String, CliError> {
    let input = input::parse(text)?;
    let bits = precision
        .or(input.precision_bits)
        .unwrap_or(Reference::DEFAULT_PRECISION);
    let problem = &input.problem;
    let reference_out = reference_json(problem, bits)?;

    let mut out = Map::new();
    out.insert("scheme".into(), json!(problem.smoothing().scheme().name()));
    if !input.ignored.is_empty() {
        out.insert("ignored".into(), json!(input.ignored));
    }
    out.insert("reference".into(), reference_out);
    out.insert("f64".into(), machine::<f64>(problem));
    out.insert("f32".into(), machine::<f32>(problem));
    serde_json::to_string_pretty(&Value::Object(out))
        .map_err(|e| CliError::Input(format!("cannot write JSON: {e}")))
}

/// The MPFR reference of a problem as JSON: targets, per-row losses and gradients as decimal
/// strings of [`DIGITS`] significant digits, and every reduction that applies.
pub fn reference_json(problem: &Problem, bits: u32) -> Result<Value, CliError> {
    let exact = Reference::new(bits)?.evaluate(problem);
    let decimal = |x: &rug::Float| Value::String(to_decimal(x, DIGITS));
    let rows: Vec<Value> = exact
        .rows
        .iter()
        .map(|row| {
            let targets = row
                .targets
                .iter()
                .map(|t| decimal(&rug::Float::with_val(bits, t)))
                .collect::<Vec<_>>();
            json!({
                "targets": targets,
                "loss": decimal(&row.loss),
                "grad": row.gradient.iter().map(decimal).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut out = Map::new();
    out.insert("precision_bits".into(), json!(bits));
    for reduction in [
        Reduction::MeanOverRows,
        Reduction::Sum,
        Reduction::MeanOverElements,
        Reduction::WeightedMean,
    ] {
        // The weighted mean is reported only where it applies.
        if let Ok(value) = exact.reduced_loss(problem, reduction) {
            out.insert(reduction.name().into(), decimal(&value));
        }
    }
    out.insert("rows".into(), Value::Array(rows));
    Ok(Value::Object(out))
}

/// The generic formulas in precision `F`; non-finite values (only from logits beyond the
/// `f32` range) are `null`.
fn machine<F: Precision + std::fmt::Display + std::fmt::LowerExp>(problem: &Problem) -> Value {
    let rows: Vec<Value> = problem
        .evaluate::<F>()
        .rows
        .iter()
        .map(|row| {
            json!({
                "loss": number(row.loss),
                "grad": row.gradient.iter().map(|&g| number(g)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "rows": rows })
}

/// The shortest text that reads back as the same `F`, as a JSON number.
fn number<F: Precision + std::fmt::Display + std::fmt::LowerExp>(x: F) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let magnitude = x.abs().to_f64();
    let text = if magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        format!("{x:e}")
    } else {
        format!("{x}")
    };
    text.parse::<Number>().map_or(Value::Null, Value::Number)
}
