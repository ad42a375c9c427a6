//! `[matrix]`: how Carebot reaches its Matrix homeserver.
//!
//! Secrets (password, access token, the passphrase that encrypts the local crypto store) are
//! [`SecretString`]s: they never print, and can come from the environment instead of the file
//! (`CAREBOT_MATRIX_PASSWORD`, `CAREBOT_MATRIX_ACCESS_TOKEN`, `CAREBOT_MATRIX_STORE_PASSPHRASE`,
//! `CAREBOT_MATRIX_RECOVERY_KEY`).

use secrecy::SecretString;
use serde::Deserialize;
use std::path::PathBuf;

/// `[matrix]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatrixConfig {
    /// The homeserver's client URL, e.g. `https://matrix.rowan-house.example`.
    pub homeserver: String,
    /// The bot's Matrix user id, e.g. `@carebot:rowan-house.example`.
    pub user: String,
    /// The bot account's password (used for the first login only; the session is kept).
    pub password: Option<SecretString>,
    /// An access token instead of a password.
    pub access_token: Option<SecretString>,
    /// Where the session, sync token and end-to-end keys are kept (matrix-sdk's SQLite stores).
    pub store_dir: PathBuf,
    /// Encrypts the stores above. Required: the keys protect residents' messages.
    pub store_passphrase: Option<SecretString>,
    /// How long an unknown account's room is kept open for a `link CODE` before the bot leaves.
    pub unlinked_grace_secs: u64,
    /// Device name shown to people verifying the bot.
    pub device_name: String,
    /// Opens the bot's secret storage, so a new device of the bot (a lost store) can prove it
    /// is the bot. Better from the environment (`CAREBOT_MATRIX_RECOVERY_KEY`) or a file.
    pub recovery_key: Option<SecretString>,
    /// A file holding the recovery key (kept outside the repository, readable by the
    /// service only), instead of `recovery_key`.
    pub recovery_key_file: Option<PathBuf>,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        Self {
            homeserver: String::new(),
            user: String::new(),
            password: None,
            access_token: None,
            store_dir: PathBuf::from("matrix-store"),
            store_passphrase: None,
            unlinked_grace_secs: 600,
            device_name: "Carebot".into(),
            recovery_key: None,
            recovery_key_file: None,
        }
    }
}

impl MatrixConfig {
    /// Applies `CAREBOT_MATRIX_*` environment variables over the file.
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>) {
        if let Some(v) = env("CAREBOT_MATRIX_HOMESERVER") {
            self.homeserver = v;
        }
        if let Some(v) = env("CAREBOT_MATRIX_USER") {
            self.user = v;
        }
        if let Some(v) = env("CAREBOT_MATRIX_PASSWORD") {
            self.password = Some(SecretString::from(v));
        }
        if let Some(v) = env("CAREBOT_MATRIX_ACCESS_TOKEN") {
            self.access_token = Some(SecretString::from(v));
        }
        if let Some(v) = env("CAREBOT_MATRIX_STORE_PASSPHRASE") {
            self.store_passphrase = Some(SecretString::from(v));
        }
        if let Some(v) = env("CAREBOT_MATRIX_RECOVERY_KEY") {
            self.recovery_key = Some(SecretString::from(v));
        }
        if let Some(v) = env("CAREBOT_MATRIX_RECOVERY_KEY_FILE") {
            self.recovery_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("CAREBOT_MATRIX_STORE_DIR") {
            self.store_dir = PathBuf::from(v);
        }
    }

    /// The recovery key, from `recovery_key` or else `recovery_key_file`; the problem with the
    /// file, if it cannot be read.
    pub fn recovery_key(&self) -> Result<Option<SecretString>, String> {
        if let Some(key) = &self.recovery_key {
            return Ok(Some(key.clone()));
        }
        let Some(path) = &self.recovery_key_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{} cannot be read ({e})", path.display()))?;
        let key = text.trim();
        if key.is_empty() {
            return Err(format!("{} is empty", path.display()));
        }
        Ok(Some(SecretString::from(key.to_string())))
    }

    /// What is missing before the adapter can start, as a sentence naming the setting.
    pub fn missing(&self) -> Option<&'static str> {
        if self.homeserver.is_empty() {
            Some("[matrix] homeserver is not set (or CAREBOT_MATRIX_HOMESERVER): the homeserver's URL, e.g. https://matrix.example.org")
        } else if self.user.is_empty() {
            Some("[matrix] user is not set (or CAREBOT_MATRIX_USER): the bot's user id, e.g. @carebot:example.org")
        } else if self.password.is_none() && self.access_token.is_none() {
            Some("[matrix] needs a password or an access token (CAREBOT_MATRIX_PASSWORD or CAREBOT_MATRIX_ACCESS_TOKEN)")
        } else if self.store_passphrase.is_none() {
            Some("[matrix] store_passphrase is not set (or CAREBOT_MATRIX_STORE_PASSPHRASE): it encrypts the bot's keys on disk")
        } else {
            None
        }
    }
}
