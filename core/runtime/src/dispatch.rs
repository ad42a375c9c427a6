//! Delivering the outbox through a channel, with retries and backoff.

use super::{Carebot, Withheld};
use carebot_engine::engine::OutMessage;
use carebot_store::outbox::OutboxRow;
use carebot_store::Result;
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;

/// A way to reach people: console, Matrix, Discord. Implementations translate an outbox row
/// into a platform call and report how it went; they make no care decisions.
pub trait Channel: Send + Sync {
    /// The platform name used in identities and the outbox.
    fn platform(&self) -> &str;

    /// Who besides the recipient can read what this channel carries. There is no default:
    /// a new channel has to say, and the runtime (not the channel) decides from it whether a
    /// health message may go ([`outgoing`]).
    fn carries(&self) -> Carries;

    /// Only messages to this address, when set (the console serves one person at a time).
    fn only_address(&self) -> Option<&str> {
        None
    }

    /// How many messages (each to a different person) may be in flight at once. One claim
    /// holds at most one message per person, so order per person holds at any number.
    fn concurrency(&self) -> usize {
        1
    }

    /// Delivers one message. Must pass `row.key` to the platform as its idempotency key.
    fn deliver(&self, row: &OutboxRow) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// What a channel's platform can read of the messages it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carries {
    /// Nobody but the recipient: the message stays on this machine (the console).
    Private,
    /// End-to-end encrypted chat by chat (Matrix): the channel checks each chat as it
    /// delivers and sends a notice instead where a chat is not encrypted.
    EncryptedPerChat,
    /// The platform can read everything (Discord): a health message goes only when the
    /// home has opted in; otherwise the person gets a notice naming `platform` instead.
    Readable {
        /// The platform's name, as the notice gives it.
        platform: &'static str,
        /// The home's `send_health_content`.
        home_opted_in: bool,
    },
}

/// The one outgoing policy: `row` as a channel that [`Carries`] `carries` may show it. A
/// health message for a platform that can read it, without the home's opt-in, becomes the
/// notice that there is something to read elsewhere; everything else goes as it is.
/// [`dispatch_due`] applies it to every row before the channel sees it.
pub fn outgoing(bot: &Carebot, carries: Carries, row: OutboxRow) -> OutboxRow {
    match carries {
        Carries::Readable {
            platform,
            home_opted_in: false,
        } if row.message.sensitive => OutboxRow {
            message: OutMessage {
                text: bot.withheld_notice(Withheld::Platform(platform)),
                ..OutMessage::default()
            },
            ..row
        },
        _ => row,
    }
}

/// Why a delivery failed. Reasons are stored and shown to operators, so they must never
/// contain the message body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryError {
    /// Worth trying again (5xx, timeout, rate limit), after `after` if the platform said.
    Retry {
        /// The platform's own wait (e.g. Retry-After), if any.
        after: Option<Duration>,
        /// For operators.
        reason: String,
    },
    /// Will never work (unknown recipient, forbidden): dead-letter at once.
    Permanent {
        /// For operators.
        reason: String,
    },
}

