//! Reading stored answers back (for read-back, digests, export and tests).

use super::{with_read, Result, Store, StoreError};
use carebot_engine::ids::{GoalId, PersonId};
use sqlx::Row;

/// An answer as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAnswer {
    /// Flow id.
    pub flow: String,
    /// Run id.
    pub run: i64,
    /// Step id.
    pub step: String,
    /// The step's store key.
    pub key: String,
    /// Goal asked about.
    pub goal: Option<GoalId>,
    /// Understood value.
    pub value: serde_json::Value,
    /// What the person wrote.
    pub raw: String,
    /// Original length when `raw` was capped.
    pub truncated_from: Option<i64>,
    /// When.
    pub answered_ms: i64,
}

impl Store {
    /// Every answer a person has given, oldest first.
    pub async fn answers_of(&self, person: PersonId) -> Result<Vec<StoredAnswer>> {
        with_read!(self, pool => sqlx::query(
            "SELECT flow, run, step, answer_key, goal_id, value, raw, truncated_from, answered_ms
             FROM answers WHERE person_id = $1 ORDER BY id")
            .bind(person.0).fetch_all(pool).await?
            .into_iter()
            .map(|r| {
                let value: String = r.try_get("value")?;
                Ok(StoredAnswer {
                    flow: r.try_get("flow")?,
                    run: r.try_get("run")?,
                    step: r.try_get("step")?,
                    key: r.try_get("answer_key")?,
                    goal: r.try_get::<Option<i64>, _>("goal_id")?.map(GoalId),
                    value: serde_json::from_str(&value).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    raw: r.try_get("raw")?,
                    truncated_from: r.try_get("truncated_from")?,
                    answered_ms: r.try_get("answered_ms")?,
                })
            })
            .collect())
    }
}
