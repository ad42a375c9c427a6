//! What an operator needs to see at a glance: counts only, never anyone's details.

use super::outbox::OutboxStatus;
use super::{with_read, Result, Store};
use sqlx::Row;

/// The state of a Carebot installation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Per platform: (platform, pending, sent, dead, withdrawn, last delivery epoch ms).
    pub channels: Vec<(String, i64, i64, i64, i64, Option<i64>)>,
    /// Alerts nobody has acknowledged.
    pub unacknowledged_alerts: i64,
    /// Care-plan reviews past their due date ("YYYY-MM-DD" compared with `today`).
    pub overdue_reviews: i64,
    /// When the scheduler last ran (epoch ms).
    pub last_tick_ms: Option<i64>,
    /// Per platform: messages that reached Carebot but could not be read (encryption keys
    /// withheld or missing).
    pub unreadable: Vec<(String, i64)>,
}

impl Store {
    /// The installation's status on local date `today` ("YYYY-MM-DD").
    pub async fn status(&self, today: &str) -> Result<Status> {
        let mut status = Status {
            unacknowledged_alerts: self.unacknowledged_alerts().await?,
            ..Default::default()
        };
        for c in self.outbox_counts().await? {
            if !status.channels.iter().any(|(p, ..)| *p == c.platform) {
                status.channels.push((c.platform.clone(), 0, 0, 0, 0, None));
            }
            if let Some(row) = status.channels.iter_mut().find(|(p, ..)| *p == c.platform) {
                match c.status {
                    OutboxStatus::Pending => row.1 = c.count,
                    OutboxStatus::Sent => row.2 = c.count,
                    OutboxStatus::Dead => row.3 = c.count,
                    OutboxStatus::Withdrawn => row.4 = c.count,
                }
            }
        }
        let last: Vec<(String, Option<i64>)> = with_read!(self, pool => sqlx::query(
            "SELECT platform, MAX(sent_ms) AS last FROM outbox WHERE status = 'sent' GROUP BY platform")
            .fetch_all(pool).await?
            .into_iter().map(|r| Ok((r.try_get("platform")?, r.try_get("last")?))).collect::<Result<Vec<_>>>()?);
        for (platform, at) in last {
            if let Some(row) = status.channels.iter_mut().find(|(p, ..)| *p == platform) {
                row.5 = at;
            }
        }
        status.overdue_reviews = with_read!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM reviews WHERE next_due < $1")
            .bind(today).fetch_one(pool).await?);
        status.last_tick_ms = self.scheduler_mark("checkin").await?;
        status.unreadable = self.unreadable_counts().await?;
        Ok(status)
    }
}
