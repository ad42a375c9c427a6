//! The last rung of the safeguarding ladder: an alert that no member of staff can receive by
//! message (nobody has a linked account, or every message about it was dead-lettered) is
//! handed back to the resident, once, with a phone number.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
use super::turn::{queue_message, NewOutbox};
use super::{with_read, Result, Store};
use carebot_engine::ids::{AlertId, PersonId};
use sqlx::Row;

impl Store {
    /// Unacknowledged alerts in the resident's own words (urgent help, concerns) that have
    /// already gone up the ladder (escalated, or raised straight to managers) and that no
    /// message to anyone can still deliver: none pending, none sent. The resident has not yet
    /// been told. Alerts without words (missed check-ins) are left to `carebot status`: the
    /// resident did not ask for anything. Only alerts raised since `since_ms` (a day ago): an
    /// older one's messages may have been deleted by retention, which is not a failure.
    pub async fn alerts_nobody_can_receive(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(AlertId, PersonId)>> {
        with_read!(self, pool => sqlx::query(
            "SELECT a.id, a.person_id FROM alerts a
             WHERE a.acked_ms IS NULL AND a.resident_told_ms IS NULL AND a.words IS NOT NULL AND a.created_ms >= $1
               AND (a.escalated_ms IS NOT NULL OR a.target <> 'keyworker')
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.status IN ('pending', 'sent')
                   AND (o.idem_key LIKE 'alert.' || CAST(a.id AS TEXT) || '.%'
                     OR o.idem_key LIKE 'esc.' || CAST(a.id AS TEXT) || '.%'
                     OR o.idem_key LIKE 'oncall.' || CAST(a.id AS TEXT) || '.%'))
             ORDER BY a.id")
            .bind(since_ms).fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((AlertId(r.try_get("id")?), PersonId(r.try_get("person_id")?))))
            .collect())
    }

    /// Marks `alert` as handed back to its resident and queues `message` to them (when they
    /// have an account), audited, once. Returns whether this call did it.
    pub async fn tell_resident_nobody_was_reached(
        &self,
        alert: AlertId,
        message: Option<&NewOutbox>,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let (resident,): (i64,) = c
            .fetch_one(Sql::new("SELECT person_id FROM alerts WHERE id = $1").bind(alert.0))
            .await?;
        let first = c
            .execute(
                Sql::new("UPDATE alerts SET resident_told_ms = $2 WHERE id = $1 AND resident_told_ms IS NULL")
                    .bind(alert.0)
                    .bind(now_ms),
            )
            .await?
            == 1;
        if !first {
            return Ok(false);
        }
        let queued = match message {
            Some(m) => queue_message(&mut c, m, now_ms).await?,
            None => 0,
        };
        let entry = AuditEntry {
            actor: "carebot".into(),
            action: "alert.undeliverable".into(),
            subject: Some(PersonId(resident)),
            detail: serde_json::json!({ "alert": alert.0, "resident_told": queued == 1 }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }
}
