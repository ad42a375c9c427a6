//! `dialogs/system.toml`: the engine's own texts (what it says when it does not understand,
//! when paused, when a flow is interrupted) and the global intents that work from anywhere.
//! Both are data so care staff can reword them and add phrases people actually use.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The whole `system.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemDoc {
    /// Texts by key, then by language.
    pub text: BTreeMap<String, BTreeMap<String, Spanned<String>>>,
    /// Global intents, tried in order.
    #[serde(default)]
    pub intent: Vec<Intent>,
}

/// A phrase set that works from anywhere in a conversation.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    /// What happens.
    #[serde(rename = "do")]
    pub kind: IntentKind,
    /// For `do = "flow"`: which flow to start.
    pub flow: Option<Spanned<String>>,
    /// Phrases that trigger it, compared after lower-casing and trimming punctuation.
    pub phrases: Vec<String>,
    /// When true, a phrase anywhere in the message triggers it (for urgent help, where
    /// missing "please I need help now!!" matters more than a rare false alarm).
    #[serde(default)]
    pub anywhere: bool,
}

impl Intent {
    /// What this intent does (`None` for a `flow` intent with no flow, which the validator
    /// rejects).
    pub fn action(&self) -> Option<IntentAction> {
        Some(match self.kind {
            IntentKind::Flow => IntentAction::Flow {
                flow: self.flow.as_ref()?.get_ref().clone(),
            },
            IntentKind::Pause => IntentAction::Pause,
            IntentKind::Resume => IntentAction::Resume,
            IntentKind::Urgent => IntentAction::Urgent,
        })
    }
}

/// The kinds of intent, as written in `do = "..."`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    /// Start the flow named in `flow`.
    Flow,
    /// Pause prompts.
    Pause,
    /// Resume prompts.
    Resume,
    /// Urgent alert to staff.
    Urgent,
}

/// What an intent does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentAction {
    /// Start a flow, suspending any flow in progress and offering to resume it afterwards.
    Flow {
        /// The flow's id.
        flow: String,
    },
    /// Stop prompting until the person says `start`.
    Pause,
    /// Start prompting again.
    Resume,
    /// Raise an urgent alert to staff at once.
    Urgent,
}

/// Texts the engine itself needs, each with the template variables it may use.
pub const REQUIRED_TEXTS: &[(&str, &[&str])] = &[
    ("not_understood", &["hint"]),
    ("hint_choice", &["count"]),
    ("hint_scale", &["min", "max"]),
    ("hint_yes_no", &[]),
    ("hint_number", &["min", "max"]),
    ("hint_text", &[]),
    ("hint_time", &[]),
    ("hint_date", &[]),
    ("retry_exhausted", &[]),
    ("handoff_done", &["keyworker"]),
    ("handoff_declined", &[]),
    ("resume_offer", &["title"]),
    ("resume_declined", &[]),
    ("paused", &[]),
    ("paused_reminder", &[]),
    ("resumed", &[]),
    ("urgent_ack", &["keyworker", "home"]),
    ("fallback", &[]),
    ("too_long", &["limit"]),
    ("truncated_note", &["limit", "length"]),
    ("unknown_account", &[]),
    ("link_done", &[]),
    ("staff_alert", &["resident", "reason", "words"]),
];

/// Variables every text may use, whatever its key.
pub const COMMON_VARS: &[&str] = &["person", "home", "keyworker"];

impl SystemDoc {
    /// The text for `key` in `lang`, else in the default language, else the key itself (the
    /// validator makes the last case impossible for shipped dialogs).
    pub fn text<'a>(&'a self, key: &'a str, lang: &str) -> &'a str {
        self.text
            .get(key)
            .and_then(|t| t.get(lang).or_else(|| t.get(super::DEFAULT_LANGUAGE)))
            .map(|s| s.get_ref().as_str())
            .unwrap_or(key)
    }

    /// The intent `normalized` text triggers, if any. Exact phrases win over `anywhere` ones.
    pub fn intent(&self, normalized: &str) -> Option<IntentAction> {
        let exact = self
            .intent
            .iter()
            .find(|i| i.phrases.iter().any(|p| p == normalized));
        exact
            .or_else(|| {
                self.intent
                    .iter()
                    .find(|i| i.anywhere && i.phrases.iter().any(|p| contains_words(normalized, p)))
            })
            .and_then(Intent::action)
    }
}

/// True when `phrase` appears in `text` as whole words.
pub fn contains_words(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    text.match_indices(phrase).any(|(at, _)| {
        let before_ok = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[at + phrase.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        before_ok && after_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        assert!(contains_words("please i need help now", "help now"));
        assert!(!contains_words("helpful", "help"));
        assert!(!contains_words("not great", "great x"));
        assert!(contains_words("not great", "great"));
    }
}
