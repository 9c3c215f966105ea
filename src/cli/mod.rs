//! The command-line front end: parses arguments, reads input, prints JSON. No numerics here.

mod docs;
mod eval;
mod explain;
mod input;
mod vectors;
mod verify;

use std::fmt;
use std::io::Read;
use std::process::ExitCode;

const USAGE: &str = "\
usage: labelsmooth [verify] [--json] [--seed S] [--problems K] [--inject-fault gradient:SCHEME]
       labelsmooth eval [FILE] [--precision BITS]
       labelsmooth docs [--check] [--proofs DIR] [--out DIR]
       labelsmooth claims [--json] [--proofs DIR]
       labelsmooth vectors --out DIR
       labelsmooth explain --scheme S --classes N --positives n [--eps E | --alpha A --beta B] [--json]

commands:
  verify the main job (also with no command): every check for every scheme (derivations,
         accuracy of the f64 and f32 formulas against MPFR, ...) in one table with the worst
         error measured in each cell, then every claim's verdict; exits 1 if anything fails.
         --inject-fault scales one scheme's gradient by 1 + 2^-30, to see a check fail.
  eval   evaluate one scheme on a batch: reads a JSON document from FILE (or standard input
         when FILE is absent or '-') and prints the MPFR reference and the f64 and f32
         formulas' targets, per-row losses and gradients as JSON.
  docs   check every derivation in proofs/ and render docs/ (Markdown with LaTeX); with
         --check, write nothing and fail if a step fails or docs/ differs.
  claims the verdict on every claim (C1-C14) and conversion (F1-F4), reached by the checker;
         --json prints [{\"id\", \"verdict\", \"condition\", \"detail\"}].

  explain
         the smoothed targets of a positive and a negative label, their sum, the optimal
         probabilities and logits, whether a 0.5 threshold recovers the labels (and which rule
         does), and the equivalent setting in PyTorch, Keras, timm, fastai, mmpretrain, burn and
         optax, solved by the symbolic checker.
  vectors
         write golden test vectors for every scheme (inputs and 40-digit reference targets,
         losses and gradients; format in src/cli/vectors.rs and the README) to DIR.

exit status: 0 on success, 1 when a check fails, 2 on bad input or usage (the reason is
printed on stderr).";

/// What stops a command: bad usage, unreadable or malformed input, or a problem the library
/// refuses.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Input(String),
    Problem(labelsmooth::Error),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(msg) => write!(f, "{msg}\n\n{USAGE}"),
            CliError::Input(msg) => f.write_str(msg),
            CliError::Problem(e) => write!(f, "{e}"),
        }
    }
}

/// Runs the command line `args` (without the program name).
pub fn run(args: &[String]) -> ExitCode {
    match dispatch(args) {
        Ok((output, passed)) => {
            println!("{output}");
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The output and whether every check passed.
fn dispatch(args: &[String]) -> Result<(String, bool), CliError> {
    match args.first().map(String::as_str) {
        Some("eval") => {
            let options = EvalOptions::parse(&args[1..])?;
            let text = read_input(options.file.as_deref())?;
            Ok((eval::run(&text, options.precision)?, true))
        }
        Some(command @ ("docs" | "claims")) => {
            let mut paths = docs::Paths::default();
            let mut flag = false;
            let mut it = args[1..].iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--check" if command == "docs" => flag = true,
                    "--json" if command == "claims" => flag = true,
                    "--proofs" | "--out" => {
                        let dir = it
                            .next()
                            .ok_or_else(|| CliError::Usage(format!("{arg} needs a folder")))?;
                        if arg == "--proofs" {
                            paths.proofs = dir.into();
                        } else {
                            paths.out = dir.into();
                        }
                    }
                    other => return Err(CliError::Usage(format!("unknown argument '{other}'"))),
                }
            }
            if command == "docs" {
                docs::run(&paths, flag)
            } else {
                docs::claims(&paths, flag)
            }
        }
        Some("explain") => {
            let explain_args = explain::ExplainArgs::parse(&args[1..])?;
            Ok((explain::run(&explain_args, &docs::Paths::default())?, true))
        }
        Some("vectors") => match &args[1..] {
            [flag, dir] if flag == "--out" => Ok((vectors::run(std::path::Path::new(dir))?, true)),
            _ => Err(CliError::Usage("vectors needs --out DIR".into())),
        },
        Some("-h" | "--help" | "help") => Ok((USAGE.to_owned(), true)),
        Some("verify") => verify::run(
            &verify::VerifyArgs::parse(&args[1..])?,
            &docs::Paths::default(),
        ),
        None => verify::run(&verify::VerifyArgs::parse(&[])?, &docs::Paths::default()),
        Some(flag) if flag.starts_with("--") => {
            verify::run(&verify::VerifyArgs::parse(args)?, &docs::Paths::default())
        }
        Some(other) => Err(CliError::Usage(format!("unknown command '{other}'"))),
    }
}

struct EvalOptions {
    file: Option<String>,
    precision: Option<u32>,
}

impl EvalOptions {
    fn parse(args: &[String]) -> Result<Self, CliError> {
        let mut options = EvalOptions {
            file: None,
            precision: None,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--precision" => {
                    let bits = it.next().ok_or_else(|| {
                        CliError::Usage("--precision needs a number of bits".into())
                    })?;
                    options.precision = Some(bits.parse().map_err(|_| {
                        CliError::Usage(format!("--precision: '{bits}' is not a number of bits"))
                    })?);
                }
                flag if flag.starts_with("--") => {
                    return Err(CliError::Usage(format!("unknown option '{flag}'")));
                }
                file if options.file.is_none() => options.file = Some(file.to_owned()),
                extra => return Err(CliError::Usage(format!("unexpected argument '{extra}'"))),
            }
        }
        Ok(options)
    }
}

fn read_input(file: Option<&str>) -> Result<String, CliError> {
    match file {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Input(format!("cannot read standard input: {e}")))?;
            Ok(text)
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::Input(format!("cannot read {path}: {e}"))),
    }
}
