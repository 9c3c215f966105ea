//! Shared test support: the library's seeded inputs and ULP distances
//! (`labelsmooth::verify`), with panics instead of errors, and the seed from the environment.
#![allow(dead_code, unused_imports)]

pub use labelsmooth::verify::accuracy::{ulps_f32, ulps_f64};
pub use labelsmooth::verify::sample::{ADVERSARIAL, EDGES, Rng, labels, logit, params, weights};

use labelsmooth::{Problem, Scheme};

/// The seed of a seeded test: `LABELSMOOTH_SEED` when set, else `default`. Printed, so a
/// failing run can be repeated.
pub fn seed(default: u64) -> u64 {
    let seed = std::env::var("LABELSMOOTH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    eprintln!("LABELSMOOTH_SEED={seed}");
    seed
}

/// A random valid problem for `scheme`: `rows` rows of 1 to 12 classes.
pub fn problem(rng: &mut Rng, scheme: Scheme, rows: usize) -> Problem {
    labelsmooth::verify::sample::problem(rng, scheme, rows).unwrap()
}

/// The same problem with every input rounded to `f32`.
pub fn rounded_to_f32(problem: &Problem) -> Problem {
    labelsmooth::verify::sample::rounded_to_f32(problem).unwrap()
}

/// Runs the `labelsmooth` binary with `args` and `stdin`: exit code, stdout, stderr.
pub fn labelsmooth(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_labelsmooth"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `labelsmooth eval` on a document that must succeed: its JSON output.
pub fn eval_ok(input: &serde_json::Value) -> serde_json::Value {
    let (code, stdout, stderr) = labelsmooth(&["eval"], &input.to_string());
    assert_eq!(code, 0, "{input}: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}
