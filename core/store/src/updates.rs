//! What family updates are built from, and queuing one with its audit row.

use super::audit::{self, AuditEntry};
use super::turn::{queue_message, NewOutbox};
use super::{with_db, with_read, Result, Store};
use carebot_engine::domain::Relative;
use carebot_engine::ids::PersonId;
use carebot_engine::updates::UpdateData;
use sqlx::Row;

/// A family member linked to a resident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyLink {
    /// The resident.
    pub resident: Relative,
    /// The family member.
    pub family: PersonId,
    /// "daily" or "weekly".
    pub cadence: String,
}

impl Store {
    /// Every active family link.
    pub async fn family_links(&self) -> Result<Vec<FamilyLink>> {
        with_read!(self, pool => sqlx::query(
            "SELECT r.resident_id, res.display_name, r.person_id, fam.update_cadence
             FROM relations r JOIN people res ON res.id = r.resident_id JOIN people fam ON fam.id = r.person_id
             WHERE r.relation = 'family' AND r.revoked_ms IS NULL ORDER BY r.id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok(FamilyLink {
                resident: Relative { id: PersonId(r.try_get("resident_id")?), name: r.try_get("display_name")? },
                family: PersonId(r.try_get("person_id")?),
                cadence: r.try_get("update_cadence")?,
            }))
            .collect())
    }

    /// Categories `resident` currently shares with `family` (latest decision "yes").
    pub async fn shared_categories(
        &self,
        resident: PersonId,
        family: PersonId,
    ) -> Result<Vec<String>> {
        Ok(with_read!(self, pool => sqlx::query_scalar(
            "SELECT c.category FROM consents c
             WHERE c.resident_id = $1 AND c.family_id = $2 AND c.decision = 'yes'
               AND c.id = (SELECT MAX(id) FROM consents l WHERE l.resident_id = $1 AND l.family_id = $2 AND l.category = c.category)
             ORDER BY c.category")
            .bind(resident.0).bind(family.0).fetch_all(pool).await?))
    }

    /// What `resident` said since `since_ms` that an update may draw on.
    pub async fn update_data(&self, resident: PersonId, since_ms: i64) -> Result<UpdateData> {
        let rows: Vec<(String, Option<String>, String, String, i64)> = with_read!(self, pool => sqlx::query(
            "SELECT a.answer_key, g.text AS goal, a.value, a.raw, a.answered_ms FROM answers a LEFT JOIN goals g ON g.id = a.goal_id
             WHERE a.person_id = $1 AND a.answered_ms > $2 AND a.answer_key IN ('mood', 'goals', 'family_note')
             ORDER BY a.id")
            .bind(resident.0).bind(since_ms).fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((r.try_get("answer_key")?, r.try_get("goal")?, r.try_get("value")?, r.try_get("raw")?, r.try_get("answered_ms")?)))
            .collect::<Result<Vec<_>>>()?);
        let mut data = UpdateData::default();
        for (key, goal, value, raw, at) in rows {
            match key.as_str() {
                "mood" => data
                    .moods
                    .extend(value.parse::<f64>().ok().map(|v| (at, v))),
                "goals" => data.goals.extend(goal.map(|g| (g, raw))),
                _ => data.messages.push(raw),
            }
        }
        Ok(data)
    }

    /// Queues a family update once (by its key) with its disclosure audit row. False when it
    /// was already queued.
    pub async fn queue_disclosure(
        &self,
        message: &NewOutbox,
        audit: &AuditEntry,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let inserted = queue_message(&mut c, message, now_ms).await?;
        if inserted == 1 {
            audit::append(&mut c, audit, now_ms).await?;
            tx.commit().await?;
        }
        Ok(inserted == 1)
    }

    /// Sets how often a family member hears ("daily" or "weekly").
    pub async fn set_update_cadence(&self, family: PersonId, cadence: &str) -> Result<()> {
        with_db!(self, pool => sqlx::query("UPDATE people SET update_cadence = $2 WHERE id = $1")
            .bind(family.0).bind(cadence).execute(pool).await.map(|_| ())?);
        Ok(())
    }
}
