//! The care domain: who people are to each other, and what the engine may know about them.

pub mod consent;

pub use consent::{Basis, ConsentState, Decision, Relative};

use crate::ids::{GoalId, PersonId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a person is in the home. Roles bind to a person, and a chat account binds to a person
/// through its immutable platform id, never through a display name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Someone who lives in the home and owns their information.
    Resident,
    /// A relative or friend a resident may choose to share with.
    Family,
    /// The member of staff who looks after particular residents.
    Keyworker,
    /// Runs the home; receives escalations.
    Manager,
    /// Sets Carebot up; sees no care records through chat.
    Admin,
}

impl Role {
    /// The name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Family => "family",
            Role::Keyworker => "keyworker",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "resident" => Ok(Role::Resident),
            "family" => Ok(Role::Family),
            "keyworker" => Ok(Role::Keyworker),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "'{other}' is not a role; use resident, family, keyworker, manager or admin"
            )),
        }
    }
}

/// A goal of the resident's, in their own words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// Its id.
    pub id: GoalId,
    /// "walk to the garden".
    pub text: String,
    /// Whether it is asked about, paused, or only a suggestion from staff.
    #[serde(default)]
    pub state: GoalState,
    /// How often the check-in asks about it.
    #[serde(default)]
    pub cadence: Cadence,
    /// For a suggestion: who suggested it ("Kim Lee"), when known.
    #[serde(default)]
    pub suggested_by: Option<String>,
}

impl Goal {
    /// An active goal asked about every day.
    pub fn active(id: GoalId, text: impl Into<String>) -> Self {
        Self {
            id,
            text: text.into(),
            state: GoalState::Active,
            cadence: Cadence::Daily,
            suggested_by: None,
        }
    }
}

/// Where a goal stands. Only the resident moves a goal between these (staff only suggest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalState {
    /// Theirs, and asked about in the check-in.
    #[default]
    Active,
    /// Theirs, but not asked about until they restart it.
    Paused,
    /// Suggested by staff; asked about only once the resident says it is theirs.
    Suggested,
    /// Done: celebrated, and kept in their history.
    Achieved,
    /// Dropped by the resident (kept in their history).
    Dropped,
    /// A suggestion the resident said was not theirs.
    Declined,
}

impl GoalState {
    /// The word stored in the `goals.state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            GoalState::Active => "active",
            GoalState::Paused => "paused",
            GoalState::Suggested => "suggested",
            GoalState::Achieved => "achieved",
            GoalState::Dropped => "dropped",
            GoalState::Declined => "declined",
        }
    }
}

impl std::str::FromStr for GoalState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "active" => GoalState::Active,
            "paused" => GoalState::Paused,
            "suggested" => GoalState::Suggested,
            "achieved" => GoalState::Achieved,
            "dropped" => GoalState::Dropped,
            "declined" => GoalState::Declined,
            other => return Err(format!("unknown goal state '{other}'")),
        })
    }
}

/// How often the check-in asks about a goal, as the resident chose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every check-in.
    #[default]
    Daily,
    /// Mondays, Wednesdays and Fridays.
    SomeDays,
    /// Sundays.
    Weekly,
}

impl Cadence {
    /// The word stored in the `goals.cadence` column and used as a choice id.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::SomeDays => "some_days",
            Cadence::Weekly => "weekly",
        }
    }

    /// Whether a check-in on `day` (the home's local weekday) asks about it.
    pub fn due(self, day: chrono::Weekday) -> bool {
        use chrono::Weekday::{Fri, Mon, Sun, Wed};
        match self {
            Cadence::Daily => true,
            Cadence::SomeDays => matches!(day, Mon | Wed | Fri),
            Cadence::Weekly => day == Sun,
        }
    }
}

impl std::str::FromStr for Cadence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "daily" => Cadence::Daily,
            "some_days" => Cadence::SomeDays,
            "weekly" => Cadence::Weekly,
            other => return Err(format!("unknown goal cadence '{other}'")),
        })
    }
}

