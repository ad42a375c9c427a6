//! What goes into the engine and what comes out.

use crate::domain::Decision;
use crate::flow::Target;
use crate::ids::{GoalId, PersonId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Something that happened to a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The person sent a message (as received: any size, any content).
    Message(String),
    /// The scheduler or staff start a flow (e.g. the daily check-in). Ignored while paused
    /// or while the person is talking through another flow.
    Start {
        /// Flow id.
        flow: String,
    },
    /// A follow-up timer set when a flow was started by the scheduler.
    Timer {
        /// What kind.
        kind: TimerKind,
        /// The flow it belongs to.
        flow: String,
        /// The run it belongs to: a timer for an earlier run does nothing.
        run: u64,
    },
    /// The person pressed a quick-answer button. `question` is the token the button was made
    /// with ([`super::state::Frame::question`]); a press on a question that has passed (an
    /// old message, yesterday's check-in) changes nothing and is told so: a consent or any
    /// other answer never comes from a stale button.
    Pressed {
        /// The question the button belonged to.
        question: String,
        /// What it answers, as if typed.
        answer: String,
    },
    /// The person's chat account presented a different cryptographic identity from the one
    /// it was linked with (a reset, or someone else): staff are told. Messages with health
    /// information are held back by the adapter until a fresh link code is used.
    AccountChanged {
        /// The platform (`matrix`).
        platform: String,
    },
}

/// Follow-ups to a scheduled flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// One gentle reminder if nothing has been answered yet.
    Nudge,
    /// Still nothing answered: record the run as missed and close it.
    Missed,
}

impl TimerKind {
    /// The name stored in the `timers` table.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Nudge => "nudge",
            TimerKind::Missed => "missed",
        }
    }
}

/// Something the runtime must do, in the same transaction as saving the new state.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Queue a message to the person.
    Send(OutMessage),
    /// Keep an answer.
    Store(AnswerRecord),
    /// Tell staff, with the person's own words.
    Alert {
        /// Who.
        to: Target,
        /// Why, for staff ("urgent", "low mood").
        reason: String,
        /// What the person said, if anything.
        words: Option<String>,
        /// The concern category that raised it (`urgent`, `pain`), if a concern rule did.
        category: Option<String>,
        /// The concern rules that fired (`fall, chest_pain`), never the words.
        rule: Option<String>,
        /// Told at once as well, on the same alert (an urgent concern tells the manager too);
        /// the ladder and the one acknowledgement stay those of `to`.
        copy_to: Vec<Target>,
        /// Set when it is a resident's request (`complaint`, `help`): tracked until staff
        /// close it, and told back to the resident.
        request: Option<String>,
    },
    /// The message was understood as this intent (its name in `system.toml`). The runtime
    /// does nothing with it; `carebot dialogs test` reads it.
    Intent(String),
    /// A flow started by [`Input::Start`] has begun (the runtime sets its follow-up timers).
    Started {
        /// Flow id.
        flow: String,
        /// Run id.
        run: u64,
    },
    /// A scheduled run got no answer at all in time.
    Missed {
        /// Flow id.
        flow: String,
        /// Run id.
        run: u64,
    },
    /// The person asked to skip today's check-in.
    SkipToday,
    /// A family member chose how often they hear: "daily" or "weekly".
    SetUpdateCadence(String),
    /// The person chose a new time of day for their check-in ("HH:MM").
    SetCheckinTime(String),
    /// A resident's consent decision for one family member and category.
    Consent {
        /// The family member.
        family: PersonId,
        /// Category id.
        category: String,
        /// Yes, no or later.
        decision: Decision,
        /// Exactly what they were asked, or their own words when they asked to stop sharing.
        wording: String,
        /// The version of the flow (or system texts) the wording came from.
        version: String,
    },
    /// A family member asked for the latest update (built by the runtime, with consent).
    UpdateRequested,
    /// Pass `words` at once to `to`: a family member's message to their resident, or the
    /// resident's answer to them. `resident` is the resident it is between.
    Relay {
        /// Whom it is for.
        to: PersonId,
        /// The resident it is between.
        resident: PersonId,
        /// The sender's words, as they wrote them.
        words: String,
        /// Unique to this message among the sender's (the flow run).
        run: u64,
    },
    /// The resident changes one of their own goals (`goal` is `None` for a new one).
    Goal {
        /// Which goal.
        goal: Option<crate::ids::GoalId>,
        /// What changes.
        change: crate::domain::GoalChange,
    },
    /// The resident's answer about one version of their care plan.
    PlanAnswer {
        /// The plan row (that version).
        plan: i64,
        /// Its version.
        version: i64,
        /// Agreed, or not.
        agreed: bool,
        /// The plan exactly as it was shown (every section, in order).
        wording: String,
        /// What they would like to be different, in their own words.
        words: Option<String>,
    },
    /// A member of staff was shown a list about these residents of theirs (`what`: `requests`,
    /// `reviews`, `not_checked_in`): one audit row per resident, naming the list, never
    /// its words.
    StaffRead {
        /// Which list.
        what: String,
        /// Whom it was about.
        residents: Vec<PersonId>,
    },
    /// A member of staff asked how these residents of theirs have been (summaries built by
    /// the runtime, through the access table, each one audited).
    SummaryRequested {
        /// Whom they asked about.
        residents: Vec<PersonId>,
    },
    /// A member of staff acknowledged an alert (by number) or all of theirs.
    Ack(Option<i64>),
    /// A member of staff closed a resident's request with what was done, in their words.
    Close {
        /// The request's number.
        request: i64,
        /// Its kind (`complaint`), so the resident is told which of theirs it was.
        kind: String,
        /// What was done, exactly as the member of staff wrote it.
        outcome: String,
    },
    /// A member of staff recorded a resident's care-plan review.
    ReviewDone {
        /// The resident.
        resident: PersonId,
        /// When it happened ("YYYY-MM-DD").
        date: String,
        /// Whether the resident took part.
        took_part: bool,
        /// When the next is due ("YYYY-MM-DD").
        next_due: String,
        /// What was agreed, in the staff member's words, for the resident to be told.
        outcome: Option<String>,
    },
    /// A flow run finished (completed) or was abandoned.
    FlowEnded {
        /// Flow id.
        flow: String,
        /// Run id.
        run: u64,
        /// When the run started (epoch ms), if known: a check-in counts for that day.
        started_ms: Option<i64>,
    },
}

