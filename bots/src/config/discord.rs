//! `[discord]`: the Discord adapter's settings.
//!
//! Kept apart from the rest of the configuration because only `carebot discord` reads it, and
//! because it holds the one setting that decides whether health text may leave for a platform
//! without end-to-end encryption.

use secrecy::SecretString;
use serde::Deserialize;

/// `[discord]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    /// The bot token from the Discord developer portal (`CAREBOT_DISCORD_TOKEN` overrides).
    /// A secret: it never prints, and the adapter never logs it.
    pub token: Option<SecretString>,
    /// Send text the flows mark as health information to Discord anyway. Discord is not
    /// end-to-end encrypted, so this is off unless the home decides otherwise; when off, the
    /// person is told where to read it instead.
    pub send_health_content: bool,
    /// What starts a staff command in a server channel ("!carebot review done Ava"). Anything
    /// else said in a server is ignored; replies always go by direct message.
    pub staff_prefix: String,
    /// Send API calls here instead of discord.com (a rate-limiting proxy, or the fake Discord
    /// in tests). Serenity's own rate limiter is bypassed then, because it would ignore the
    /// proxy (serenity #1739); the proxy is expected to do that job.
    pub api_base: Option<String>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        Self {
            token: None,
            send_health_content: false,
            staff_prefix: "!carebot".into(),
            api_base: None,
        }
    }
}
