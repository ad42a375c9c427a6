//! Alerts to staff: which are still unacknowledged, and passing one on to the resident's
//! manager when its keyworker has not acknowledged it in time; and residents' requests still
//! open when the home's procedure says they should have been answered.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
use super::sql::{outbox_insert, reachable_staff};
use super::turn::payload;
use super::{with_read, Result, Store};
use carebot_engine::engine::OutMessage;
use carebot_engine::ids::{AlertId, PersonId};
use sqlx::Row;

/// An alert nobody has acknowledged yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenAlert {
    /// Its number (what staff type after "ack").
    pub id: AlertId,
    /// The resident it is about.
    pub resident: PersonId,
    /// Their name.
    pub resident_name: String,
    /// Why.
    pub reason: String,
    /// The resident's own words.
    pub words: Option<String>,
    /// When it was raised.
    pub created_ms: i64,
}

/// A resident's request that is not closed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenRequest {
    /// Its number (what staff type after "close").
    pub id: AlertId,
    /// The resident who made it.
    pub resident: PersonId,
    /// Their name.
    pub resident_name: String,
    /// What staff read ("would like to make a complaint").
    pub reason: String,
    /// Its kind (`complaint`).
    pub kind: String,
    /// Who it went to (`keyworker`, `manager`).
    pub target: String,
    /// When it was made.
    pub created_ms: i64,
}

impl Store {
    /// Keyworker alerts to pass on: unacknowledged, not yet escalated, and either raised at or
    /// before `cutoff_ms` or with no keyworker message still able to arrive (none was queued
    /// because no keyworker has an account, or every one was dead-lettered). Those are not
    /// left to wait out the acknowledgement time.
    pub async fn alerts_to_escalate(&self, cutoff_ms: i64) -> Result<Vec<OpenAlert>> {
        with_read!(self, pool => sqlx::query(
            "SELECT a.id, a.person_id, p.display_name, a.reason, a.words, a.created_ms FROM alerts a JOIN people p ON p.id = a.person_id
             WHERE a.acked_ms IS NULL AND a.escalated_ms IS NULL AND a.target = 'keyworker'
               AND (a.created_ms <= $1 OR NOT EXISTS (SELECT 1 FROM outbox o
                    WHERE o.idem_key LIKE 'alert.' || CAST(a.id AS TEXT) || '.%' AND o.status IN ('pending', 'sent')))
             ORDER BY a.id")
            .bind(cutoff_ms).fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok(OpenAlert {
                id: AlertId(r.try_get("id")?),
                resident: PersonId(r.try_get("person_id")?),
                resident_name: r.try_get("display_name")?,
                reason: r.try_get("reason")?,
                words: r.try_get("words")?,
                created_ms: r.try_get("created_ms")?,
            }))
            .collect())
    }

