//! What a chat platform tells Carebot about the security of an account: the cryptographic
//! identity an account was linked with (so a change can be noticed and health text held back),
//! and messages that arrived but could not be read.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
use super::people::Identity;
use super::turn::{queue_message, record_inbound, InboundKey, NewOutbox};
use super::{with_db, with_read, Result, Store};
use carebot_engine::ids::PersonId;
use serde_json::json;
use sqlx::Row;

/// The identity key on record for a linked account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// The person the account is linked to.
    pub person: PersonId,
    /// The fingerprint seen first after linking, if any yet.
    pub fingerprint: Option<String>,
    /// When a different one was first seen (health text is held back while set).
    pub changed_ms: Option<i64>,
}

impl Store {
    /// The identity key on record for `account`, when it is linked.
    pub async fn identity_key(&self, account: &Identity) -> Result<Option<KeyRecord>> {
        with_read!(self, pool => sqlx::query(
            "SELECT person_id, key_fingerprint, key_changed_ms FROM identities
             WHERE platform = $1 AND address = $2 AND revoked_ms IS NULL")
            .bind(&account.platform).bind(&account.address).fetch_optional(pool).await?
            .map(|r| Ok(KeyRecord {
                person: PersonId(r.try_get("person_id")?),
                fingerprint: r.try_get("key_fingerprint")?,
                changed_ms: r.try_get("key_changed_ms")?,
            }))
            .transpose())
    }

    /// Records `fingerprint` as the account's identity, if none is recorded yet.
    pub async fn pin_identity_key(&self, account: &Identity, fingerprint: &str) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "UPDATE identities SET key_fingerprint = $3
             WHERE platform = $1 AND address = $2 AND key_fingerprint IS NULL")
            .bind(&account.platform).bind(&account.address).bind(fingerprint)
            .execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Marks the account's identity as changed (once), with an audit row.
    pub async fn mark_identity_key_changed(&self, account: &Identity, now_ms: i64) -> Result<()> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let person: Option<(i64,)> = c
            .fetch_optional(
                Sql::new(
                    "UPDATE identities SET key_changed_ms = $3
                     WHERE platform = $1 AND address = $2 AND key_changed_ms IS NULL RETURNING person_id",
                )
                .bind(account.platform.as_str())
                .bind(account.address.as_str())
                .bind(now_ms),
            )
            .await?;
        if let Some((person,)) = person {
            let entry = AuditEntry {
                actor: "system".into(),
                action: "identity.key_changed".into(),
                subject: Some(PersonId(person)),
                detail: json!({ "platform": account.platform }),
            };
            audit::append(&mut c, &entry, now_ms).await?;
        }
        tx.commit().await
    }

    /// Records that the message `inbound` could not be read (`reason`, a code such as
    /// `m.unverified`), with `notice` to its sender, once. False when it was recorded before.
    pub async fn note_unreadable(
        &self,
        inbound: &InboundKey,
        reason: &str,
        notice: Option<&NewOutbox>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let fresh = record_inbound(&mut c, inbound, now_ms).await?;
        if fresh {
            c.execute(
                Sql::new(
                    "INSERT INTO unreadable_messages (platform, event_id, reason, received_ms) VALUES ($1, $2, $3, $4)
                     ON CONFLICT DO NOTHING",
                )
                .bind(inbound.platform.as_str())
                .bind(inbound.event_id.as_str())
                .bind(reason)
                .bind(now_ms),
            )
            .await?;
            if let Some(o) = notice {
                queue_message(&mut c, o, now_ms).await?;
            }
            tx.commit().await?;
        }
        Ok(fresh)
    }

    /// Per platform, how many messages could not be read.
    pub async fn unreadable_counts(&self) -> Result<Vec<(String, i64)>> {
        with_read!(self, pool => sqlx::query(
            "SELECT platform, COUNT(*) AS n FROM unreadable_messages GROUP BY platform ORDER BY platform")
            .fetch_all(pool).await?
            .into_iter().map(|r| Ok((r.try_get("platform")?, r.try_get("n")?))).collect())
    }
}
