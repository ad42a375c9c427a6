//! `dialogs/concerns.toml`: rules that turn what a resident says into an alert for staff.
//!
//! The file is data care staff can read and change: categories (urgent, harm, pain, distress,
//! a non-urgent request) with what the resident is told, rules of patterns per category,
//! negation cues with their scope, "story" cues (a film, the news), and everyday sayings that
//! never alert ("a pain in the neck"). [`crate::understand`] compiles it once at load time.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The file's name in the dialogs folder.
pub const CONCERNS_FILE: &str = "concerns.toml";

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcernsDoc {
    /// Kinds of concern, most serious first.
    #[serde(default)]
    pub category: Vec<Category>,
    /// The rules, checked against every message a resident sends.
    #[serde(default)]
    pub rule: Vec<Rule>,
    /// Words that turn a match off ("no pain", "the pain has gone").
    #[serde(default)]
    pub negation: Negation,
    /// Words that mark someone else's story ("a film about a man who hit his wife").
    #[serde(default)]
    pub stories: Stories,
    /// Everyday sayings taken out of a message before any rule looks at it.
    #[serde(default)]
    pub exclude: Vec<Exclude>,
    /// The model learned from examples, for what the rules miss (optional).
    pub learned: Option<Learned>,
}

/// A kind of concern and how Carebot responds to it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable name (`urgent`), used by rules and stored with each alert.
    pub id: Spanned<String>,
    /// What staff read in the alert ("may mean: a fall (urgent)").
    pub label: String,
    /// Who is told at once: `keyworker`, `manager`, or both.
    #[serde(default = "default_alert")]
    pub alert: Vec<String>,
    /// True for the categories that mean a risk to the person (counted by `dialogs test` as
    /// risk); false for an ordinary request.
    #[serde(default = "yes")]
    pub risk: bool,
    /// True where any flow in progress stops and the resident hears only this reply.
    #[serde(default)]
    pub interrupts: bool,
    /// What the resident is told, per language.
    #[serde(default)]
    pub tell_resident: BTreeMap<String, String>,
    /// Set for an ordinary request ("I need help choosing clothes"): its alert is a tracked
    /// request of this kind, which staff close with what was done and the resident can ask
    /// about (`request_what_<kind>` in `system.toml` names it for them).
    #[serde(default)]
    pub request: Option<String>,
}

fn default_alert() -> Vec<String> {
    vec!["keyworker".into()]
}

fn yes() -> bool {
    true
}

/// One rule. Either `patterns` (or `words`), or `answer` with `at_most` and `days_in_a_row`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable name, also used so a rule alerts once per conversation run.
    pub id: Spanned<String>,
    /// The category it belongs to (default `distress` for a score rule, else required).
    pub category: Option<Spanned<String>>,
    /// What staff see ("a fall").
    pub reason: String,
    /// Regular expressions (the `regex` crate's syntax) matched as whole words against the
    /// message in canonical form: lower case, contractions spelt out (`can not`, `i am`,
    /// `do not`), punctuation removed, `.` and `,` kept as words between spaces.
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    /// Plain phrases, matched as whole words (older files; `patterns` can do more).
    #[serde(default)]
    pub words: Vec<String>,
    /// Patterns that, found in the same clause, mean this rule does not apply ("help me
    /// *with the crossword*" is not a call for help).
    #[serde(default)]
    pub unless: Vec<Spanned<String>>,
    /// The `store` key of a number answer to watch (`mood`).
    pub answer: Option<String>,
    /// Triggers when that answer is at most this...
    pub at_most: Option<f64>,
    /// ...on this many days running, today included.
    pub days_in_a_row: Option<u32>,
    /// What the resident is told, per language (default: the category's words).
    #[serde(default)]
    pub tell_resident: BTreeMap<String, String>,
}

/// Negation cues and their scope (after NegEx, Chapman et al. 2001).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Negation {
    /// Words or phrases that, a few words before a match, negate it ("no", "never").
    #[serde(default)]
    pub before: Vec<String>,
    /// Phrases that, a few words after a match, say it is over ("has gone", "went away").
    #[serde(default)]
    pub after: Vec<String>,
    /// How many words before a match a negation cue reaches.
    #[serde(default = "default_window")]
    pub window: usize,
    /// How many words after a match an "it is over" cue reaches.
    #[serde(default = "default_after_window")]
    pub after_window: usize,
    /// Words that end a cue's reach ("but", "and"), besides punctuation.
    #[serde(default)]
    pub stop_at: Vec<String>,
    /// Phrases that hold a negation word but negate nothing ("can not stop crying", "not
    /// getting better"): their words are never taken as cues.
    #[serde(default)]
    pub pseudo: Vec<String>,
    /// "It is all right now": after a contrast word in `contrast` ("but"), later in the same
    /// sentence, one of these phrases sets aside a concern said before it ("I was sick last
    /// week but I'm fine now"). Never for a category that interrupts (urgent).
    #[serde(default)]
    pub resolved: Vec<String>,
    /// The contrast words a `resolved` phrase must come after.
    #[serde(default)]
    pub contrast: Vec<String>,
}

fn default_window() -> usize {
    4
}

fn default_after_window() -> usize {
    6
}

/// Cues that what follows, in the same clause, is someone else's story.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stories {
    /// Words like "film", "news", "book", "dream".
    #[serde(default)]
    pub cues: Vec<String>,
    /// How many words before a match a cue reaches.
    #[serde(default = "default_story_window")]
    pub window: usize,
    /// Words that end a story cue's reach ("and now I feel hopeless"), besides punctuation.
    #[serde(default)]
    pub stop_at: Vec<String>,
}

fn default_story_window() -> usize {
    10
}

/// Everyday sayings that never alert.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclude {
    /// Why, for the person reading the file ("a pain in the neck").
    pub why: String,
    /// Patterns removed from a message before the rules see it.
    pub patterns: Vec<Spanned<String>>,
}

/// `[learned]`: a word-statistics model trained, when the dialogs load, on labelled example
/// files, for what the rules do not catch. It only ever adds an alert; it never silences a rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Learned {
    /// Example files (in the format `carebot dialogs test` reads), relative to the dialogs folder.
    pub examples: Vec<Spanned<String>>,
    /// How sure (0 to 1) the model must be that a message is a concern before it alerts.
    #[serde(default = "default_alert_at")]
    pub alert_at: f64,
    /// How sure it must be that a concern is urgent before it raises an urgent alert.
    #[serde(default = "default_urgent_at")]
    pub urgent_at: f64,
    /// The category of a learned urgent alert.
    pub urgent: Spanned<String>,
    /// The category of any other learned alert.
    pub risk: Spanned<String>,
    /// What staff read as the reason ("sounds like something worrying").
    pub reason: String,
    /// How many times likelier in concerns than in ordinary talk a word (or pair) must be to
    /// count as evidence on its own: the model alerts only on a message with at least one
    /// such word, never on the balance of everyday words ("I'm feeling grand").
    #[serde(default = "default_evidence")]
    pub evidence: f64,
    /// Words too common to tell anything ("i", "the"), left out of what the model sees.
    #[serde(default)]
    pub ignore: Vec<String>,
}

fn default_alert_at() -> f64 {
    0.9
}

fn default_evidence() -> f64 {
    3.0
}

fn default_urgent_at() -> f64 {
    0.5
}
