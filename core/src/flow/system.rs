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
    /// What a resident may choose to share with family, in the order they are asked.
    #[serde(default)]
    pub category: Vec<Category>,
}

/// A kind of information a resident may share with a family member.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable id stored with each decision (`mood`).
    pub id: String,
    /// How it is named to the resident, per language ("how you are feeling").
    pub label: BTreeMap<String, String>,
    /// Words a resident may use for it ("stop sharing my mood with Sam").
    #[serde(default)]
    pub words: Vec<String>,
}

impl Category {
    /// The label in `lang`, else the default language, else the id.
    pub fn label(&self, lang: &str) -> &str {
        self.label
            .get(lang)
            .or_else(|| self.label.get(super::DEFAULT_LANGUAGE))
            .map(String::as_str)
            .unwrap_or(&self.id)
    }
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
    /// For `do = "flow"`: what follows the phrase answers the flow's first question
    /// ("remind me at 10" starts the time flow and answers it with "10").
    #[serde(default)]
    pub prefill: bool,
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
    pub fn action(&self, rest: Option<String>) -> Option<IntentAction> {
        Some(match self.kind {
            IntentKind::Flow => IntentAction::Flow {
                flow: self.flow.as_ref()?.get_ref().clone(),
                rest,
            },
            IntentKind::Pause => IntentAction::Pause,
            IntentKind::Resume => IntentAction::Resume,
            IntentKind::Urgent => IntentAction::Urgent,
            IntentKind::SkipToday => IntentAction::SkipToday,
            IntentKind::Withdraw => IntentAction::Withdraw {
                rest: rest.unwrap_or_default(),
            },
            IntentKind::FamilyUpdate => IntentAction::FamilyUpdate,
            IntentKind::ReviewDone => IntentAction::ReviewDone {
                rest: rest.unwrap_or_default(),
            },
            IntentKind::Ack => IntentAction::Ack {
                alert: rest.and_then(|r| r.trim_start_matches('#').parse().ok()),
            },
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
    /// Skip today's scheduled check-in.
    SkipToday,
    /// Stop sharing a category with a family member ("stop sharing my mood with Sam").
    Withdraw,
    /// A family member asks for the latest update.
    FamilyUpdate,
    /// A member of staff acknowledges alerts ("ack", or "ack 12" for one).
    Ack,
    /// A member of staff records a resident's care-plan review ("review done Ava").
    ReviewDone,
}

/// What an intent does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntentAction {
    /// Start a flow, suspending any flow in progress and offering to resume it afterwards.
    Flow {
        /// The flow's id.
        flow: String,
        /// Words after the phrase, to answer the flow's first question (when `prefill`).
        rest: Option<String>,
    },
    /// Stop prompting until the person says `start`.
    Pause,
    /// Start prompting again.
    Resume,
    /// Raise an urgent alert to staff at once.
    Urgent,
    /// Skip today's scheduled check-in.
    SkipToday,
    /// Stop sharing: the words after the phrase name what and with whom.
    Withdraw {
        /// The rest of the message.
        rest: String,
    },
    /// A family member asks for the latest update.
    FamilyUpdate,
    /// Staff record a review; the words after the phrase name the resident.
    ReviewDone {
        /// The rest of the message.
        rest: String,
    },
    /// Staff acknowledge an alert (a number) or all of theirs (none).
    Ack {
        /// The alert's number, if given.
        alert: Option<i64>,
    },
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
    ("nudge", &[]),
    ("skipped_today", &[]),
    ("withdrawn", &["category", "family"]),
    ("withdraw_unclear", &[]),
    ("update_none", &[]),
    ("update_intro", &["resident"]),
    ("update_mood", &["resident", "average", "count"]),
    ("update_goal", &["goal", "answer"]),
    ("update_message", &["resident", "message"]),
    ("ack_done", &[]),
    ("ack_nothing", &[]),
    ("withheld_unencrypted", &[]),
    ("withheld_platform", &["platform"]),
    ("review_unclear", &[]),
    ("digest_intro", &["name"]),
    (
        "digest_line",
        &["resident", "checkin", "mood", "alerts", "review"],
    ),
    ("review_reminder", &["resident", "due", "when", "topics"]),
    (
        "staff_escalation",
        &["resident", "reason", "words", "waited"],
    ),
    ("staff_alert", &["resident", "reason", "words"]),
    (
        "staff_unreachable",
        &["resident", "reason", "words", "waited"],
    ),
    ("alert_undeliverable", &["phone"]),
    ("slow_down", &[]),
];

/// Variables every text may use, whatever its key.
pub const COMMON_VARS: &[&str] = &["person", "home", "keyworker", "contacts"];

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

    /// The intent `normalized` text triggers, if any. An exact phrase wins; then a `prefill`
    /// intent whose phrase starts the message; then an `anywhere` phrase inside it.
    pub fn intent(&self, normalized: &str) -> Option<IntentAction> {
        if let Some(i) = self
            .intent
            .iter()
            .find(|i| i.phrases.iter().any(|p| p == normalized))
        {
            return i.action(None);
        }
        for i in self.intent.iter().filter(|i| i.prefill) {
            for p in &i.phrases {
                if let Some(rest) = normalized
                    .strip_prefix(p.as_str())
                    .filter(|r| r.starts_with(' '))
                {
                    return i.action(Some(rest.trim().to_string()));
                }
            }
        }
        self.intent
            .iter()
            .find(|i| i.anywhere && i.phrases.iter().any(|p| contains_words(normalized, p)))
            .and_then(|i| i.action(None))
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
