//! The Discord adapter: direct messages with linked people, buttons for quick answers, staff
//! commands in server channels, and health text held back unless the home opts in.
//!
//! - `events.rs`: gateway events → [`Inbound`](carebot_core::runtime::Inbound) (DMs, button
//!   presses, staff commands), handed to the shared [`Service`].
//! - `channel.rs`: outbox rows → DM messages (nonce, no mentions, buttons, chart).
//! - `rest.rs`: REST calls with rate limits read from the response.
//! - `text.rs`: escaping, splitting, nonces.
//!
//! Serenity runs the gateway: it reconnects and resumes by itself, and replays what was missed;
//! the inbound-event table makes a replayed event a no-op.

mod channel;
mod events;
mod rest;
mod text;

pub use channel::DiscordChannel;
pub use text::{escape, nonce};

use crate::serve::Service;
use anyhow::{Context as _, Result};
use carebot_core::config::DiscordConfig;
use carebot_core::runtime::{Carebot, Withheld};
use secrecy::{ExposeSecret, SecretString};
use serenity::all::{GatewayIntents, HttpBuilder, ShardManager};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The platform name of Discord in identities and the outbox.
pub const PLATFORM: &str = "discord";

/// How the adapter connects and behaves.
pub struct Options {
    /// The bot token.
    pub token: SecretString,
    /// A proxy (or the fake Discord) in front of the API; serenity's rate limiter is off then.
    pub api_base: Option<String>,
    /// Whether health text may be sent (off by default: Discord is not end-to-end encrypted).
    pub send_health_content: bool,
    /// What starts a staff command in a server channel.
    pub staff_prefix: String,
    /// How often the scheduler runs.
    pub tick_every: Duration,
    /// How often the outbox is looked at when nothing wakes it.
    pub poll_every: Duration,
}

impl Options {
    /// From `[discord]`; fails when no token is configured.
    pub fn from_config(config: &DiscordConfig) -> Result<Self> {
        let token = config.token.clone().context(
            "no Discord bot token: set CAREBOT_DISCORD_TOKEN, or token in [discord] in carebot.toml",
        )?;
        Ok(Self {
            token,
            api_base: config.api_base.clone(),
            send_health_content: config.send_health_content,
            staff_prefix: config.staff_prefix.clone(),
            tick_every: Duration::from_secs(5),
            poll_every: Duration::from_millis(500),
        })
    }
}

/// A connected adapter: the gateway client runs in the background; [`Discord::run`] runs the
/// scheduler and the outbox.
pub struct Discord {
    service: Arc<Service<DiscordChannel>>,
    shards: Arc<ShardManager>,
    gateway: JoinHandle<()>,
}

impl Discord {
    /// Builds the client and starts the gateway connection.
    pub async fn connect(bot: Arc<Carebot>, options: Options) -> Result<Self> {
        let token = options.token.expose_secret();
        let http = match &options.api_base {
            // Serenity's rate limiter would send straight to discord.com, ignoring the proxy
            // (serenity #1739); behind a proxy the proxy limits, and `rest.rs` reads 429s.
            Some(base) => HttpBuilder::new(token)
                .proxy(base.trim_end_matches('/'))
                .ratelimiter_disabled(true),
            None => HttpBuilder::new(token),
        }
        .build();
        let slot = Arc::new(OnceLock::new());
        let handler = events::Handler {
            service: slot.clone(),
            staff_prefix: options.staff_prefix.clone(),
        };
        let intents = GatewayIntents::DIRECT_MESSAGES
            | GatewayIntents::GUILD_MESSAGES
            | GatewayIntents::MESSAGE_CONTENT;
        // The error is serenity's; it does not contain the token.
        let mut client = serenity::all::ClientBuilder::new_with_http(http, intents)
            .event_handler(handler)
            .await
            .context("setting up the Discord client")?;
        let notice = bot.withheld_notice(Withheld::Platform("Discord"));
        let channel = DiscordChannel::new(
            rest::Rest::new(client.http.clone()),
            options.send_health_content,
            notice,
        );
        let mut service = Service::new(bot, Arc::new(channel));
        service.tick_every = options.tick_every;
        service.poll_every = options.poll_every;
        let service = Arc::new(service);
        let _ = slot.set(service.clone());
        let shards = client.shard_manager.clone();
        let gateway = tokio::spawn(async move {
            if let Err(e) = client.start().await {
                tracing::error!(error = %e, "the Discord gateway stopped");
            }
        });
        Ok(Self {
            service,
            shards,
            gateway,
        })
    }

    /// The service (bot, channel, outbox loop).
    pub fn service(&self) -> &Arc<Service<DiscordChannel>> {
        &self.service
    }

    /// Runs the scheduler and outbox until `shutdown`, then disconnects.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        self.service.run(shutdown).await;
        self.shards.shutdown_all().await;
        let _ = self.gateway.await;
        // No more events come in; a button press or message still being handled commits,
        // and its reply goes, before the process ends.
        self.service.finish(Duration::from_secs(10)).await;
    }
}

/// `carebot discord`: runs until SIGINT or SIGTERM.
pub async fn serve(
    bot: Carebot,
    options: Options,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<()> {
    let discord = Discord::connect(Arc::new(bot), options).await?;
    let store = discord.service().bot().store.clone();
    discord.run(shutdown).await;
    store.close().await;
    Ok(())
}