/// How hard to try.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// First wait.
    pub base: Duration,
    /// Longest wait.
    pub max: Duration,
    /// Attempts before a message is dead-lettered.
    pub max_attempts: i32,
    /// How long a claimed message is reserved for this deliverer.
    pub lease: Duration,
    /// Messages claimed per round.
    pub batch: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(15 * 60),
            max_attempts: 12,
            lease: Duration::from_secs(60),
            batch: 100,
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempts` failures: doubling from `base`, capped at `max`.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// What one round of dispatching did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Delivered.
    pub sent: usize,
    /// Failed, to be retried.
    pub retrying: usize,
    /// Given up on.
    pub dead: usize,
}

/// Call once when a deliverer starts, before [`dispatch_due`]. On a single-instance database
/// (SQLite) a claim still held is from a run that stopped mid-send: it is retried now, marked
/// as an attempt whose outcome is unknown (so the adapter looks before resending), instead of
/// holding the person's messages until its lease runs out. On PostgreSQL a claim may be a live
/// instance's, and waits out its lease. Returns how many were given back.
pub async fn resume_deliveries<C: Channel>(bot: &Carebot, channel: &C) -> Result<u64> {
    if !bot.store.single_instance() {
        return Ok(0);
    }
    let now = bot.clock.now().timestamp_millis();
    let released = bot
        .store
        .release_claims(channel.platform(), channel.only_address(), now)
        .await?;
    if released > 0 {
        tracing::info!(
            count = released,
            "messages a stopped run was sending will be retried"
        );
    }
    Ok(released)
}

/// Delivers every message due now on `channel`, round after round until none is due. Stops
/// early for a recipient whose message failed, so order per person holds.
pub async fn dispatch_due<C: Channel>(
    bot: &Carebot,
    channel: &C,
    policy: &RetryPolicy,
) -> Result<DispatchReport> {
    let mut report = DispatchReport::default();
    let mut dead_seen = 0;
    loop {
        let now = bot.clock.now().timestamp_millis();
        let lease = now + policy.lease.as_millis() as i64;
        let rows = bot
            .store
            .claim_outbox(
                channel.platform(),
                channel.only_address(),
                now,
                lease,
                policy.batch,
            )
            .await?;
        if rows.is_empty() {
            if report.dead > dead_seen {
                // A dead-lettered alert may leave a resident's call for help reaching nobody:
                // climb the safeguarding ladder now (it may queue more to deliver).
                dead_seen = report.dead;
                bot.safeguard(bot.clock.now()).await?;
                continue;
            }
            return Ok(report);
        }
        // A claim holds at most one message per person (the next of each), so they may go
        // at once, up to the channel's bound. Each stores its own outcome inside its future:
        // awaiting the store between polls of the others could wait on a connection one of
        // them holds.
        let mut results = futures::stream::iter(rows)
            .map(|row| async move {
                let row = outgoing(bot, channel.carries(), row);
                let outcome = channel.deliver(&row).await;
                settle(bot, policy, &row, outcome).await
            })
            .buffer_unordered(channel.concurrency().max(1));
        while let Some(settled) = results.next().await {
            match settled? {
                Settled::Sent => report.sent += 1,
                Settled::Retrying => report.retrying += 1,
                Settled::Dead => report.dead += 1,
            }
        }
    }
}

/// What became of one delivery attempt.
enum Settled {
    Sent,
    Retrying,
    Dead,
}

/// Stores the outcome of delivering `row`: sent, to be retried after its backoff (or the
/// platform's own wait), or dead-lettered.
async fn settle(
    bot: &Carebot,
    policy: &RetryPolicy,
    row: &OutboxRow,
    outcome: std::result::Result<(), DeliveryError>,
) -> Result<Settled> {
    match outcome {
        Ok(()) => {
            bot.store
                .outbox_sent(row.id, bot.clock.now().timestamp_millis())
                .await?;
            Ok(Settled::Sent)
        }
        Err(DeliveryError::Retry { after, reason }) if row.attempts + 1 < policy.max_attempts => {
            let wait = after
                .unwrap_or_else(|| policy.backoff(row.attempts))
                .max(Duration::from_millis(100));
            let at = bot.clock.now().timestamp_millis() + wait.as_millis() as i64;
            tracing::warn!(outbox = %row.id, attempts = row.attempts + 1, %reason, "delivery failed; will retry");
            bot.store.outbox_failed(row.id, Some(at), &reason).await?;
            Ok(Settled::Retrying)
        }
        Err(DeliveryError::Retry { reason, .. } | DeliveryError::Permanent { reason }) => {
            tracing::error!(outbox = %row.id, %reason, "delivery failed for good; dead-lettered");
            bot.store.outbox_failed(row.id, None, &reason).await?;
            Ok(Settled::Dead)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0), Duration::from_secs(2));
        assert_eq!(p.backoff(3), Duration::from_secs(16));
        assert_eq!(p.backoff(30), Duration::from_secs(900));
    }
}
