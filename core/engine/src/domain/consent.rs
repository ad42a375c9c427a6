//! Consent: what a resident has said each family member may hear about them. A family
//! member's word alone is never consent; staff may record a decision for a resident who cannot
//! make it only with a lawful basis (see [`Basis`]). The bot never decides.

use crate::ids::PersonId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A resident's answer about one category for one family member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// May be shared.
    Yes,
    /// Must not be shared.
    No,
    /// Not yet: treated as no until they say yes.
    Later,
}

impl Decision {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Yes => "yes",
            Decision::No => "no",
            Decision::Later => "later",
        }
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "yes" => Ok(Decision::Yes),
            "no" => Ok(Decision::No),
            "later" => Ok(Decision::Later),
            other => Err(format!(
                "'{other}' is not a consent decision; use yes, no or later"
            )),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a decision recorded by staff stands for the resident's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    /// The resident decided (in chat, or in person with staff recording it).
    Resident,
    /// A registered health-and-welfare Lasting Power of Attorney: the attorney's name.
    Lpa(String),
    /// A Court of Protection deputy: the deputy's name.
    Deputy(String),
    /// A best-interests decision: why, as recorded by the decision maker.
    BestInterests(String),
}

impl Basis {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Basis::Resident => "self",
            Basis::Lpa(_) => "lpa",
            Basis::Deputy(_) => "deputy",
            Basis::BestInterests(_) => "best_interests",
        }
    }

    /// The named person or the reasons.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Basis::Resident => None,
            Basis::Lpa(s) | Basis::Deputy(s) | Basis::BestInterests(s) => Some(s),
        }
    }
}

/// A family member, as a resident's conversation may name them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relative {
    /// Their id.
    pub id: PersonId,
    /// Their name.
    pub name: String,
}

/// The decision in force for one family member and category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    /// Who may (or may not) hear.
    pub family: PersonId,
    /// Category id (`mood`).
    pub category: String,
    /// The latest decision.
    pub decision: Decision,
    /// When it was made (epoch ms).
    #[serde(default)]
    pub decided_ms: i64,
}
