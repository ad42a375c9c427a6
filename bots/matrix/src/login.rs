//! The bot's Matrix session: log in once, then restore.
//!
//! matrix-sdk keeps its state and end-to-end keys in SQLite stores under `store_dir`,
//! encrypted with `store_passphrase`. The session (user, device, access token) is kept beside
//! them in `session.json`, readable by the bot's user only. Restoring keeps the same device, so
//! the keys residents' clients shared with it stay valid, and the homeserver's memory of
//! transaction ids (which makes a resend a no-op) applies across restarts.

use anyhow::{Context, Result};
use carebot::config::MatrixConfig;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::encryption::EncryptionSettings;
use matrix_sdk::{Client, SessionMeta, SessionTokens};
use matrix_sdk_base::crypto::{CollectStrategy, DecryptionSettings, TrustRequirement};
use matrix_sdk_base::store::StateStoreDataKey;
use secrecy::ExposeSecret;
use std::path::Path;
use std::time::Duration;

const SESSION_FILE: &str = "session.json";

/// A logged-in client with its stores opened, and whether it has just logged in as a new
/// device (no session was kept).
pub async fn connect(config: &MatrixConfig) -> Result<(Client, bool)> {
    let dir = &config.store_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the Matrix store folder {}", dir.display()))?;
    let passphrase = config
        .store_passphrase
        .as_ref()
        .map(|p| p.expose_secret().to_string());
    let client = Client::builder()
        .homeserver_url(&config.homeserver)
        .sqlite_store(dir, passphrase.as_deref())
        // Cross-signing and recovery are set up by `identity`, which can answer the
        // homeserver's password prompt and says what to do when it cannot.
        .with_encryption_settings(EncryptionSettings {
            auto_enable_cross_signing: false,
            auto_enable_backups: false,
            ..EncryptionSettings::default()
        })
        // Room keys (and so health text) go only to devices their owner has cross-signed, as
        // today's Element does: a device the homeserver slipped in gets nothing.
        .with_room_key_recipient_strategy(CollectStrategy::IdentityBasedStrategy)
        // A message from an unsigned device of a cross-signed person is not read. A person
        // who never set up cross-signing (an old client) is still heard: someone asking for
        // help must be heard, and the reply tells them their app needs updating.
        .with_decryption_settings(DecryptionSettings {
            sender_device_trust_requirement: TrustRequirement::CrossSignedOrLegacy,
        })
        // Our outbox retries with backoff; the SDK gives up quickly so a send never hangs
        // while the homeserver is down.
        .request_config(
            RequestConfig::new()
                .timeout(Duration::from_secs(45))
                .retry_limit(1),
        )
        .build()
        .await
        .with_context(|| {
            format!(
                "opening the Matrix client for {} (is the store passphrase right?)",
                config.homeserver
            )
        })?;
    forget_sdk_sync_token(&client).await?;
    let session_path = dir.join(SESSION_FILE);
    let new_device = !session_path.exists();
    if new_device {
        // A new device cannot read anything sent before it existed (room keys go to the
        // devices there at the time), so an old sync token would only replay what it cannot
        // read: it starts afresh.
        let token = dir.join(super::sync::TOKEN_FILE);
        if token.exists() {
            tracing::info!("a new device of the bot: starting without the old sync token");
            std::fs::remove_file(&token)
                .with_context(|| format!("removing {}", token.display()))?;
        }
    }
    if !new_device {
        let text = std::fs::read_to_string(&session_path)
            .with_context(|| format!("reading {}", session_path.display()))?;
        let session: MatrixSession = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; delete it to log in again",
                session_path.display()
            )
        })?;
        client
            .restore_session(session)
            .await
            .context("restoring the Matrix session")?;
    } else if let Some(password) = &config.password {
        client
            .matrix_auth()
            .login_username(&config.user, password.expose_secret())
            .initial_device_display_name(&config.device_name)
            .await
            .with_context(|| format!("logging in to {} as {}", config.homeserver, config.user))?;
        save(&client, &session_path)?;
    } else if let Some(token) = &config.access_token {
        let user_id = matrix_sdk::ruma::UserId::parse(&config.user)
            .with_context(|| format!("[matrix] user '{}' is not a Matrix user id", config.user))?;
        let probe = Client::builder()
            .homeserver_url(&config.homeserver)
            .build()
            .await?;
        probe
            .restore_session(MatrixSession {
                meta: SessionMeta {
                    user_id: user_id.clone(),
                    device_id: "UNKNOWN".into(),
                },
                tokens: SessionTokens {
                    access_token: token.expose_secret().to_string(),
                    refresh_token: None,
                },
            })
            .await?;
        let me = probe.whoami().await.context("checking the access token")?;
        let device_id = me
            .device_id
            .context("the access token has no device; log in with a password instead")?;
        client
            .restore_session(MatrixSession {
                meta: SessionMeta { user_id, device_id },
                tokens: SessionTokens {
                    access_token: token.expose_secret().to_string(),
                    refresh_token: None,
                },
            })
            .await?;
        save(&client, &session_path)?;
    }
    tracing::info!(device = ?client.device_id(), "logged in to Matrix");
    Ok((client, new_device))
}

/// matrix-sdk drops a sync response whose token equals the last one it stored, taking it for
/// a repeat. It stores that token as soon as a response arrives, before Carebot has handled
/// the events in it. So after a crash in between, the replay of that batch (which the sync
/// loop asks for with Carebot's own, older token) would come back empty and a resident's
/// answer would be lost. Carebot's token is the one that counts; the SDK's is forgotten
/// before the session is restored (which is when the SDK reads it).
async fn forget_sdk_sync_token(client: &Client) -> Result<()> {
    client
        .state_store()
        .remove_kv_data(StateStoreDataKey::SyncToken)
        .await
        .context("clearing matrix-sdk's sync token")
}

/// Writes the session where only this user can read it.
fn save(client: &Client, path: &Path) -> Result<()> {
    let session = client
        .matrix_auth()
        .session()
        .context("the login gave no session")?;
    carebot::files::write_private(path, serde_json::to_string(&session)?.as_bytes())
}
