//! The shape of a flow file. The same types serve the validator (they keep TOML spans, so a
//! problem can name its line) and the engine (which reads them through [`Flow`]).
//!
//! ```toml
//! [flow]
//! id = "checkin"
//! title = "Daily check-in"
//! start = "mood"
//!
//! [[step]]
//! id = "mood"
//! say.en = "How are you feeling today, {{ person.name }}?"
//! ask = { kind = "scale", min = 1, max = 5, words = { good = 4 } }
//! store = "mood"
//! sensitive = true
//! next = "done"
//! ```

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use toml::Spanned;

/// A flow file as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowDoc {
    /// Name, title and first step.
    pub flow: Header,
    /// The steps, in the order staff wrote them (order does not matter to the engine).
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
}

/// The `[flow]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Stable name other files and the code use to start this flow, e.g. `checkin`.
    pub id: Spanned<String>,
    /// A title staff and residents may see ("Daily check-in").
    pub title: String,
    /// The step the flow begins at.
    pub start: Spanned<String>,
    /// Notes for staff; never shown to residents.
    #[serde(default)]
    pub description: String,
}

/// One step: say something, maybe ask, maybe act, then move on.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the flow.
    pub id: Spanned<String>,
    /// Text per language (`say.en = "..."`), a minijinja template.
    #[serde(default)]
    pub say: BTreeMap<String, Spanned<String>>,
    /// When present the engine waits for an answer of this kind.
    pub ask: Option<Ask>,
    /// Where the answer is kept (`answers.<store>` in later templates and in the store).
    pub store: Option<String>,
    /// The default next step; none means the flow ends here.
    pub next: Option<Spanned<String>>,
    /// Conditional next steps, tried in order before `next`.
    #[serde(default)]
    pub branch: Vec<Branch>,
    /// Things to do when the step is reached (before its question is asked).
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Health information: channels without end-to-end encryption hold it back.
    #[serde(default)]
    pub sensitive: bool,
    /// Ask once per item of a list about the person, e.g. `"goals"`.
    pub for_each: Option<ForEach>,
}

/// Lists a step may repeat over.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ForEach {
    /// The person's active goals that are due that day (each goal's own cadence: daily,
    /// some days, weekly); the template sees `goal.text`.
    Goals,
    /// Goals staff suggested that the resident has not yet taken or declined; the template
    /// sees `goal.text` and `goal.suggested_by`. The answer (a `text` question) is "yes",
    /// "no", or the goal in the resident's own words.
    SuggestedGoals,
    /// Each family member × each consent category; the template sees `family.name` and
    /// `category.label`; the answer (a choice of `yes`, `no`, `later`) is a consent decision.
    Consent,
    /// As `Consent`, but only the pairs the person answered "ask me later" about before this
    /// run began: the question asked again, later (see `consent_later.toml`).
    ConsentLater,
    /// The resident's newest care plan: one item when staff have written one, none
    /// otherwise (the step is then passed by, to `next`). The template sees `plan.version`,
    /// `plan.sections` (each `title` and `text`) and `plan.agreed` (true, false or none).
    Plan,
}

/// The kinds of answer the engine understands.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Ask {
    /// Pick one option, by number or by word.
    Choice {
        /// The options, shown numbered.
        options: Vec<ChoiceOption>,
    },
    /// A number on a scale, or a word that means one ("good", "not great").
    Scale {
        /// Lowest value.
        min: i64,
        /// Highest value.
        max: i64,
        /// Words and the value each means.
        #[serde(default)]
        words: BTreeMap<String, i64>,
    },
    /// Yes or no, in the usual ways of saying them.
    YesNo,
    /// Any number, optionally bounded.
    Number {
        /// Smallest accepted.
        min: Option<f64>,
        /// Largest accepted.
        max: Option<f64>,
    },
    /// Free text, kept as the person wrote it.
    Text {
        /// Longer answers are kept up to this many characters, with a note.
        max_chars: Option<usize>,
    },
    /// A time of day ("10", "10:30", "2pm").
    Time,
    /// A calendar date ("2026-12-01", "today", "tomorrow").
    Date,
    /// One of the person's own goals (active or paused), by number or by its words; they
    /// are listed as numbered options. A person with none is told so and the flow ends.
    Goal,
}

/// One option of a choice.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// Stable value stored and used in branches.
    pub id: String,
    /// What the person sees, per language.
    pub label: BTreeMap<String, String>,
    /// Other words that pick this option.
    #[serde(default)]
    pub words: Vec<String>,
}

/// A conditional jump.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// Matches a yes/no (`"yes"`, `"no"`) or choice option id.
    pub when: Option<String>,
    /// Matches a number or scale answer at most this.
    pub at_most: Option<f64>,
    /// Matches a number or scale answer at least this.
    pub at_least: Option<f64>,
    /// Where to go when it matches.
    pub next: Spanned<String>,
    /// Come back to this step once `next` is answered (and any steps it branches into), in
    /// place of carrying on past it: a correction changes only the part chosen, then shows
    /// the read-back again.
    #[serde(default)]
    pub then: Option<Spanned<String>>,
}

