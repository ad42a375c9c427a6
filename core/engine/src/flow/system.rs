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
    /// How close a message must be to an intent's examples, and the words that never count.
    #[serde(default)]
    pub understanding: Understanding,
}

/// `[understanding]`: the intent matcher's settings and the targets `carebot dialogs test`
/// holds the examples to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Understanding {
    /// Words that carry no meaning for an intent ("please", "I'd like to").
    #[serde(default)]
    pub fillers: Vec<String>,
    /// Lowest similarity (0 to 1) that counts as understood, outside a question.
    #[serde(default = "default_accept")]
    pub accept: f64,
    /// Lowest similarity that interrupts a question waiting for an answer.
    #[serde(default = "default_interrupt")]
    pub interrupt: f64,
    /// Two intents closer than this: ask "Did you mean …?".
    #[serde(default = "default_margin")]
    pub margin: f64,
    /// What `carebot dialogs test` must reach; below any of them it exits 1.
    #[serde(default)]
    pub targets: Targets,
}

impl Default for Understanding {
    fn default() -> Self {
        Understanding {
            fillers: Vec::new(),
            accept: default_accept(),
            interrupt: default_interrupt(),
            margin: default_margin(),
            targets: Targets::default(),
        }
    }
}

fn default_accept() -> f64 {
    0.6
}
fn default_interrupt() -> f64 {
    0.9
}
fn default_margin() -> f64 {
    0.08
}

/// Thresholds for the labelled examples, as fractions (0.98 = 98 %).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Risk and urgent lines that raise an alert, in each context.
    pub risk_recall: f64,
    /// Urgent lines that raise an urgent alert (not merely a risk one).
    pub urgent_recall: f64,
    /// `none` lines that raise an alert: at most this.
    pub false_alarms: f64,
    /// Intent lines that start the intent named.
    pub intents: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            risk_recall: 0.98,
            urgent_recall: 0.98,
            false_alarms: 0.05,
            intents: 0.90,
        }
    }
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
    /// Its name in labelled examples (`intent:checkin`) and in "did you mean"; defaults to
    /// the flow's id or the `do` kind.
    pub id: Option<String>,
    /// What happens.
    #[serde(rename = "do")]
    pub kind: IntentKind,
    /// Who it is for (empty: everyone). A resident saying "any news" is not a family member.
    #[serde(default)]
    pub roles: Vec<crate::domain::Role>,
    /// How "Did you mean …?" names it, per language ("do your check-in").
    #[serde(default)]
    pub label: BTreeMap<String, String>,
    /// For `do = "request"`: who hears about it.
    pub to: Option<super::Target>,
    /// For `do = "request"`: what staff read ("would like to make a complaint").
    pub reason: Option<String>,
    /// For `do = "request"`: the text key the person is told (default `request_passed`).
    pub reply: Option<String>,
    /// For `do = "flow"`: which flow to start.
    pub flow: Option<Spanned<String>>,
    /// For `do = "flow"`: what follows the phrase answers the flow's first question
    /// ("remind me at 10" starts the time flow and answers it with "10").
    #[serde(default)]
    pub prefill: bool,
    /// Example phrases. A message close to one of them (a paraphrase, added politeness, a
    /// typo) triggers the intent; see [`crate::understand`].
    pub phrases: Vec<String>,
    /// When true, a phrase anywhere in the message triggers it, whatever else is said.
    #[serde(default)]
    pub anywhere: bool,
    /// Words or phrases one of which a message must hold to trigger this intent when it is
    /// only close to a phrase ("no pain today" is near "not today" but is not about the
    /// check-in), or when it would stop a question that takes words ("not today" to "How did
    /// your goal go today?" answers it; "skip the questions" does not). Empty: no such rule.
    #[serde(default)]
    pub needs_one_of: Vec<String>,
    /// For a `prefill` intent: words that, straight after a phrase, mean the phrase is not
    /// this intent ("tell me how she is" asks for news; "tell her I'll come" is a message).
    #[serde(default)]
    pub not_followed_by: Vec<String>,
}

impl Intent {
    /// Its name: `id`, else the flow's id, else the kind (`pause`).
    pub fn name(&self) -> String {
        if let Some(id) = &self.id {
            return id.clone();
        }
        match (&self.kind, &self.flow) {
            (IntentKind::Flow, Some(f)) => f.get_ref().clone(),
            (kind, _) => serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        }
    }

