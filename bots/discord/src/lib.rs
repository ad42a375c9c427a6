//! The Discord adapter: direct messages with linked people, buttons for quick answers, staff
//! commands in server channels, and health text held back unless the home opts in.
//!
//! - `events.rs`: gateway events → [`Inbound`](carebot_runtime::Inbound) (DMs, button
//!   presses, staff commands), handed to the shared [`Service`].
//! - `channel.rs`: outbox rows → DM messages (nonce, no mentions, buttons, chart).
//! - `rest.rs`: REST calls with rate limits read from the response.
//! - `text.rs`: escaping, splitting, nonces.
//!
//! Serenity runs the gateway: it reconnects and resumes by itself, and replays what was missed;
//! the inbound-event table makes a replayed event a no-op. A close Discord means for good (a
//! token it refuses, 4004; an intent the bot was not granted, 4014) ends `carebot discord`
//! with the reason and a non-zero exit, rather than sending check-ins it can never hear
//! answers to.

mod channel;
mod events;
mod rest;
mod text;

pub use channel::{DiscordChannel, CONCURRENCY};
pub use rest::PER_SECOND;
pub use text::{escape, nonce};

use anyhow::{Context as _, Result};
use carebot::config::DiscordConfig;
use carebot::serve::Service;
use carebot_runtime::Carebot;
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
    /// How long one REST call may take.
    pub rest_timeout: Duration,
    /// How long a rejected token (401) pauses all sending.
    pub token_pause: Duration,
    /// REST calls a second at most (under Discord's global limit of 50).
    pub per_second: u32,
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
            rest_timeout: rest::TIMEOUT,
            token_pause: rest::TOKEN_PAUSE,
            per_second: rest::PER_SECOND,
        })
    }
}

/// A connected adapter: the gateway client runs in the background; [`Discord::run`] runs the
/// scheduler and the outbox.
pub struct Discord {
    service: Arc<Service<DiscordChannel>>,
    shards: Arc<ShardManager>,
    /// Ends only when the gateway stops for good: the reason.
    gateway: JoinHandle<String>,
}

/// Why the gateway stopped, for an operator: what Discord said and what to do.
fn gateway_stopped(e: &serenity::Error) -> String {
    use serenity::gateway::GatewayError as G;
    match e {
        serenity::Error::Gateway(G::InvalidAuthentication) => "Discord refused the bot token (gateway close 4004): set the bot's current token in CAREBOT_DISCORD_TOKEN or [discord] token (the Developer Portal's Bot page can reset it)".into(),
        serenity::Error::Gateway(G::DisallowedGatewayIntents) => "Discord refused the Message Content intent (gateway close 4014): in the Developer Portal, open the application's Bot page and switch on Message Content Intent under Privileged Gateway Intents (Carebot reads staff commands in server channels with it)".into(),
        serenity::Error::Gateway(G::InvalidGatewayIntents) => "Discord refused the gateway intents Carebot asked for (gateway close 4013)".into(),
        other => format!("the Discord gateway stopped: {other}"),
    }
}

impl Discord {
    /// Builds the client and starts the gateway connection.
    pub async fn connect(bot: Arc<Carebot>, options: Options) -> Result<Self> {
        let token = options.token.expose_secret();
        let http = HttpBuilder::new(token).client(rest::client(options.rest_timeout));
        let http = match &options.api_base {
            // Serenity's rate limiter would send straight to discord.com, ignoring the proxy
            // (serenity #1739); behind a proxy the proxy limits, and `rest.rs` reads 429s.
            Some(base) => http
                .proxy(base.trim_end_matches('/'))
                .ratelimiter_disabled(true),
            None => http,
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
        let channel = DiscordChannel::new(
            rest::Rest::new(
                client.http.clone(),
                options.rest_timeout,
                options.token_pause,
                options.per_second,
            ),
            options.send_health_content,
            bot.store.clone(),
        );
        let mut service = Service::new(bot, Arc::new(channel));
        service.tick_every = options.tick_every;
        service.poll_every = options.poll_every;
        let service = Arc::new(service);
        let _ = slot.set(service.clone());
        let shards = client.shard_manager.clone();
        let gateway = tokio::spawn(async move {
            match client.start().await {
                Err(e) => gateway_stopped(&e),
                Ok(()) => "the Discord gateway stopped".to_string(),
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

    /// Runs the scheduler and outbox until `shutdown`, then disconnects. If the gateway stops
    /// for good first, everything stops and the reason is the error.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let (stop, stopped) = watch::channel(false);
        let service = self.service.clone();
        let serving = tokio::spawn(async move { service.run(stopped).await });
        let mut gateway = self.gateway;
        let failed = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => None,
            reason = &mut gateway => Some(reason.unwrap_or_else(|e| format!("the Discord gateway task ended: {e}"))),
        };
        let _ = stop.send(true);
        let _ = serving.await;
        self.shards.shutdown_all().await;
        if failed.is_none() {
            let _ = gateway.await;
        }
        // No more events come in; a button press or message still being handled commits,
        // and its reply goes, before the process ends.
        self.service.finish(Duration::from_secs(10)).await;
        match failed {
            None => Ok(()),
            Some(reason) => {
                tracing::error!(problem = %reason, "stopping: the Discord gateway is gone");
                Err(anyhow::anyhow!(reason))
            }
        }
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
    let ran = discord.run(shutdown).await;
    store.close().await;
    ran
}
