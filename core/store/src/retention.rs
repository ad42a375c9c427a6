//! Retention: conversation records that are only needed for a while are deleted once older
//! than `[retention] turns_days`. Care records (answers, consent decisions, alerts, reviews)
//! and the audit log are not touched: how long those are kept is the home's records policy,
//! and a person's own are removed by erasure.

use super::conn::Sql;
use super::{Result, Store};

/// What one retention pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retained {
    /// Outgoing messages (with their bodies) that were sent, dead-lettered or withdrawn.
    pub messages: u64,
    /// Inbound event keys (they only stop a platform's replays; scheduler keys older than the
    /// six-hour catch-up can never be asked for again).
    pub events: u64,
    /// Follow-up timers that have fired.
    pub timers: u64,
}

impl Store {
    /// Deletes what is older than `cutoff_ms`. Pending messages are never deleted, however
    /// old: they are still owed to someone.
    pub async fn apply_retention(&self, cutoff_ms: i64) -> Result<Retained> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let messages = c
            .execute(
                Sql::new("DELETE FROM outbox WHERE status IN ('sent', 'dead', 'withdrawn') AND created_ms < $1")
                    .bind(cutoff_ms),
            )
            .await?;
        let events = c
            .execute(Sql::new("DELETE FROM inbound_events WHERE received_ms < $1").bind(cutoff_ms))
            .await?;
        let timers = c
            .execute(
                Sql::new("DELETE FROM timers WHERE done_ms IS NOT NULL AND done_ms < $1")
                    .bind(cutoff_ms),
            )
            .await?;
        tx.commit().await?;
        Ok(Retained {
            messages,
            events,
            timers,
        })
    }
}