/// A change the resident makes to their goals (or to a suggestion staff made).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum GoalChange {
    /// A new goal in their words.
    Add {
        /// The goal, as they said it.
        text: String,
    },
    /// New words for a goal.
    Reword {
        /// The new words.
        text: String,
    },
    /// How often it is asked about.
    Often {
        /// How often, now.
        cadence: Cadence,
    },
    /// Not asked about for now.
    Pause,
    /// Asked about again.
    Restart,
    /// Done: celebrated, kept in their history.
    Achieved,
    /// No longer theirs.
    Drop,
    /// A suggestion taken as it is.
    Accept,
    /// A suggestion taken in their own words.
    AcceptAs {
        /// Their words for it.
        text: String,
    },
    /// A suggestion that is not theirs.
    Decline,
}

impl GoalChange {
    /// Its name in the audit and the goal's history (never the words).
    pub fn name(&self) -> &'static str {
        match self {
            GoalChange::Add { .. } => "added",
            GoalChange::Reword { .. } => "reworded",
            GoalChange::Often { .. } => "cadence",
            GoalChange::Pause => "paused",
            GoalChange::Restart => "restarted",
            GoalChange::Achieved => "achieved",
            GoalChange::Drop => "dropped",
            GoalChange::Accept => "accepted",
            GoalChange::AcceptAs { .. } => "accepted_reworded",
            GoalChange::Decline => "declined",
        }
    }

    /// The state a goal is in after it; `None` when the state does not change.
    pub fn state_after(&self) -> Option<GoalState> {
        Some(match self {
            GoalChange::Add { .. } | GoalChange::Restart => GoalState::Active,
            GoalChange::Accept | GoalChange::AcceptAs { .. } => GoalState::Active,
            GoalChange::Pause => GoalState::Paused,
            GoalChange::Achieved => GoalState::Achieved,
            GoalChange::Drop => GoalState::Dropped,
            GoalChange::Decline => GoalState::Declined,
            GoalChange::Reword { .. } | GoalChange::Often { .. } => return None,
        })
    }

    /// The states a goal may be in for this change to apply (an old button pressed twice
    /// changes nothing).
    pub fn applies_to(&self) -> &'static [GoalState] {
        use GoalState::{Active, Paused, Suggested};
        match self {
            GoalChange::Add { .. } => &[],
            GoalChange::Accept | GoalChange::AcceptAs { .. } | GoalChange::Decline => &[Suggested],
            GoalChange::Pause => &[Active],
            GoalChange::Restart => &[Paused],
            GoalChange::Reword { .. }
            | GoalChange::Often { .. }
            | GoalChange::Achieved
            | GoalChange::Drop => &[Active, Paused],
        }
    }

    /// The goal's new words, if it has them.
    pub fn text(&self) -> Option<&str> {
        match self {
            GoalChange::Add { text }
            | GoalChange::Reword { text }
            | GoalChange::AcceptAs { text } => Some(text),
            _ => None,
        }
    }
}

/// Everything the engine may know about the person it is talking to, loaded by the runtime
/// before each turn. The engine sees nothing about anyone else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The person.
    pub id: PersonId,
    /// Their name as they like to be called.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Preferred language code (`en`).
    pub language: String,
    /// Every goal of theirs, oldest first: active, paused, suggested by staff, achieved or
    /// dropped (the check-in asks only about the active ones due that day). Kept whole so a
    /// goal's place in the list never moves during a check-in.
    pub goals: Vec<Goal>,
    /// Their keyworker's name, if they have one.
    pub keyworker: Option<String>,
    /// The home's name.
    pub home_name: String,
    /// A phone number that reaches a person at the home.
    pub home_phone: String,
    /// For a resident: their family members.
    #[serde(default)]
    pub family: Vec<Relative>,
    /// For a resident: the consent decisions in force.
    #[serde(default)]
    pub consents: Vec<ConsentState>,
    /// For a family member: the residents they are family of.
    #[serde(default)]
    pub family_of: Vec<Relative>,
    /// For a keyworker or manager: the residents they look after.
    #[serde(default)]
    pub caring_for: Vec<Relative>,
    /// For a resident: their recent number answers, for rules like "low three days running".
    #[serde(default)]
    pub recent: Vec<RecentNumber>,
    /// For a keyworker or manager: the numbers of the unacknowledged alerts about the
    /// residents they look after, so `ack` says truthfully whether it did anything.
    #[serde(default)]
    pub open_alerts: Vec<i64>,
    /// For a keyworker or manager: each resident they look after who has a daily check-in
    /// time, with the local date ("YYYY-MM-DD") of their last completed check-in, so "who
    /// hasn't checked in" can be answered.
    #[serde(default)]
    pub expected_checkins: Vec<(PersonId, Option<String>)>,
    /// For a resident: their own requests (a complaint, an advocate, help with something),
    /// newest first, so "what have I asked for?" can be answered.
    #[serde(default)]
    pub requests: Vec<RequestSummary>,
    /// For a keyworker or manager: the requests about the residents they look after that are
    /// not closed yet, oldest first, so `close` says truthfully whether it did anything and
    /// "requests" can list them.
    #[serde(default)]
    pub open_requests: Vec<OpenRequest>,
    /// For a keyworker or manager: each resident they look after who has a review date, with
    /// that date ("YYYY-MM-DD"), soonest first, so "reviews due" can be answered.
    #[serde(default)]
    pub reviews_due: Vec<(PersonId, String)>,
    /// For a resident: the newest version of their care plan, if staff have written one.
    #[serde(default)]
    pub plan: Option<CarePlan>,
}

