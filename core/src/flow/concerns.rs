//! `dialogs/concerns.toml`: rules that turn a resident's answers into an alert for staff.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The file's name in the dialogs folder.
pub const CONCERNS_FILE: &str = "concerns.toml";

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcernsDoc {
    /// The rules, checked in order against every stored answer.
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// One rule. Either `words`, or `answer` with `at_most` and `days_in_a_row`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable name, also used so a rule alerts once per conversation run.
    pub id: Spanned<String>,
    /// What staff see ("mentioned pain").
    pub reason: String,
    /// Phrases that trigger it anywhere in any answer.
    #[serde(default)]
    pub words: Vec<String>,
    /// The `store` key of a number answer to watch (`mood`).
    pub answer: Option<String>,
    /// Triggers when that answer is at most this...
    pub at_most: Option<f64>,
    /// ...on this many days running, today included.
    pub days_in_a_row: Option<u32>,
    /// What the resident is told, per language.
    #[serde(default)]
    pub tell_resident: BTreeMap<String, String>,
}
