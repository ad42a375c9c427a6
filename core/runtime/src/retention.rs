//! The scheduler's retention pass: at most hourly, deletes conversation records older than
//! `[retention] turns_days` (see [`carebot_store::retention`] for what is and is not deleted).

use super::Carebot;
use carebot_store::Result;
use chrono::{DateTime, Duration, Utc};

const MARK: &str = "retention";

impl Carebot {
    /// Runs retention if it has not run in the last hour. Returns the rows deleted.
    pub(crate) async fn retention(&self, now: DateTime<Utc>) -> Result<u64> {
        let days = self.schedule.retention_days;
        if days == 0 {
            return Ok(0);
        }
        let now_ms = now.timestamp_millis();
        let last = self.store.scheduler_mark(MARK).await?;
        if last.is_some_and(|l| (0..3_600_000).contains(&(now_ms - l))) {
            return Ok(0);
        }
        let cutoff = now - Duration::days(i64::from(days));
        let done = self
            .store
            .apply_retention(cutoff.timestamp_millis())
            .await?;
        self.store.set_scheduler_mark(MARK, now_ms).await?;
        if done.messages + done.events + done.timers > 0 {
            tracing::info!(
                messages = done.messages,
                events = done.events,
                timers = done.timers,
                "retention deleted old conversation records"
            );
        }
        Ok(done.messages + done.events + done.timers)
    }
}
