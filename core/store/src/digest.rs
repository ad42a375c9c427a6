//! What a keyworker's morning digest says about each of their residents.

use super::schedule::CheckinStatus;
use super::{with_read, Result, Store};
use carebot_engine::domain::Relative;
use carebot_engine::ids::PersonId;
use sqlx::Row;

/// One resident's line in a digest.
#[derive(Clone, Debug, PartialEq)]
pub struct DigestRow {
    /// The resident.
    pub resident: Relative,
    /// Where yesterday's scheduled check-in stands, if there was one.
    pub checkin: Option<CheckinStatus>,
    /// Average mood over the last 7 days, and over the 7 before.
    pub mood: (Option<f64>, Option<f64>),
    /// Alerts about them nobody has acknowledged.
    pub open_alerts: i64,
    /// Their next review ("YYYY-MM-DD").
    pub review_due: Option<String>,
    /// Changes they made to their goals in the last day, oldest first: (the goal's words
    /// now, the change: `added`, `reworded`, `cadence`, `paused`, `restarted`, `achieved`,
    /// `dropped`, `accepted`, `accepted_reworded`, `declined`).
    pub goal_changes: Vec<(String, String)>,
}

impl Store {
    /// Keyworkers and the residents they are keyworker for.
    pub async fn keyworkers(&self) -> Result<Vec<(Relative, Vec<Relative>)>> {
        let rows: Vec<(i64, String, i64, String)> = with_read!(self, pool => sqlx::query(
            "SELECT r.person_id, s.display_name AS staff, r.resident_id, p.display_name AS resident
             FROM relations r JOIN people s ON s.id = r.person_id JOIN people p ON p.id = r.resident_id
             WHERE r.relation = 'keyworker' AND r.revoked_ms IS NULL ORDER BY r.person_id, r.id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((r.try_get("person_id")?, r.try_get("staff")?, r.try_get("resident_id")?, r.try_get("resident")?)))
            .collect::<Result<Vec<_>>>()?);
        let mut out: Vec<(Relative, Vec<Relative>)> = Vec::new();
        for (staff, staff_name, resident, name) in rows {
            let r = Relative {
                id: PersonId(resident),
                name,
            };
            match out.last_mut() {
                Some((s, list)) if s.id.0 == staff => list.push(r),
                _ => out.push((
                    Relative {
                        id: PersonId(staff),
                        name: staff_name,
                    },
                    vec![r],
                )),
            }
        }
        Ok(out)
    }

    /// The digest line for `resident`: `yesterday` is the local date, `now_ms` the time.
    pub async fn digest_row(
        &self,
        resident: &Relative,
        yesterday: &str,
        now_ms: i64,
    ) -> Result<DigestRow> {
        let week = 7 * 86_400_000;
        with_read!(self, pool => {
            let checkin: Option<String> = sqlx::query_scalar(
                "SELECT status FROM checkins WHERE person_id = $1 AND local_date = $2 ORDER BY started_ms DESC LIMIT 1")
                .bind(resident.id.0).bind(yesterday).fetch_optional(pool).await?;
            let checkin = checkin.as_deref().map(CheckinStatus::from_sql).transpose()?;
            let moods: Vec<(String, i64)> = sqlx::query("SELECT value, answered_ms FROM answers WHERE person_id = $1 AND answer_key = 'mood' AND answered_ms > $2")
                .bind(resident.id.0).bind(now_ms - 2 * week).fetch_all(pool).await?
                .into_iter().map(|r| Ok((r.try_get("value")?, r.try_get("answered_ms")?))).collect::<Result<Vec<_>>>()?;
            let average = |from: i64, to: i64| {
                let v: Vec<f64> = moods.iter().filter(|(_, t)| *t > from && *t <= to).filter_map(|(v, _)| v.parse().ok()).collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            };
            let open_alerts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE person_id = $1 AND acked_ms IS NULL")
                .bind(resident.id.0).fetch_one(pool).await?;
            let review_due: Option<String> = sqlx::query_scalar("SELECT next_due FROM reviews WHERE person_id = $1")
                .bind(resident.id.0).fetch_optional(pool).await?;
            let goal_changes = sqlx::query(
                "SELECT g.text, c.change FROM goal_changes c JOIN goals g ON g.id = c.goal_id
                 WHERE c.person_id = $1 AND c.at_ms > $2 ORDER BY c.id")
                .bind(resident.id.0).bind(now_ms - 86_400_000).fetch_all(pool).await?
                .into_iter().map(|r| Ok((r.try_get("text")?, r.try_get("change")?))).collect::<Result<Vec<_>>>()?;
            Ok(DigestRow {
                goal_changes,
                resident: resident.clone(),
                checkin,
                mood: (average(now_ms - week, now_ms), average(now_ms - 2 * week, now_ms - week)),
                open_alerts,
                review_due,
            })
        })
    }
}
