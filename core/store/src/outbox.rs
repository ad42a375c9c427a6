//! The outbox: claiming messages due for delivery and settling them.
//!
//! A claim leases rows by pushing `next_attempt_ms` past the lease, so another instance (on
//! PostgreSQL) or a restarted one picks up a message whose deliverer died. Only the oldest
//! pending message per recipient is claimable: people get messages in the order they were
//! written, even across retries.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
use super::{with_db, with_read, Result, Store, StoreError};
use carebot_engine::engine::OutMessage;
use carebot_engine::ids::{OutboxId, PersonId};
use sqlx::Row;

/// A message claimed for delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRow {
    /// Row id.
    pub id: OutboxId,
    /// Idempotency key for the platform.
    pub key: String,
    /// Recipient, when known.
    pub person: Option<PersonId>,
    /// Platform.
    pub platform: String,
    /// Where.
    pub address: String,
    /// What.
    pub message: OutMessage,
    /// Earlier attempts.
    pub attempts: i32,
    /// Parts of the message the platform has already accepted ([`Store::outbox_parts_sent`]).
    pub parts_sent: i32,
}

/// Where a queued message is: the outbox's `status` column. The schema's CHECK holds the same
/// four values; a value read back that is none of them is reported as corrupt, never guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting to be sent (due at `next_attempt_ms`), or being sent under a claim.
    Pending,
    /// The platform accepted it.
    Sent,
    /// Given up on after its attempts: a dead letter an operator looks at.
    Dead,
    /// Taken back before it went (consent withdrawn, a person erased).
    Withdrawn,
}

impl OutboxStatus {
    /// The value stored in the `status` column.
    pub const fn as_sql(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Dead => "dead",
            OutboxStatus::Withdrawn => "withdrawn",
        }
    }

    /// The status a stored value names.
    pub fn from_sql(value: &str) -> Result<Self> {
        [
            OutboxStatus::Pending,
            OutboxStatus::Sent,
            OutboxStatus::Dead,
            OutboxStatus::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_sql() == value)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown outbox status {value:?}")))
    }
}

/// Counts per platform and status, for `carebot status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxCount {
    /// Platform.
    pub platform: String,
    /// Which state.
    pub status: OutboxStatus,
    /// How many.
    pub count: i64,
}

/// What a message marked sent says about itself: about whom (a family update), to whom,
/// the consent categories it carries, and the platform.
type SentRow = (Option<i64>, Option<i64>, Option<String>, String);

