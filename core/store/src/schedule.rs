//! What the scheduler reads: who checks in when, how far it has got, which timers are due,
//! and how many check-ins in a row someone has missed.

use super::{with_db, with_read, Result, Store, StoreError};
use carebot_engine::engine::TimerKind;
use carebot_engine::ids::PersonId;
use sqlx::Row;

/// Where a scheduled check-in stands (the `status` column of `checkins`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckinStatus {
    /// Sent, and not yet finished.
    Started,
    /// The person answered it to the end.
    Completed,
    /// Nothing came back in time.
    Missed,
    /// The person said not today.
    Skipped,
}

impl CheckinStatus {
    const ALL: [CheckinStatus; 4] = [
        CheckinStatus::Started,
        CheckinStatus::Completed,
        CheckinStatus::Missed,
        CheckinStatus::Skipped,
    ];

    /// The value stored.
    pub const fn as_sql(self) -> &'static str {
        match self {
            CheckinStatus::Started => "started",
            CheckinStatus::Completed => "completed",
            CheckinStatus::Missed => "missed",
            CheckinStatus::Skipped => "skipped",
        }
    }

    /// The status a stored value names; anything else is corrupt, not a guess.
    pub fn from_sql(value: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_sql() == value)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown check-in status {value:?}")))
    }
}

/// The timer kind a stored value names.
pub(crate) fn timer_kind(value: &str) -> Result<TimerKind> {
    [TimerKind::Nudge, TimerKind::Missed]
        .into_iter()
        .find(|k| k.as_str() == value)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown timer kind {value:?}")))
}

/// A timer that is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueTimer {
    /// Row id.
    pub id: i64,
    /// Whose.
    pub person: PersonId,
    /// Nudge or missed.
    pub kind: TimerKind,
    /// Flow.
    pub flow: String,
    /// Run.
    pub run: u64,
}

impl Store {
    /// Residents with a daily check-in time: (person, "HH:MM").
    pub async fn checkin_times(&self) -> Result<Vec<(PersonId, String)>> {
        with_read!(self, pool => sqlx::query(
            "SELECT id, checkin_time FROM people WHERE role = 'resident' AND checkin_time IS NOT NULL ORDER BY id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((PersonId(r.try_get("id")?), r.try_get("checkin_time")?)))
            .collect())
    }

    /// How far the scheduler named `name` has got (epoch ms), if it has run before.
    pub async fn scheduler_mark(&self, name: &str) -> Result<Option<i64>> {
        Ok(
            with_read!(self, pool => sqlx::query_scalar("SELECT value_ms FROM scheduler_state WHERE name = $1")
            .bind(name).fetch_optional(pool).await?),
        )
    }

    /// Records how far the scheduler named `name` has got.
    pub async fn set_scheduler_mark(&self, name: &str, ms: i64) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "INSERT INTO scheduler_state (name, value_ms) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value_ms = excluded.value_ms")
            .bind(name).bind(ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Timers due at `now_ms` and not yet handled, oldest first.
    pub async fn due_timers(&self, now_ms: i64, limit: i64) -> Result<Vec<DueTimer>> {
        with_read!(self, pool => sqlx::query(
            "SELECT id, person_id, kind, flow, run FROM timers WHERE done_ms IS NULL AND due_ms <= $1 ORDER BY due_ms, id LIMIT $2")
            .bind(now_ms).bind(limit).fetch_all(pool).await?
            .into_iter()
            .map(|r| {
                Ok(DueTimer {
                    id: r.try_get("id")?,
                    person: PersonId(r.try_get("person_id")?),
                    kind: timer_kind(r.try_get("kind")?)?,
                    flow: r.try_get("flow")?,
                    run: r.try_get::<i64, _>("run")? as u64,
                })
            })
            .collect())
    }

    /// Scheduled check-ins missed in a row, most recent first, not counting any in progress.
    pub async fn missed_in_a_row(&self, person: PersonId) -> Result<u32> {
        let statuses: Vec<String> = with_read!(self, pool => sqlx::query_scalar(
            "SELECT status FROM checkins WHERE person_id = $1 AND status <> $2 ORDER BY started_ms DESC LIMIT 50")
            .bind(person.0).bind(CheckinStatus::Started.as_sql()).fetch_all(pool).await?);
        let mut in_a_row = 0;
        for status in &statuses {
            if CheckinStatus::from_sql(status)? != CheckinStatus::Missed {
                break;
            }
            in_a_row += 1;
        }
        Ok(in_a_row)
    }

    /// The status of each scheduled check-in of `person`: (local date, status), oldest first.
    pub async fn checkin_history(&self, person: PersonId) -> Result<Vec<(String, CheckinStatus)>> {
        with_read!(self, pool => sqlx::query("SELECT local_date, status FROM checkins WHERE person_id = $1 ORDER BY started_ms")
            .bind(person.0).fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((r.try_get("local_date")?, CheckinStatus::from_sql(r.try_get("status")?)?)))
            .collect())
    }

    /// When each check-in `person` answered after `since_ms` was last answered (epoch ms),
    /// oldest first: one per run, whoever started it (the scheduler, or the resident saying
    /// "check in"; the `checkins` table holds only scheduled ones).
    pub async fn checkins_answered_since(
        &self,
        person: PersonId,
        since_ms: i64,
    ) -> Result<Vec<i64>> {
        Ok(with_read!(self, pool => sqlx::query_scalar(
            "SELECT MAX(answered_ms) AS at FROM answers WHERE person_id = $1 AND flow = $2 AND answered_ms > $3 GROUP BY run ORDER BY at")
            .bind(person.0).bind(carebot_engine::engine::turn::CHECKIN).bind(since_ms).fetch_all(pool).await?))
    }
}

impl Store {
    /// Marks a timer handled without a turn (its person can no longer be reached).
    pub async fn finish_timer(&self, id: i64, now_ms: i64) -> Result<()> {
        with_db!(self, pool => sqlx::query("UPDATE timers SET done_ms = $2 WHERE id = $1")
            .bind(id).bind(now_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }
}
