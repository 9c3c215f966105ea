//! `labelsmooth docs [--check]` and `labelsmooth claims [--json]`.

use std::path::{Path, PathBuf};

use labelsmooth::symbolic::{Checked, DocKind, check_tree, docs};
use serde_json::json;

use super::CliError;

/// Where `proofs/` and `docs/` are unless given: the crate's own folders.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Options shared by both commands.
pub struct Paths {
    pub proofs: PathBuf,
    pub out: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            proofs: Path::new(ROOT).join("proofs"),
            out: Path::new(ROOT).join("docs"),
        }
    }
}

/// Checks every derivation and writes (or, with `check`, compares) `docs/`. Returns the report
/// and whether everything passed.
pub fn run(paths: &Paths, check: bool) -> Result<(String, bool), CliError> {
    let checked = check_tree(&paths.proofs).map_err(CliError::Input)?;
    let mut report = String::new();
    let mut ok = true;
    for c in &checked {
        for f in &c.failures {
            ok = false;
            report += &format!("{} {}: {f}\n", kind_name(c), c.doc.id);
        }
    }
    let files = docs(&checked);
    if check {
        for (name, text) in &files {
            let path = paths.out.join(name);
            match std::fs::read_to_string(&path) {
                Ok(current) if current == *text => {}
                Ok(_) => {
                    ok = false;
                    report += &format!(
                        "{} differs from what `labelsmooth docs` generates\n",
                        path.display()
                    );
                }
                Err(_) => {
                    ok = false;
                    report += &format!("{} is missing\n", path.display());
                }
            }
        }
        for stale in stale_files(&paths.out, &files) {
            ok = false;
            report += &format!(
                "{} is not generated from proofs/ (stale)\n",
                stale.display()
            );
        }
    } else {
        for (name, text) in &files {
            let path = paths.out.join(name);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    CliError::Input(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            std::fs::write(&path, text)
                .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))?;
        }
        for stale in stale_files(&paths.out, &files) {
            let _ = std::fs::remove_file(stale);
        }
    }
    let steps: usize = checked.iter().map(|c| c.outcomes.len()).sum();
    report += &format!(
        "{} derivations, {steps} lines, {} failed steps; docs {}\n",
        checked.len(),
        checked.iter().map(|c| c.failures.len()).sum::<usize>(),
        match (check, ok) {
            (true, true) => "up to date",
            (true, false) => "NOT up to date or failing",
            (false, _) => "written",
        }
    );
    Ok((report, ok))
}

/// Markdown files under `out` that the generator does not produce.
fn stale_files(out: &Path, files: &std::collections::BTreeMap<String, String>) -> Vec<PathBuf> {
    let mut stale = Vec::new();
    for dir in [out.to_path_buf(), out.join("schemes")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(out)
                .map(|p| p.to_string_lossy().replace('\\', "/"));
            if path.extension().is_some_and(|x| x == "md")
                && rel.is_ok_and(|r| !files.contains_key(&r))
            {
                stale.push(path);
            }
        }
    }
    stale
}

fn kind_name(c: &Checked) -> &'static str {
    match c.doc.kind {
        DocKind::Scheme => "scheme",
        DocKind::Claim => "claim",
        DocKind::Conversion => "conversion",
    }
}

/// The verdict of every claim and conversion, as JSON or a table.
pub fn claims(paths: &Paths, as_json: bool) -> Result<(String, bool), CliError> {
    let checked = check_tree(&paths.proofs).map_err(CliError::Input)?;
    let settled: Vec<&Checked> = checked
        .iter()
        .filter(|c| c.doc.kind != DocKind::Scheme)
        .collect();
    let ok = settled
        .iter()
        .all(|c| c.failures.is_empty() && c.verdict.is_some());
    if as_json {
        let rows: Vec<_> = settled
            .iter()
            .map(|c| {
                let (v, cond, detail) = c.verdict.clone().map_or(
                    ("unsettled", String::new(), c.failures.join("; ")),
                    |(v, cond, detail)| (v.name(), cond, detail),
                );
                json!({"id": c.doc.id, "verdict": v, "condition": cond, "detail": detail})
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows)
            .map_err(|e| CliError::Input(format!("cannot write JSON: {e}")))?;
        return Ok((text, ok));
    }
    let mut text = String::new();
    for c in settled {
        let (v, cond) = c
            .verdict
            .as_ref()
            .map_or(("unsettled", String::new()), |(v, cond, _)| {
                (v.name(), cond.clone())
            });
        text += &format!(
            "{:<4} {:<12} {}{}\n",
            c.doc.id,
            v,
            c.doc.title,
            if cond.is_empty() {
                String::new()
            } else {
                format!(" [when {cond}]")
            }
        );
    }
    Ok((text, ok))
}
