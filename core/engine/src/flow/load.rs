//! Reading the `dialogs/` folder into a [`Dialogs`] library.
//!
//! Every flow is identified by a content hash. A conversation stores the hash it started with,
//! and the runtime re-adds older versions from the store (see `store::flows`) so a flow file
//! can change while people are halfway through it.

use super::concerns::{ConcernsDoc, CONCERNS_FILE};
use super::model::{Flow, FlowDoc};
use super::problem::Problem;
use super::system::SystemDoc;
use super::validate;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The file that holds the engine's texts and the global intents.
pub const SYSTEM_FILE: &str = "system.toml";

/// Real words a typo correction never changes, one a line (optional).
pub const KNOWN_WORDS_FILE: &str = "words.en.txt";

/// All flows (current and pinned older versions), the system texts and intents.
#[derive(Debug)]
pub struct Dialogs {
    current: HashMap<String, Arc<Flow>>,
    versions: RwLock<HashMap<(String, String), Arc<Flow>>>,
    /// The engine's own texts and the global intents.
    pub system: SystemDoc,
    /// Every language the shipped texts must cover.
    pub languages: Vec<String>,
    /// Rules that raise alerts from answers.
    pub concerns: ConcernsDoc,
    /// The concern rules and intent examples, compiled.
    pub matcher: crate::understand::Matcher,
    /// Real words a typo correction never changes.
    known: Vec<String>,
    /// The labelled examples the learned concern model is trained on.
    pub training: Vec<crate::understand::eval::Example>,
}

impl Dialogs {
    /// The current version of flow `id`.
    pub fn flow(&self, id: &str) -> Option<Arc<Flow>> {
        self.current.get(id).cloned()
    }

    /// Flow `id` at `version`, if loaded (current or re-added with [`Dialogs::add_version`]).
    pub fn version(&self, id: &str, version: &str) -> Option<Arc<Flow>> {
        if let Some(f) = self.current.get(id).filter(|f| f.version == version) {
            return Some(f.clone());
        }
        let versions = self.versions.read().unwrap_or_else(|e| e.into_inner());
        versions
            .get(&(id.to_string(), version.to_string()))
            .cloned()
    }

    /// Re-adds an older version from its stored source. Returns its version hash.
    pub fn add_version(&self, source: &str) -> Result<String, Problem> {
        let flow = parse_flow(Path::new("<stored flow>"), source)?;
        let key = (flow.id().to_string(), flow.version.clone());
        let version = flow.version.clone();
        let mut versions = self.versions.write().unwrap_or_else(|e| e.into_inner());
        versions.entry(key).or_insert_with(|| Arc::new(flow));
        Ok(version)
    }

    /// Whether `text` (its first 4,000 characters) sets off a concern rule of a category that
    /// interrupts everything (urgent): the rate limiter lets such a message through.
    pub fn is_urgent(&self, text: &str) -> bool {
        let readable: String = text.chars().take(4000).collect();
        let hits = self.matcher.concerns(&self.matcher.hear(&readable));
        hits.iter().any(|h| {
            self.concerns
                .category
                .iter()
                .any(|c| c.id.get_ref() == &h.category && c.interrupts)
        })
    }

    /// The current flows, sorted by id.
    pub fn flows(&self) -> Vec<Arc<Flow>> {
        let mut flows: Vec<_> = self.current.values().cloned().collect();
        flows.sort_by(|a, b| a.id().cmp(b.id()));
        flows
    }
}