/// Something a step does besides talking.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Raise an alert to staff that must be acknowledged.
    Alert {
        /// Who is told.
        to: Target,
        /// A short reason staff see ("low mood").
        reason: String,
        /// The `store` key of an earlier answer in this run to quote in the person's own words
        /// (default: the answer just given).
        quote: Option<String>,
    },
    /// Stop prompting the person until they say `start`.
    Pause,
    /// Prompt the person again.
    Resume,
    /// Record a care-plan review of the resident this staff flow is about, from the answers
    /// `review_date` (date), `took_part` (yes/no) and `next_due` (date), and tell the
    /// resident, with what was agreed (`outcome`, a text answer, in the staff's words) if asked.
    RecordReview,
    /// Make the choice stored under `from` (`daily` or `weekly`) how often this family member
    /// gets updates.
    SetUpdateCadence {
        /// The `store` key of a choice with options `daily` and `weekly`.
        from: String,
    },
    /// Make the time-of-day answer stored under `from` the person's daily check-in time.
    SetCheckinTime {
        /// The `store` key of a `time` answer in this run.
        from: String,
    },
    /// Pass the words stored under `from` at once to the person this flow is about (`about`):
    /// a family member's message to their resident, or a resident's answer to a member of
    /// their family. Checked against the access table; audited.
    Relay {
        /// The `store` key of a `text` answer in this run.
        from: String,
    },
    /// Make a tracked request of `kind` to `to` (as the request intents do): acknowledged
    /// like an alert, with the reminder ladder, and the resident told when it is seen and
    /// closed. The step's own text is what the resident is told.
    Request {
        /// The request's kind (`goals`, `review`, …): `request_what_<kind>` in `system.toml`
        /// names it for the resident.
        kind: String,
        /// Who hears about it.
        to: Target,
        /// What staff read ("would like to talk about their goals").
        reason: String,
        /// The `store` key of an earlier answer in this run to quote to staff in the
        /// person's own words (default: none).
        quote: Option<String>,
    },
    /// Record the resident's answer about the care plan they were shown (a `for_each =
    /// "plan"` step): agreed or not, with the plan's version and exact text, and what they
    /// would like different in their own words. Audited; nothing overwritten.
    Plan {
        /// The `store` key of the plan step's choice: `agree` or `not_agree`.
        answer: String,
        /// The `store` key of a `text` answer: what they would like to be different.
        words: Option<String>,
    },
    /// Change one of the resident's own goals (see `goals.toml`). Only the resident's own
    /// goals, only by the resident; audited; kept in the goal's history.
    Goal {
        /// What to do.
        change: GoalOp,
        /// The `store` key of a `goal` question: which goal (not for `add`).
        goal: Option<String>,
        /// The `store` key of the new words (`add`, `reword`, a `text` question) or of the
        /// choice of how often (`often`).
        from: Option<String>,
    },
}

/// What a `goal` action does to one of the resident's goals.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GoalOp {
    /// A new goal, in the words stored under `from`.
    Add,
    /// New words (stored under `from`) for the goal stored under `goal`.
    Reword,
    /// How often it is asked about: a choice stored under `from` with options `daily`,
    /// `some_days` and `weekly`.
    Often,
    /// Pause it, or restart it when it is paused.
    Pause,
    /// Achieved: celebrated, kept in their history, no longer asked about.
    Achieved,
    /// Dropped: kept in their history, no longer asked about.
    Drop,
}

/// Who an alert goes to.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The resident's keyworker(s).
    Keyworker,
    /// The home's manager(s).
    Manager,
}

/// A loaded flow at one version.
#[derive(Debug)]
pub struct Flow {
    /// The file as written.
    pub doc: FlowDoc,
    /// Content hash: conversations are pinned to it.
    pub version: String,
    /// The file's text, kept so the version can be stored and reloaded later.
    pub source: String,
    index: HashMap<String, usize>,
}

impl Flow {
    /// Wraps a parsed document; `version` identifies `source`.
    pub fn new(doc: FlowDoc, source: String, version: String) -> Self {
        let index = doc
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.get_ref().clone(), i))
            .collect();
        Self {
            doc,
            version,
            source,
            index,
        }
    }

    /// The flow's id.
    pub fn id(&self) -> &str {
        self.doc.flow.id.get_ref()
    }

    /// The first step's id.
    pub fn start(&self) -> &str {
        self.doc.flow.start.get_ref()
    }

    /// A step by id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.index.get(id).and_then(|&i| self.doc.steps.get(i))
    }
}

impl Step {
    /// The text for `lang`, falling back to the default language.
    pub fn text(&self, lang: &str) -> Option<&str> {
        self.say
            .get(lang)
            .or_else(|| self.say.get(super::DEFAULT_LANGUAGE))
            .map(|s| s.get_ref().as_str())
    }
}