/// A resident's care plan at one version, in plain sections staff wrote
/// (`carebot plan-set`), for the resident to read and agree to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarePlan {
    /// Its row id (one per version).
    pub id: i64,
    /// 1 for the first plan, then one more each time staff write it again.
    pub version: i64,
    /// "What matters to me", "How I like to be supported", …, in order.
    pub sections: Vec<PlanSection>,
    /// The resident's latest answer about this version: agreed (`Some(true)`), not agreed
    /// (`Some(false)`), or not yet asked (`None`).
    pub agreed: Option<bool>,
}

impl CarePlan {
    /// The plan as one text, every section in order: what an agreement is recorded against.
    pub fn text(&self) -> String {
        let mut text = format!("Care plan, version {}", self.version);
        for s in &self.sections {
            text.push_str(&format!("\n\n{}\n{}", s.title, s.text));
        }
        text
    }
}

/// One section of a care plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSection {
    /// Its heading ("What matters to me").
    pub title: String,
    /// What it says, in plain words.
    pub text: String,
}

/// A request not closed yet, as its staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// Its number (the alert's id).
    pub number: i64,
    /// Its kind (`complaint`, `help`).
    pub kind: String,
    /// Whose request it is.
    pub resident: PersonId,
    /// What staff were told it is ("would like an advocate").
    pub reason: String,
}

/// One of a resident's requests, as they may read it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSummary {
    /// Its number.
    pub id: i64,
    /// Its kind: the request intent's id (`complaint`) or a concern category's `request`.
    pub kind: String,
    /// When it was made (epoch ms).
    pub at_ms: i64,
    /// Whether a member of staff has seen it (acknowledged or closed it).
    pub seen: bool,
    /// Who, when their name is still on record.
    pub seen_by: Option<String>,
    /// What was done, in staff's words, once it is closed.
    pub outcome: Option<String>,
}

/// A number a person gave recently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentNumber {
    /// The answer's `store` key.
    pub key: String,
    /// The value.
    pub value: f64,
    /// When (epoch ms).
    pub at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday::*;

    #[test]
    fn a_goal_is_asked_about_on_the_days_its_cadence_names() {
        let week = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
        let days = |c: Cadence| week.iter().filter(|d| c.due(**d)).count();
        assert_eq!(days(Cadence::Daily), 7);
        assert_eq!(days(Cadence::SomeDays), 3);
        assert!(Cadence::SomeDays.due(Mon) && !Cadence::SomeDays.due(Tue));
        assert_eq!(days(Cadence::Weekly), 1);
        assert!(Cadence::Weekly.due(Sun));
    }

    #[test]
    fn each_change_applies_only_where_it_makes_sense() {
        use GoalState::*;
        assert!(GoalChange::Pause.applies_to().contains(&Active));
        assert!(!GoalChange::Pause.applies_to().contains(&Paused));
        assert!(GoalChange::Restart.applies_to().contains(&Paused));
        // A suggestion is taken or declined only while it is one.
        assert_eq!(GoalChange::Accept.applies_to(), [Suggested]);
        assert!(!GoalChange::Achieved.applies_to().contains(&Suggested));
        assert!(!GoalChange::Drop.applies_to().contains(&Achieved));
        for s in [
            "active",
            "paused",
            "suggested",
            "achieved",
            "dropped",
            "declined",
        ] {
            assert_eq!(s.parse::<GoalState>().map(GoalState::as_str), Ok(s));
        }
    }
}