    /// Its "did you mean" label in `lang`, else English, else its name.
    pub fn label(&self, lang: &str) -> String {
        self.label
            .get(lang)
            .or_else(|| self.label.get(super::DEFAULT_LANGUAGE))
            .cloned()
            .unwrap_or_else(|| self.name().replace('_', " "))
    }

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
            IntentKind::Greeting => IntentAction::Greeting,
            IntentKind::Alerts => IntentAction::Alerts,
            IntentKind::NotCheckedIn => IntentAction::NotCheckedIn,
            IntentKind::OpenRequests => IntentAction::OpenRequests,
            IntentKind::ReviewsDue => IntentAction::ReviewsDue,
            IntentKind::Summary => IntentAction::Summary {
                rest: rest.unwrap_or_default(),
            },
            IntentKind::MessageTo => IntentAction::MessageTo {
                rest: rest.unwrap_or_default(),
            },
            IntentKind::Close => IntentAction::Close,
            IntentKind::MyRequests => IntentAction::MyRequests,
            IntentKind::Request => IntentAction::Request {
                kind: self.name(),
                to: self.to.unwrap_or(super::Target::Keyworker),
                reason: self
                    .reason
                    .clone()
                    .unwrap_or_else(|| "asked for something".into()),
                reply: self
                    .reply
                    .clone()
                    .unwrap_or_else(|| "request_passed".into()),
            },
        })
    }
}

/// The kinds of intent, as written in `do = "..."`.
#[derive(Clone, Copy, Debug, Deserialize, serde::Serialize, PartialEq, Eq)]
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
    /// "Hello": a greeting back and the short menu for the person's role.
    Greeting,
    /// Staff ask which alerts about their residents are still open.
    Alerts,
    /// Staff ask which of their residents have not checked in today.
    NotCheckedIn,
    /// Staff ask which requests about their residents are not closed yet.
    OpenRequests,
    /// Staff ask when their residents' care-plan reviews are due.
    ReviewsDue,
    /// Staff ask how a resident they look after has been ("how is Ava"): a short summary
    /// of the last week's check-ins.
    Summary,
    /// A family member writes to their resident, or a resident to a member of their family
    /// ("a message for Ava", "reply to Sam"): passed on at once, in their words.
    MessageTo,
    /// Something to pass to a person (a complaint, an advocate, a review, a new goal): a
    /// request to `to`, acknowledged and escalated like any alert, tracked until staff close
    /// it. Its `id` is its kind; `request_what_<id>` names it for the resident.
    Request,
    /// Staff close a request with what was done ("close 12 we changed the menu"); the
    /// resident is told, in their words.
    Close,
    /// A resident asks what they have asked for, and how each request stands.
    MyRequests,
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
    /// Greet back, with the short menu.
    Greeting,
    /// List the open alerts about the speaker's residents.
    Alerts,
    /// List the speaker's residents who have not checked in today.
    NotCheckedIn,
    /// List the open requests about the speaker's residents.
    OpenRequests,
    /// List the review dates of the speaker's residents.
    ReviewsDue,
    /// Summarise the last week of the residents named (the words after the phrase, or the
    /// whole message).
    Summary {
        /// The rest of the message.
        rest: String,
    },
    /// Write to the person the words after the phrase name (or the only one there is).
    MessageTo {
        /// The rest of the message.
        rest: String,
    },
    /// Close a request: the number and what was done are read from the message as written.
    Close,
    /// List the speaker's own requests.
    MyRequests,
    /// Pass a request to staff.
    Request {
        /// Its kind: the intent's id (`complaint`).
        kind: String,
        /// Who hears.
        to: super::Target,
        /// What staff read.
        reason: String,
        /// The text key the person is told.
        reply: String,
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
    ("plan_updated", &["version"]),
    (
        "review_recorded",
        &["staff", "date", "next_due", "took_part", "outcome"],
    ),
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
    ("alert_seen", &["staff"]),
    ("withheld_unencrypted", &[]),
    ("withheld_platform", &["platform"]),
    ("withheld_identity", &[]),
    ("withheld_moved", &[]),
    ("account_changed", &["platform"]),
    ("unreadable", &[]),
    ("no_words", &[]),
    ("question_passed", &[]),
    ("review_unclear", &[]),
    ("digest_intro", &["name"]),
    (
        "digest_line",
        &["resident", "checkin", "mood", "alerts", "review", "goals"],
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
    ("did_you_mean", &["options"]),
    ("greeting", &[]),
    ("greeting_family", &[]),
    ("greeting_staff", &[]),
    ("request_passed", &[]),
    ("alerts_none", &[]),
    ("alerts_open", &["count", "numbers"]),
    ("not_checked_in_none", &[]),
    ("not_checked_in_list", &["count", "names"]),
    ("requests_open_none", &[]),
    ("requests_open", &["count", "requests"]),
    ("reviews_due_none", &[]),
    ("reviews_due", &["reviews"]),
    ("message_which", &["names"]),
    ("message_nobody", &[]),
    (
        "message_received",
        &["from", "from_first", "words", "resident"],
    ),
    ("summary_nobody", &[]),
    ("summary_which", &["names"]),
    ("summary_none", &[]),
    (
        "staff_summary",
        &[
            "resident",
            "days",
            "completed",
            "missed",
            "last",
            "mood",
            "before",
            "goals",
            "alerts",
        ],
    ),
    (
        "staff_request",
        &["resident", "reason", "words", "alert", "days"],
    ),
    ("request_what_help", &[]),
    ("request_closed", &["staff", "what", "outcome"]),
    ("request_overdue", &["resident", "reason", "alert", "days"]),
    ("requests_none", &[]),
    ("requests_list", &["requests"]),
    ("close_done", &["alert"]),
    ("close_nothing", &[]),
    ("close_needs_words", &["alert"]),
];

/// Variables every text may use, whatever its key.
pub const COMMON_VARS: &[&str] = &["person", "home", "keyworker", "contacts"];

/// The audience whose own variant of a text or flow the dialogs may hold, as a suffix: a
/// family member's `fallback_family`, staff's (keyworkers' and managers') `help_staff`.
/// Residents have the plain one.
pub fn audience(role: crate::domain::Role) -> Option<&'static str> {
    use crate::domain::Role;
    match role {
        Role::Family => Some("family"),
        Role::Keyworker | Role::Manager => Some("staff"),
        Role::Resident | Role::Admin => None,
    }
}