/// A message for the person.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutMessage {
    /// Plain text.
    pub text: String,
    /// Health information: held back from channels without end-to-end encryption.
    #[serde(default)]
    pub sensitive: bool,
    /// Quick answers (buttons where the channel has them).
    #[serde(default)]
    pub choices: Vec<ChoiceButton>,
    /// Text channels should list the choices as numbered lines (for a choice question; scale and
    /// yes/no questions already say their answers in the text).
    #[serde(default)]
    pub list: bool,
    /// A chart of the numbers the text gives in words, for channels that show images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<crate::chart::Chart>,
    /// With `choices`: the question they answer, for a channel's buttons to carry back in
    /// [`Input::Pressed`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
}

/// One quick answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceButton {
    /// What pressing it sends, as if typed ("1", "yes").
    pub answer: String,
    /// What it shows.
    pub label: String,
}

impl OutMessage {
    /// The text with the choices as a numbered list, for channels without buttons.
    pub fn plain(&self) -> String {
        if !self.list || self.choices.is_empty() {
            return self.text.clone();
        }
        let mut out = self.text.clone();
        for c in &self.choices {
            out.push_str(&format!("\n{}. {}", c.answer, c.label));
        }
        out
    }
}

/// An answer as the person gave it and as the engine understood it.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerRecord {
    /// Flow id.
    pub flow: String,
    /// Flow version.
    pub version: String,
    /// Run id (groups one check-in's answers).
    pub run: u64,
    /// Step id.
    pub step: String,
    /// The step's `store` key.
    pub key: String,
    /// The goal asked about, for `for_each` steps.
    pub goal: Option<GoalId>,
    /// The understood value (number, "yes", option id, text).
    pub value: Value,
    /// Exactly what the person wrote (capped for very long free text).
    pub raw: String,
    /// Set when `raw` was cut: the original length in characters.
    pub truncated_from: Option<usize>,
}
