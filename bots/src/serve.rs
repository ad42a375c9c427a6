//! The loop every chat adapter shares.
//!
//! An adapter turns platform events into [`Inbound`] messages and hands them to
//! [`Service::receive`], which returns only after the turn has committed (so an answer is
//! stored before anything acknowledges it). Replies wait in the durable outbox; the
//! [`Service::run`] loop drains it through the adapter's [`Channel`] as soon as a turn wakes it,
//! and runs the scheduler every few seconds. Neither holds any care logic.

use carebot_runtime::{
    dispatch_due, resume_deliveries, Carebot, Channel, Handled, Inbound, RetryPolicy,
};
use carebot_store::Result;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// A running channel: the bot, one adapter's channel, and the outbox loop between them.
pub struct Service<C> {
    bot: Arc<Carebot>,
    channel: Arc<C>,
    policy: RetryPolicy,
    wake: Notify,
    /// How often the scheduler runs (check-ins, nudges, reminders, escalations).
    pub tick_every: Duration,
    /// How often the outbox is looked at when nothing wakes it (retries falling due).
    pub poll_every: Duration,
    /// Events the platform sent again that were recognised and skipped (a sync replay, a
    /// gateway resume): a count an operator can watch, and a test can prove a replay arrived.
    replays: AtomicU64,
    /// Turns handed to the core and not yet returned: a stop waits for them, so the reply to
    /// an answer already being stored is sent before the process ends.
    in_flight: AtomicUsize,
    /// Scheduler runs finished since the service started (the first comes at once).
    ticks: AtomicU64,
}

impl<C: Channel> Service<C> {
    /// A service with the default retry policy, ticking every 5 seconds.
    pub fn new(bot: Arc<Carebot>, channel: Arc<C>) -> Self {
        Self {
            bot,
            channel,
            policy: RetryPolicy::default(),
            wake: Notify::new(),
            tick_every: Duration::from_secs(5),
            poll_every: Duration::from_millis(500),
            replays: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            ticks: AtomicU64::new(0),
        }
    }

    /// Uses `policy` for deliveries.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The bot.
    pub fn bot(&self) -> &Arc<Carebot> {
        &self.bot
    }

    /// The channel.
    pub fn channel(&self) -> &Arc<C> {
        &self.channel
    }

    /// Handles one inbound message: returns once the turn has committed, then wakes the
    /// outbox loop to send the replies.
    pub async fn receive(&self, msg: &Inbound) -> Result<Handled> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let handled = self.bot.handle(msg).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Ok(Handled::Duplicate) = handled {
            self.replays.fetch_add(1, Ordering::Relaxed);
        }
        self.wake.notify_one();
        handled
    }

    /// The last step of a graceful stop, once the adapter takes no more events: waits for the
    /// turns still in hand to commit (up to `patience`), then sends what they queued.
    pub async fn finish(&self, patience: Duration) {
        let deadline = tokio::time::Instant::now() + patience;
        while self.in_flight.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            tracing::warn!("stopping with a turn still in hand; its reply goes at the next start");
        }
        self.flush().await;
    }

    /// How many turns have been handed to the core and not yet returned (a test waits for
    /// none before it concludes nothing more is coming).
    pub fn turns_in_hand(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// How many replayed events were recognised and skipped since the service started.
    pub fn replays_skipped(&self) -> u64 {
        self.replays.load(Ordering::Relaxed)
    }

    /// How many scheduler runs have finished since the service started. The first runs as
    /// soon as [`Service::run`] starts (catching up on what fell due while stopped); a test
    /// waits for it before it moves its clock, so that run cannot interleave with its own.
    pub fn ticks_run(&self) -> u64 {
        self.ticks.load(Ordering::SeqCst)
    }

    /// Wakes the outbox loop (after something was queued from outside a turn).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers what is due once; used by the loop and by a final flush at shutdown.
    pub async fn flush(&self) {
        if let Err(e) = dispatch_due(&self.bot, &*self.channel, &self.policy).await {
            tracing::error!(error = %e, "the outbox could not be read");
        }
    }

    /// Runs the scheduler and the outbox until `shutdown` turns true, then flushes once more.
    /// The only deliverer of its platform: messages a stopped run was sending are retried
    /// first (on SQLite), not after their lease.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = resume_deliveries(&self.bot, &*self.channel).await {
            tracing::error!(error = %e, "messages a stopped run was sending wait out their lease");
        }
        let mut ticker = tokio::time::interval(self.tick_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        break;
                    }
                }
                _ = ticker.tick() => {
                    if let Err(e) = self.bot.tick().await {
                        tracing::error!(error = %e, "the scheduler could not run");
                    }
                    self.ticks.fetch_add(1, Ordering::SeqCst);
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.poll_every) => {}
            }
            self.flush().await;
        }
        self.flush().await;
    }
}

/// A watch that turns true on SIGINT or SIGTERM, for graceful shutdown: the current turn
/// finishes, the outbox is flushed, then the process stops.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    // Registered here, before anything else runs, not inside the task: a signal that comes
    // while Carebot is still starting up is then a clean stop too, not the default kill.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)))
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        match signals {
            Ok((mut int, mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT and SIGTERM; only Ctrl-C stops Carebot gracefully");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing the current turn and flushing the outbox");
        let _ = tx.send(true);
    });
    rx
}
