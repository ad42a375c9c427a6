//! Care-plan reviews: who is due when, what the resident wants to raise, and queuing a
//! message to a resident's staff.

use super::sql::{outbox_insert, reachable_staff};
use super::turn::payload;
use super::{with_db, with_read, Result, Store};
use carebot_engine::engine::OutMessage;
use carebot_engine::ids::PersonId;
use sqlx::Row;

/// A resident's next review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewDue {
    /// The resident.
    pub resident: PersonId,
    /// Their name.
    pub name: String,
    /// "YYYY-MM-DD".
    pub next_due: String,
}

impl Store {
    /// Every resident's next review.
    pub async fn reviews(&self) -> Result<Vec<ReviewDue>> {
        with_read!(self, pool => sqlx::query(
            "SELECT r.person_id, p.display_name, r.next_due FROM reviews r JOIN people p ON p.id = r.person_id ORDER BY r.next_due, p.id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok(ReviewDue { resident: PersonId(r.try_get("person_id")?), name: r.try_get("display_name")?, next_due: r.try_get("next_due")? }))
            .collect())
    }

    /// The resident's latest answer about what to raise at their review, since `since_ms`.
    pub async fn review_topics(&self, resident: PersonId, since_ms: i64) -> Result<Option<String>> {
        Ok(with_read!(self, pool => sqlx::query_scalar(
            "SELECT raw FROM answers WHERE person_id = $1 AND answer_key = 'review_topics' AND answered_ms >= $2 ORDER BY id DESC LIMIT 1")
            .bind(resident.0).bind(since_ms).fetch_optional(pool).await?))
    }

    /// Queues `message` once (per `key`) to every active `relation` ("keyworker" or
    /// "manager") of `resident` who has a chat account. Returns how many were queued.
    pub async fn queue_to_staff(
        &self,
        resident: PersonId,
        relation: &str,
        key: &str,
        message: &OutMessage,
        now_ms: i64,
    ) -> Result<u64> {
        Ok(with_db!(self, pool => sqlx::query(
            concat!(
                outbox_insert!(),
                "SELECT $1 || '.' || i.platform || '.' || i.address, r.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                reachable_staff!(resident = "$5", relation = "r.relation = $6"),
                "ON CONFLICT (idem_key) DO NOTHING"
            ))
            .bind(key).bind(payload(message)?).bind(message.sensitive).bind(now_ms).bind(resident.0).bind(relation)
            .execute(pool).await?.rows_affected()))
    }
}
