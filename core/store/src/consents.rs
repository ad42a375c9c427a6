//! Consent records: reading them back, and staff recording a decision for a resident who
//! cannot make it themselves (with its lawful basis). Decisions a resident makes in chat are
//! written by the turn that heard them (`store::turn`).

use super::audit::AuditEntry;
use super::conn::{Conn, Sql};
use super::turn::NewConsent;
use super::{with_read, Result, Store, StoreError};
use carebot_engine::domain::Decision;
use carebot_engine::ids::PersonId;
use sqlx::Row;

/// A consent decision as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// The family member.
    pub family: PersonId,
    /// Category id.
    pub category: String,
    /// The decision.
    pub decision: Decision,
    /// What the resident was asked, or said.
    pub wording: String,
    /// Version of that wording.
    pub wording_version: String,
    /// Where it was given.
    pub channel: String,
    /// "self", "lpa", "deputy" or "best_interests".
    pub basis: String,
    /// The attorney or deputy, or the best-interests reasons.
    pub basis_detail: Option<String>,
    /// Who recorded it.
    pub recorded_by: Option<PersonId>,
    /// When.
    pub decided_ms: i64,
}

/// Writes consent decision `c` about `resident` inside the transaction of `conn`: the
/// decision, an audit row, and, for anything but a yes, the withdrawal of every queued update
/// to that family member that carries the category. The one place consent is written.
pub(crate) async fn write_consent(
    conn: &mut Conn<'_>,
    resident: PersonId,
    c: &NewConsent,
    now_ms: i64,
) -> Result<()> {
    conn.execute(
        Sql::new(
            "INSERT INTO consents (resident_id, family_id, category, decision, wording_version, wording, channel, basis, basis_detail, recorded_by, decided_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(resident.0)
        .bind(c.family.0)
        .bind(c.category.as_str())
        .bind(c.decision.as_str())
        .bind(c.wording_version.as_str())
        .bind(c.wording.as_str())
        .bind(c.channel.as_str())
        .bind(c.basis.as_str())
        .bind(c.basis.detail())
        .bind(c.recorded_by.0)
        .bind(now_ms),
    )
    .await?;
    let mut withdrawn = 0;
    if c.decision != Decision::Yes {
        // Takes effect at once, also on updates queued but not yet sent.
        withdrawn = conn
            .execute(
                Sql::new(
                    "UPDATE outbox SET status = 'withdrawn', last_error = 'consent withdrawn'
                     WHERE status = 'pending' AND about_id = $1 AND person_id = $2 AND categories LIKE $3",
                )
                .bind(resident.0)
                .bind(c.family.0)
                .bind(format!("%\"{}\"%", c.category)),
            )
            .await?;
    }
    // The basis's names and reasons stay in the consent row, not in the audit row: audit rows
    // hold no personal text, so an erasure never has to touch the hash chain.
    let entry = AuditEntry {
        actor: format!("person:{}", c.recorded_by),
        action: "consent.recorded".into(),
        subject: Some(resident),
        detail: serde_json::json!({
            "family": c.family, "category": c.category, "decision": c.decision.as_str(),
            "basis": c.basis.as_str(), "channel": c.channel,
            "wording_version": c.wording_version, "queued_updates_withdrawn": withdrawn,
        }),
    };
    crate::audit::append(conn, &entry, now_ms).await
}

impl Store {
    /// Every consent decision about `resident`, oldest first (the history, not just the latest).
    pub async fn consents_of(&self, resident: PersonId) -> Result<Vec<ConsentRecord>> {
        with_read!(self, pool => sqlx::query(
            "SELECT family_id, category, decision, wording, wording_version, channel, basis, basis_detail, recorded_by, decided_ms
             FROM consents WHERE resident_id = $1 ORDER BY id")
            .bind(resident.0).fetch_all(pool).await?
            .into_iter()
            .map(|r| {
                let decision: String = r.try_get("decision")?;
                Ok(ConsentRecord {
                    family: PersonId(r.try_get("family_id")?),
                    category: r.try_get("category")?,
                    decision: decision.parse().map_err(StoreError::Corrupt)?,
                    wording: r.try_get("wording")?,
                    wording_version: r.try_get("wording_version")?,
                    channel: r.try_get("channel")?,
                    basis: r.try_get("basis")?,
                    basis_detail: r.try_get("basis_detail")?,
                    recorded_by: r.try_get::<Option<i64>, _>("recorded_by")?.map(PersonId),
                    decided_ms: r.try_get("decided_ms")?,
                })
            })
            .collect())
    }

    /// Records a decision made on a resident's behalf by staff (see `admin`), in its own
    /// transaction.
    pub async fn record_consent_on_behalf(
        &self,
        resident: PersonId,
        consent: &NewConsent,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.db().begin().await?;
        write_consent(&mut tx.conn(), resident, consent, now_ms).await?;
        tx.commit().await
    }

    /// The residents with an "ask me later" in force (their latest decision for a family
    /// member and category) given at or before `before_ms` and not asked about again yet,
    /// each with the newest such decision's id (a once-only key for asking).
    pub async fn later_consents_due(&self, before_ms: i64) -> Result<Vec<(PersonId, i64)>> {
        with_read!(self, pool => sqlx::query(
            "SELECT c.resident_id, MAX(c.id) AS newest FROM consents c JOIN people p ON p.id = c.resident_id
             WHERE c.decision = 'later' AND c.asked_again_ms IS NULL AND c.decided_ms <= $1 AND p.erased_ms IS NULL
               AND c.id = (SELECT MAX(id) FROM consents l
                   WHERE l.resident_id = c.resident_id AND l.family_id = c.family_id AND l.category = c.category)
             GROUP BY c.resident_id ORDER BY c.resident_id")
            .bind(before_ms).fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((PersonId(r.try_get("resident_id")?), r.try_get("newest")?)))
            .collect())
    }

    /// Marks `resident`'s "ask me later" decisions given at or before `before_ms` as asked
    /// about again at `now_ms`, so they are asked about once.
    pub async fn mark_later_asked(
        &self,
        resident: PersonId,
        before_ms: i64,
        now_ms: i64,
    ) -> Result<()> {
        super::with_db!(self, pool => sqlx::query(
            "UPDATE consents SET asked_again_ms = $1
             WHERE resident_id = $2 AND decision = 'later' AND asked_again_ms IS NULL AND decided_ms <= $3")
            .bind(now_ms).bind(resident.0).bind(before_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }
}
