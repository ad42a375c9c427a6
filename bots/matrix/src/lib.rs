//! The Matrix adapter: Carebot in end-to-end encrypted direct chats.
//!
//! - [`login`]: the bot's session and encrypted stores on disk, so a restart resumes.
//! - [`identity`]: the bot's device cross-signed by its own account, with secret storage and
//!   key backup behind a recovery key (today's Element talks to no other kind of device).
//! - [`sync`]: the sync loop. It processes each batch itself and only then records the batch
//!   token, so a crash part-way replays the batch (and the inbound-event table drops what
//!   was already handled) instead of skipping it.
//! - [`events`]: invites and messages turned into [`Inbound`](carebot_runtime::Inbound).
//! - [`channel`]: outbox rows turned into encrypted messages, with the outbox key as the
//!   transaction id.
//! - [`rooms`]: which room reaches a person.
//! - [`format`]: plain and HTML bodies.
//! - [`limits`]: the startup check for homeserver rate limits.
//!
//! No care logic lives here: what to say, to whom and when is decided in the engine and runtime crates.

mod channel;
mod events;
mod format;
mod identity;
mod limits;
mod login;
mod rooms;
mod sync;

pub use channel::MatrixChannel;
pub use login::connect;

use anyhow::Result;
use carebot::config::MatrixConfig;
use carebot::serve::Service;
use carebot_runtime::{Carebot, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The platform name of Matrix in identities and the outbox.
pub const PLATFORM: &str = "matrix";

/// Knobs tests turn; the defaults suit a care home.
#[derive(Clone, Debug)]
pub struct Options {
    /// Delivery retries.
    pub policy: RetryPolicy,
    /// How often the scheduler runs.
    pub tick_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            policy: RetryPolicy::default(),
            tick_every: Duration::from_secs(5),
        }
    }
}

/// Logs in, then serves Matrix until `shutdown` turns true: the current batch of messages is
/// finished and the outbox flushed before it returns.
pub async fn run(
    bot: Arc<Carebot>,
    config: &MatrixConfig,
    options: Options,
    shutdown: watch::Receiver<bool>,
) -> Result<()> {
    if let Some(missing) = config.missing() {
        anyhow::bail!("{missing}");
    }
    let (client, new_device) = login::connect(config).await?;
    if let Some(key) = identity::ensure(&client, config, new_device).await? {
        show_recovery_key(&key);
    }
    limits::check(&client).await;
    let channel = Arc::new(MatrixChannel::new(client.clone(), bot.clone()));
    let mut service = Service::new(bot, channel).with_policy(options.policy);
    service.tick_every = options.tick_every;
    let service = Arc::new(service);
    let outbox = {
        let service = service.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { service.run(shutdown).await })
    };
    let grace = Duration::from_secs(config.unlinked_grace_secs);
    let synced = sync::run(&client, &service, &config.store_dir, grace, shutdown).await;
    if let Err(e) = outbox.await {
        tracing::error!(error = %e, "the outbox task stopped unexpectedly");
    }
    // The sync loop has stopped taking events; the reply to the last turn goes now.
    service.finish(Duration::from_secs(10)).await;
    // Let matrix-sdk's SQLite store finish its last background writes before the runtime
    // goes: cut short, its connection pool panics on the way down.
    drop(service);
    drop(client);
    tokio::time::sleep(Duration::from_millis(300)).await;
    synced
}

/// Shows a recovery key Carebot has just created, once, on standard output (never in the log).
fn show_recovery_key(key: &secrecy::SecretString) {
    use secrecy::ExposeSecret;
    println!(
        "\nCarebot set up end-to-end encryption for its Matrix account. This is the bot's\n\
         recovery key. It is shown only now and is not written to any log:\n\n    {}\n\n\
         Keep it where you keep the bot's password (a password manager or a file only the\n\
         service can read, outside this folder). If the bot's store is ever lost, or it runs\n\
         on a new machine, set CAREBOT_MATRIX_RECOVERY_KEY (or [matrix] recovery_key_file)\n\
         and the bot proves it is itself again. See the README, 'Matrix: first run'.\n",
        key.expose_secret()
    );
}