    /// Passes `alert` to the resident's managers and to the on-call member of staff
    /// (`on_call`, a handle; only a keyworker or manager, and not twice to someone who is also
    /// the resident's manager), once, with `message`, audited. Returns how many accounts it was
    /// queued for (0: nobody could be reached; the alert still counts as escalated, and the
    /// resident is told separately).
    pub async fn escalate_alert(
        &self,
        alert: &OpenAlert,
        message: &OutMessage,
        on_call: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let first = c
            .execute(
                Sql::new("UPDATE alerts SET escalated_ms = $2 WHERE id = $1 AND escalated_ms IS NULL AND acked_ms IS NULL")
                    .bind(alert.id.0)
                    .bind(now_ms),
            )
            .await?
            == 1;
        if !first {
            return Ok(0);
        }
        let managers = c
            .execute(
                Sql::new(concat!(
                    outbox_insert!(),
                    "SELECT 'esc.' || $1 || '.' || i.platform || '.' || i.address, r.person_id, i.platform, i.address, $2, TRUE, 'pending', $3, $3, NULL, NULL",
                    reachable_staff!(resident = "$4", relation = "r.relation = 'manager'"),
                    "ON CONFLICT (idem_key) DO NOTHING"
                ))
                .bind(alert.id.0.to_string())
                .bind(payload(message)?)
                .bind(now_ms)
                .bind(alert.resident.0),
            )
            .await?;
        let on_call_queued = match on_call {
            None => 0,
            Some(handle) => {
                c.execute(
                    Sql::new(concat!(outbox_insert!(), "SELECT 'oncall.' || $1 || '.' || i.platform || '.' || i.address, p.id, i.platform, i.address, $2, TRUE, 'pending', $3, $3, NULL, NULL
                     FROM people p JOIN identities i ON i.person_id = p.id AND i.revoked_ms IS NULL
                     WHERE p.handle = $5 AND p.role IN ('keyworker', 'manager') AND p.erased_ms IS NULL
                       AND p.id NOT IN (SELECT person_id FROM relations WHERE resident_id = $4 AND relation = 'manager' AND revoked_ms IS NULL)
                     ON CONFLICT (idem_key) DO NOTHING"))
                    .bind(alert.id.0.to_string())
                    .bind(payload(message)?)
                    .bind(now_ms)
                    .bind(alert.resident.0)
                    .bind(handle),
                )
                .await?
            }
        };
        let entry = AuditEntry {
            actor: "carebot".into(),
            action: "alert.escalated".into(),
            subject: Some(alert.resident),
            detail: serde_json::json!({ "alert": alert.id.0, "to": "manager", "queued": managers, "on_call_queued": on_call_queued }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        tx.commit().await?;
        Ok(managers + on_call_queued)
    }

    /// Residents' requests still open and not yet brought back to staff, oldest first: the
    /// scheduler checks each against the days the home gives its kind.
    pub async fn open_requests(&self) -> Result<Vec<OpenRequest>> {
        with_read!(self, pool => sqlx::query(
            "SELECT a.id, a.person_id, p.display_name, a.reason, a.request, a.target, a.created_ms FROM alerts a JOIN people p ON p.id = a.person_id
             WHERE a.request IS NOT NULL AND a.closed_ms IS NULL AND a.overdue_ms IS NULL
             ORDER BY a.id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok(OpenRequest {
                id: AlertId(r.try_get("id")?),
                resident: PersonId(r.try_get("person_id")?),
                resident_name: r.try_get("display_name")?,
                reason: r.try_get("reason")?,
                kind: r.try_get("request")?,
                target: r.try_get("target")?,
                created_ms: r.try_get("created_ms")?,
            }))
            .collect())
    }

    /// Brings `request`, still open at its reply date, back to the staff it went to and the
    /// resident's managers, once, with `message`, audited. Returns how many accounts it was
    /// queued for.
    pub async fn remind_overdue_request(
        &self,
        request: &OpenRequest,
        message: &OutMessage,
        now_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let first = c
            .execute(
                Sql::new("UPDATE alerts SET overdue_ms = $2 WHERE id = $1 AND overdue_ms IS NULL AND closed_ms IS NULL")
                    .bind(request.id.0)
                    .bind(now_ms),
            )
            .await?
            == 1;
        if !first {
            return Ok(0);
        }
        let queued = c
            .execute(
                Sql::new(concat!(
                    outbox_insert!(),
                    "SELECT 'due.' || $1 || '.' || i.platform || '.' || i.address, r.person_id, i.platform, i.address, $2, TRUE, 'pending', $3, $3, NULL, NULL",
                    reachable_staff!(resident = "$4", relation = "(r.relation = $5 OR r.relation = 'manager')"),
                    "ON CONFLICT (idem_key) DO NOTHING"
                ))
                .bind(request.id.0.to_string())
                .bind(payload(message)?)
                .bind(now_ms)
                .bind(request.resident.0)
                .bind(request.target.as_str()),
            )
            .await?;
        let entry = AuditEntry {
            actor: "carebot".into(),
            action: "request.overdue".into(),
            subject: Some(request.resident),
            detail: serde_json::json!({ "request": request.id.0, "kind": &request.kind, "queued": queued }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// How many alerts are unacknowledged.
    pub async fn unacknowledged_alerts(&self) -> Result<i64> {
        Ok(
            with_read!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE acked_ms IS NULL").fetch_one(pool).await?),
        )
    }
}
