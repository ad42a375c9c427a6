//! What the engine remembers between turns. Stored as JSON in `conversations.state`; the
//! snapshot test in `tests/` keeps rows written by older versions loadable.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One person's conversation with Carebot.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Conversation {
    /// Counts turns; with the person's id it makes outbox idempotency keys unique.
    pub turn: u64,
    /// True after `stop`: no prompts until `start`.
    pub paused: bool,
    /// The flow being talked through.
    pub active: Option<Frame>,
    /// A flow interrupted by a global intent, to be offered again.
    pub suspended: Option<Frame>,
    /// A yes/no question the engine itself asked.
    pub awaiting: Awaiting,
}

/// A position in a flow, pinned to the version it started with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// Flow id.
    pub flow: String,
    /// Flow version (content hash) the conversation is pinned to.
    pub version: String,
    /// The step waiting for an answer.
    pub step: String,
    /// For `for_each` steps: which item is being asked about.
    #[serde(default)]
    pub item: usize,
    /// Unrecognised answers in a row at this step.
    #[serde(default)]
    pub retries: u8,
    /// Groups the answers of one run of the flow (the turn it started on).
    pub run: u64,
    /// Answers so far in this run, for templates and read-back.
    #[serde(default)]
    pub answers: BTreeMap<String, Value>,
    /// The person's own words for each answer in this run, for alerts that quote them.
    #[serde(default)]
    pub heard: BTreeMap<String, String>,
    /// For staff flows about a resident ("review done Ava"): that resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<crate::domain::Relative>,
    /// When the run started (epoch ms): a suspended run older than a few hours is not resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<i64>,
    /// A correction under way: where to come back to, and the step at which to do it (see
    /// `then` on a branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returning: Option<Return>,
    /// Concern rules that have already raised an alert in this run (each alerts once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flagged: Vec<String>,
}

/// Where a correction comes back to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Return {
    /// The step to come back to (the read-back).
    pub to: String,
    /// The step the flow would carry on to after the part being corrected; reaching it
    /// means the part is done.
    pub at: String,
}

impl Frame {
    /// A short token for the question this frame is waiting on: this run of this flow, this
    /// step, this item. The same question asked again after an odd answer keeps it; the same
    /// words asked in tomorrow's run do not.
    pub fn question(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(
            format!("{}\n{}\n{}\n{}", self.flow, self.run, self.step, self.item).as_bytes(),
        );
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

/// Engine-level yes/no questions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Awaiting {
    /// Nothing.
    #[default]
    Nothing,
    /// "Shall we carry on with the check-in?"
    ResumeOffer,
    /// "Shall I pass this to a member of staff?" after repeated unrecognised answers.
    Handoff {
        /// The last thing the person said, passed on if they say yes.
        words: String,
    },
    /// "Did you mean 1. … 2. …?" after a message close to more than one intent.
    DidYouMean {
        /// The intents offered, by name, in the order numbered.
        options: Vec<String>,
        /// What the person said, passed on with the one they pick (not "2").
        #[serde(default)]
        words: String,
    },
}