/// Content hash of a flow file: the first 16 hex digits of its SHA-256.
pub fn version_of(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Parses one flow file (syntax and field names only; see [`validate`] for meaning).
pub fn parse_flow(path: &Path, source: &str) -> Result<Flow, Problem> {
    let doc: FlowDoc = toml::from_str(source).map_err(|e| Problem::from_toml(path, source, &e))?;
    Ok(Flow::new(doc, source.to_string(), version_of(source)))
}

/// Parses `system.toml`.
pub fn parse_system(path: &Path, source: &str) -> Result<SystemDoc, Problem> {
    toml::from_str(source).map_err(|e| Problem::from_toml(path, source, &e))
}

/// Loads and validates every `*.toml` in `dir`. Any problem at all fails the load: a care
/// home should find out about a broken flow when it starts Carebot, not from a resident.
pub fn load_dir(dir: &Path) -> Result<Dialogs, Vec<Problem>> {
    let files = toml_files(dir)?;
    let mut problems = Vec::new();
    let mut flows: Vec<(PathBuf, Flow)> = Vec::new();
    let mut system = None;
    let mut system_seen = false;
    let mut concerns = ConcernsDoc::default();
    for path in files {
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                problems.push(Problem::file(
                    &path,
                    format!("cannot be read: {e}"),
                    "check the file exists and is UTF-8 text",
                ));
                continue;
            }
        };
        if path.file_name().is_some_and(|n| n == CONCERNS_FILE) {
            match toml::from_str::<ConcernsDoc>(&source) {
                Ok(doc) => {
                    problems.extend(validate::check_concerns(&path, &source, &doc));
                    concerns = doc;
                }
                Err(e) => problems.push(Problem::from_toml(&path, &source, &e)),
            }
        } else if path.file_name().is_some_and(|n| n == SYSTEM_FILE) {
            system_seen = true;
            match parse_system(&path, &source) {
                Ok(doc) => system = Some((path, doc, source)),
                Err(p) => problems.push(p),
            }
        } else {
            match parse_flow(&path, &source) {
                Ok(flow) => flows.push((path, flow)),
                Err(p) => problems.push(p),
            }
        }
    }
    let Some((system_path, system, system_source)) = system else {
        if system_seen {
            return Err(problems);
        }
        problems.push(Problem::file(
            dir.join(SYSTEM_FILE),
            "is missing: the engine needs its texts and intents",
            "copy system.toml from the shipped dialogs/ folder",
        ));
        return Err(problems);
    };
    if !problems.is_empty() {
        // Meaning is checked only once every file parses; otherwise one typo would also
        // show up as every reference to the flow it broke.
        return Err(problems);
    }
    let languages = languages_of(&system);
    problems.extend(validate::check_library(
        &flows,
        (&system_path, &system_source, &system),
        &languages,
    ));
    if !problems.is_empty() {
        return Err(problems);
    }
    let known = known_words(dir)?;
    let training = training_examples(dir, &concerns)?;
    let all: Vec<&crate::understand::eval::Example> = training.iter().collect();
    let matcher = crate::understand::Matcher::build(&system, &concerns, &known, &all).map_err(|bad| {
        let path = dir.join(CONCERNS_FILE);
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        vec![Problem::at(
            &path,
            &source,
            bad.at,
            format!("a pattern does not compile: {}", validate::regex_reason(&bad.why)),
            "correct the regular expression (the regex crate's syntax: brackets must pair, \\b for a word boundary)",
        )]
    })?;
    let current = flows
        .into_iter()
        .map(|(_, f)| (f.id().to_string(), Arc::new(f)))
        .collect();
    Ok(Dialogs {
        current,
        versions: RwLock::new(HashMap::new()),
        system,
        languages,
        concerns,
        matcher,
        known,
        training,
    })
}

/// The example files `[learned]` lists, read. A file that is missing or has a bad line is a
/// problem naming it.
fn training_examples(
    dir: &Path,
    concerns: &ConcernsDoc,
) -> Result<Vec<crate::understand::eval::Example>, Vec<Problem>> {
    let Some(learned) = &concerns.learned else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for file in &learned.examples {
        let path = dir.join(file.get_ref());
        match std::fs::read_to_string(&path) {
            Ok(text) => match crate::understand::eval::parse_examples(file.get_ref(), &text) {
                Ok(mut lines) => out.append(&mut lines),
                Err(why) => problems.push(Problem::file(
                    &path,
                    why,
                    "each line is LABEL<TAB>words (urgent, risk, none or intent:NAME)",
                )),
            },
            Err(e) => {
                let path = dir.join(CONCERNS_FILE);
                let source = std::fs::read_to_string(&path).unwrap_or_default();
                problems.push(Problem::at(
                    &path,
                    &source,
                    file.span().start,
                    format!(
                        "[learned] lists '{}', which cannot be read: {e}",
                        file.get_ref()
                    ),
                    "name an example file in the dialogs folder, e.g. \"examples/risk.tsv\"",
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

impl Dialogs {
    /// The same dialogs with the learned model trained without the example lines in
    /// `leave_out` (their `file:line`), so `carebot dialogs test` never measures the model on
    /// a line it learned.
    pub fn trained_without(
        &self,
        leave_out: &std::collections::HashSet<String>,
    ) -> Option<Dialogs> {
        let rest: Vec<&crate::understand::eval::Example> = self
            .training
            .iter()
            .filter(|e| !leave_out.contains(&e.at))
            .collect();
        let matcher =
            crate::understand::Matcher::build(&self.system, &self.concerns, &self.known, &rest)
                .ok()?;
        let versions = self
            .versions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Some(Dialogs {
            current: self.current.clone(),
            versions: RwLock::new(versions),
            system: self.system.clone(),
            languages: self.languages.clone(),
            concerns: self.concerns.clone(),
            matcher,
            known: self.known.clone(),
            training: Vec::new(),
        })
    }
}

/// The known-words list, if the folder has one.
fn known_words(dir: &Path) -> Result<Vec<String>, Vec<Problem>> {
    let path = dir.join(KNOWN_WORDS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(vec![Problem::file(
            &path,
            format!("cannot be read: {e}"),
            "check the file is UTF-8 text, one word a line",
        )]),
    }
}

fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, Vec<Problem>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![Problem::file(
            dir,
            format!("cannot be read as a dialogs folder: {e}"),
            "pass the folder that holds the flow files, e.g. dialogs/ (`carebot dialogs init dialogs` writes the built-in ones)",
        )]
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The languages of the system texts: the set every text must cover.
fn languages_of(system: &SystemDoc) -> Vec<String> {
    let mut langs: Vec<String> = system
        .text
        .values()
        .flat_map(|t| t.keys().cloned())
        .collect();
    langs.sort();
    langs.dedup();
    if langs.is_empty() {
        langs.push(super::DEFAULT_LANGUAGE.to_string());
    }
    langs
}
