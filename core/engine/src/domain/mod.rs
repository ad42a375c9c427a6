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

/// A care-plan goal, in the resident's own words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// Its id.
    pub id: GoalId,
    /// "walk to the garden".
    pub text: String,
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
    /// Their active goals, oldest first.
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
