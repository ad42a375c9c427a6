//! `carebot dialogs test`: reads the example files and prints the understanding report.

use anyhow::{Context, Result};
use carebot_engine::understand::{eval, report};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// How many parts a file the learned model learns from is split into for measuring it.
const FOLDS: usize = 5;
use std::process::ExitCode;

/// A folder holding `system.toml` is the dialogs folder; every other path is examples.
pub fn split(paths: &[PathBuf]) -> (Option<PathBuf>, Vec<PathBuf>) {
    let mut dir = None;
    let mut files = Vec::new();
    for p in paths {
        if dir.is_none() && p.join(carebot_engine::flow::load::SYSTEM_FILE).is_file() {
            dir = Some(p.clone());
        } else {
            files.push(p.clone());
        }
    }
    (dir, files)
}

/// The `*.tsv` files in `dir`, sorted.
fn tsv_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the examples folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    out.sort();
    Ok(out)
}

/// The name `[learned]` gives `path`, if the learned model is trained on it.
fn learned_from(
    dir: &Path,
    dialogs: &carebot_engine::flow::Dialogs,
    path: &Path,
) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let learned = dialogs.concerns.learned.as_ref()?;
    learned
        .examples
        .iter()
        .map(|e| e.get_ref())
        .find(|e| dir.join(e).canonicalize().ok().as_ref() == Some(&path))
        .cloned()
}

/// Loads `dir`, runs the examples in `files` (or `dir/examples/`), prints the report.
pub fn run(dir: &Path, files: &[PathBuf]) -> Result<ExitCode> {
    let dialogs = match carebot_engine::flow::load_dir(dir) {
        Ok(d) => d,
        Err(problems) => {
            for p in &problems {
                println!("{p}");
            }
            println!(
                "{} problem(s) in {}: fix them first (carebot dialogs check)",
                problems.len(),
                dir.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut sources = Vec::new();
    if files.is_empty() {
        sources = tsv_in(&dir.join("examples"))?;
    }
    for f in files {
        if f.is_dir() {
            sources.extend(tsv_in(f)?);
        } else {
            sources.push(f.clone());
        }
    }
    if sources.is_empty() {
        println!("no example files: give a file of expected<TAB>utterance lines, or add dialogs/examples/*.tsv");
        return Ok(ExitCode::FAILURE);
    }
    // A fixed moment, so a run is repeatable: a weekday morning.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now());
    let mut trials = Vec::new();
    for path in &sources {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the examples in {}", path.display()))?;
        let examples = match eval::parse_examples(&path.display().to_string(), &text) {
            Ok(e) => e,
            Err(problem) => {
                println!("{problem}");
                return Ok(ExitCode::FAILURE);
            }
        };
        // A file the learned model learns from is measured by cross-validation: in FOLDS
        // parts, each with a model trained on everything but that part.
        let Some(name) = learned_from(dir, &dialogs, path) else {
            trials.extend(eval::run(&dialogs, &examples, now));
            continue;
        };
        println!(
            "{}: the learned model learns from this file, so it is measured {FOLDS}-fold (trained without the lines tried)",
            path.display()
        );
        for fold in 0..FOLDS {
            let part: Vec<eval::Example> = examples
                .iter()
                .enumerate()
                .filter(|(i, _)| i % FOLDS == fold)
                .map(|(_, e)| e.clone())
                .collect();
            // The training copy of a line is named by `[learned]`'s file name.
            let leave_out: HashSet<String> = part
                .iter()
                .filter_map(|e| e.at.rsplit_once(':'))
                .map(|(_, line)| format!("{name}:{line}"))
                .collect();
            let held_back = dialogs.trained_without(&leave_out);
            trials.extend(eval::run(
                held_back.as_ref().unwrap_or(&dialogs),
                &part,
                now,
            ));
        }
    }
    let targets = dialogs.system.understanding.targets;
    print!("{}", report::render(&trials, &targets));
    let missed = report::Figures::of(&trials).missed(&targets);
    Ok(if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