impl Store {
    /// Claims up to `limit` messages for `platform` (and only `address`, when given) that are
    /// due at `now_ms`, leasing them until `lease_until_ms`. Sorted oldest first.
    ///
    /// A row still marked claimed had a deliverer that died with its lease: whether that
    /// attempt reached the platform is unknown, so it counts as one (`attempts` > 0 tells an
    /// adapter to look before it sends again, e.g. Matrix's timeline check).
    pub async fn claim_outbox(
        &self,
        platform: &str,
        address: Option<&str>,
        now_ms: i64,
        lease_until_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let skip_locked = if self.db().is_postgres() {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // Safe: `skip_locked` is one of two fixed strings above.
        let sql = format!(
            "UPDATE outbox SET next_attempt_ms = $4, claimed_ms = $2,
                 attempts = attempts + CASE WHEN claimed_ms IS NULL THEN 0 ELSE 1 END
             WHERE id IN (
                SELECT o.id FROM outbox o
                WHERE o.platform = $1 AND o.status = 'pending' AND o.next_attempt_ms <= $2
                  AND (CAST($5 AS TEXT) IS NULL OR o.address = $5)
                  AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.platform = o.platform AND e.address = o.address
                                  AND e.status = 'pending' AND e.id < o.id)
                ORDER BY o.id LIMIT $3 {skip_locked})
             RETURNING id, idem_key, person_id, platform, address, payload, attempts, parts_sent");
        let mut out = with_db!(self, pool => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(platform).bind(now_ms).bind(limit).bind(lease_until_ms).bind(address).fetch_all(pool).await?
            .into_iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                Ok(OutboxRow {
                    id: OutboxId(r.try_get("id")?),
                    key: r.try_get("idem_key")?,
                    person: r.try_get::<Option<i64>, _>("person_id")?.map(PersonId),
                    platform: r.try_get("platform")?,
                    address: r.try_get("address")?,
                    message: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    attempts: r.try_get("attempts")?,
                    parts_sent: r.try_get("parts_sent")?,
                })
            })
            .collect::<Result<Vec<_>>>()?);
        out.sort_by_key(|r| r.id.0);
        Ok(out)
    }

    /// The platform has accepted the first `parts` parts of message `id`: a retry sends only
    /// the rest (the count only grows).
    pub async fn outbox_parts_sent(&self, id: OutboxId, parts: i32) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "UPDATE outbox SET parts_sent = $2 WHERE id = $1 AND parts_sent < $2")
            .bind(id.0).bind(parts).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Delivered. A message about a resident (a family update) is a disclosure: it gets its
    /// audit row in the same transaction.
    pub async fn outbox_sent(&self, id: OutboxId, now_ms: i64) -> Result<()> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let row: Option<SentRow> = c
            .fetch_optional(
                Sql::new(
                    "UPDATE outbox SET status = 'sent', sent_ms = $2, attempts = attempts + 1, last_error = NULL, claimed_ms = NULL
                     WHERE id = $1 RETURNING about_id, person_id, categories, platform",
                )
                .bind(id.0)
                .bind(now_ms),
            )
            .await?;
        if let Some((Some(about), to, categories, platform)) = row {
            let categories: serde_json::Value = categories
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default();
            let entry = AuditEntry {
                actor: "carebot".into(),
                action: "update.delivered".into(),
                subject: Some(PersonId(about)),
                detail: serde_json::json!({
                    "to": to,
                    "categories": categories,
                    "platform": platform,
                    "outbox": id.0,
                }),
            };
            audit::append(&mut c, &entry, now_ms).await?;
        }
        tx.commit().await
    }

    /// Not delivered: try again at `retry_at_ms`, or give up (`None`: dead letter). `error`
    /// must not contain the message body.
    pub async fn outbox_failed(
        &self,
        id: OutboxId,
        retry_at_ms: Option<i64>,
        error: &str,
    ) -> Result<()> {
        let (status, next) = match retry_at_ms {
            Some(at) => (OutboxStatus::Pending, at),
            None => (OutboxStatus::Dead, 0),
        };
        with_db!(self, pool => sqlx::query(
            "UPDATE outbox SET status = $2, next_attempt_ms = CASE WHEN $2 = 'dead' THEN next_attempt_ms ELSE $3 END,
                 attempts = attempts + 1, last_error = $4, claimed_ms = NULL WHERE id = $1")
            .bind(id.0).bind(status.as_sql()).bind(next).bind(error).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Gives back the claims on `platform` (only `address`, when given) still held by a
    /// deliverer that stopped mid-send. Whether such a message arrived is unknown, so the
    /// claim counts as an attempt (an adapter checks before sending again) and the message is
    /// due at `now_ms`. Only for a database that one deliverer per platform serves (see
    /// `carebot_runtime::resume_deliveries`). Returns how many.
    pub async fn release_claims(
        &self,
        platform: &str,
        address: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        let done = with_db!(self, pool => sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $3, attempts = attempts + 1, claimed_ms = NULL,
                 last_error = 'outcome unknown: the deliverer stopped while sending'
             WHERE platform = $1 AND status = 'pending' AND claimed_ms IS NOT NULL
               AND (CAST($2 AS TEXT) IS NULL OR address = $2)")
            .bind(platform).bind(address).bind(now_ms).execute(pool).await?.rows_affected());
        Ok(done)
    }

    /// How many messages are in each state, per platform.
    pub async fn outbox_counts(&self) -> Result<Vec<OutboxCount>> {
        with_read!(self, pool => sqlx::query(
            "SELECT platform, status, COUNT(*) AS n FROM outbox GROUP BY platform, status ORDER BY platform, status")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok(OutboxCount {
                platform: r.try_get("platform")?,
                status: OutboxStatus::from_sql(&r.try_get::<String, _>("status")?)?,
                count: r.try_get("n")?,
            }))
            .collect())
    }
}

impl Store {
    /// The last message delivered to an address, to remind someone where a conversation was.
    pub async fn last_delivered(
        &self,
        platform: &str,
        address: &str,
    ) -> Result<Option<OutMessage>> {
        let payload: Option<String> = with_read!(self, pool => sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE platform = $1 AND address = $2 AND status = 'sent'
             ORDER BY id DESC LIMIT 1")
            .bind(platform).bind(address).fetch_optional(pool).await?);
        payload
            .map(|p| serde_json::from_str(&p).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }
}