/// The audiences a text or flow may have a variant for (see [`audience`]).
pub const AUDIENCES: &[&str] = &["family", "staff"];

impl SystemDoc {
    /// The key of the variant of text `key` for `role` (`fallback_family`) when the dialogs
    /// have one, else `key`.
    pub fn key_for(&self, key: &str, role: crate::domain::Role) -> String {
        audience(role)
            .map(|a| format!("{key}_{a}"))
            .filter(|variant| self.text.contains_key(variant))
            .unwrap_or_else(|| key.to_string())
    }

    /// The text for `key` in `lang`, else in the default language, else the key itself (the
    /// validator makes the last case impossible for shipped dialogs).
    pub fn text<'a>(&'a self, key: &'a str, lang: &str) -> &'a str {
        self.text
            .get(key)
            .and_then(|t| t.get(lang).or_else(|| t.get(super::DEFAULT_LANGUAGE)))
            .map(|s| s.get_ref().as_str())
            .unwrap_or(key)
    }

    /// The intent `normalized` text triggers by an exact phrase, if any, for `role`: an
    /// exact phrase wins; then a `prefill` intent whose phrase starts the message; then an
    /// `anywhere` phrase inside it. Returns the intent's index with what it does. Messages
    /// that are only close to a phrase are [`crate::understand`]'s business.
    pub fn intent_match(
        &self,
        normalized: &str,
        role: crate::domain::Role,
    ) -> Option<(usize, IntentAction)> {
        let open = |i: &Intent| i.roles.is_empty() || i.roles.contains(&role);
        let mut all = self.intent.iter().enumerate().filter(|(_, i)| open(i));
        if let Some((n, i)) = all
            .clone()
            .find(|(_, i)| i.phrases.iter().any(|p| p == normalized))
        {
            return i.action(None).map(|a| (n, a));
        }
        for (n, i) in all.clone().filter(|(_, i)| i.prefill) {
            for p in &i.phrases {
                if let Some(rest) = normalized
                    .strip_prefix(p.as_str())
                    .filter(|r| r.starts_with(' '))
                    .filter(|r| {
                        let next = r.split_whitespace().next().unwrap_or_default();
                        !i.not_followed_by.iter().any(|w| w == next)
                    })
                {
                    return i.action(Some(rest.trim().to_string())).map(|a| (n, a));
                }
            }
        }
        all.find(|(_, i)| i.anywhere && i.phrases.iter().any(|p| contains_words(normalized, p)))
            .and_then(|(n, i)| i.action(None).map(|a| (n, a)))
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
