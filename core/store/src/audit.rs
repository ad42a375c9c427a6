//! The audit log: append-only, each row carrying the hash of the one before it, so a changed
//! or deleted row breaks the chain and `carebot audit verify` finds it.
//!
//! Rows record who did what about whom (a consent change, an account linked, a disclosure),
//! never message bodies.

use super::conn::{Conn, Sql};
use super::{with_read, Result, Store, StoreError};
use carebot_engine::ids::PersonId;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One thing to record.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    /// Who did it: `person:12`, `cli:kim`, `carebot`.
    pub actor: String,
    /// What: `consent.recorded`, `identity.linked`, `update.disclosed`.
    pub action: String,
    /// Whom it is about.
    pub subject: Option<PersonId>,
    /// Details as JSON (ids, categories, decisions; never message bodies).
    pub detail: serde_json::Value,
}

/// The hash of a row, from its fields and the previous row's hash.
pub fn row_hash(
    prev: &str,
    at_ms: i64,
    actor: &str,
    action: &str,
    subject: Option<i64>,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &at_ms.to_string(),
        actor,
        action,
        &subject.map(|s| s.to_string()).unwrap_or_default(),
        detail,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends `entry` inside the transaction of `c` (taking the chain's lock on PostgreSQL, so
/// two instances cannot both extend the same row).
pub(crate) async fn append(c: &mut Conn<'_>, entry: &AuditEntry, now_ms: i64) -> Result<()> {
    if c.is_postgres() {
        c.execute(Sql::new("SELECT pg_advisory_xact_lock(7301)"))
            .await?;
    }
    let prev: Option<(String,)> = c
        .fetch_optional(Sql::new(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1",
        ))
        .await?;
    let prev = prev.map_or_else(|| GENESIS.to_string(), |(hash,)| hash);
    let detail = entry.detail.to_string();
    let subject = entry.subject.map(|s| s.0);
    let hash = row_hash(&prev, now_ms, &entry.actor, &entry.action, subject, &detail);
    c.execute(
        Sql::new("INSERT INTO audit_log (at_ms, actor, action, subject_id, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(now_ms)
            .bind(entry.actor.as_str())
            .bind(entry.action.as_str())
            .bind(subject)
            .bind(detail)
            .bind(prev)
            .bind(hash),
    )
    .await?;
    Ok(())
}

/// An audit row as stored, for checking.
struct StoredRow {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    subject: Option<i64>,
    detail: String,
    prev_hash: String,
    hash: String,
}

/// The result of checking the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainCheck {
    /// Every row's hash matches and links to the one before.
    Intact {
        /// Rows checked.
        rows: usize,
    },
    /// The first row that does not match.
    Broken {
        /// Its id.
        id: i64,
    },
}

impl Store {
    /// Appends one entry in its own transaction.
    pub async fn audit(&self, entry: &AuditEntry, now_ms: i64) -> Result<()> {
        let mut tx = self.db().begin().await?;
        append(&mut tx.conn(), entry, now_ms).await?;
        tx.commit().await
    }

    /// Recomputes every hash in order.
    pub async fn verify_audit(&self) -> Result<ChainCheck> {
        let rows: Vec<StoredRow> = with_read!(self, pool => sqlx::query(
            "SELECT id, at_ms, actor, action, subject_id, detail, prev_hash, hash FROM audit_log ORDER BY id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok(StoredRow {
                id: r.try_get("id")?,
                at_ms: r.try_get("at_ms")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                subject: r.try_get("subject_id")?,
                detail: r.try_get("detail")?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut prev = GENESIS.to_string();
        for row in &rows {
            let expected = row_hash(
                &prev,
                row.at_ms,
                &row.actor,
                &row.action,
                row.subject,
                &row.detail,
            );
            if row.prev_hash != prev || row.hash != expected {
                return Ok(ChainCheck::Broken { id: row.id });
            }
            prev = row.hash.clone();
        }
        Ok(ChainCheck::Intact { rows: rows.len() })
    }

    /// The audit rows about `person`, oldest first: (action, actor, detail).
    pub async fn audit_of(
        &self,
        person: PersonId,
    ) -> Result<Vec<(String, String, serde_json::Value)>> {
        with_read!(self, pool => sqlx::query("SELECT action, actor, detail FROM audit_log WHERE subject_id = $1 ORDER BY id")
            .bind(person.0).fetch_all(pool).await?
            .into_iter()
            .map(|r| {
                let detail: String = r.try_get("detail")?;
                Ok((r.try_get("action")?, r.try_get("actor")?, serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(e.to_string()))?))
            })
            .collect())
    }
}
