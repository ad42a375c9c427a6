//! Carebot on Matrix, for tests: in this process (sharing a test's clock and database), or as
//! the real `carebot matrix` binary (so a test can kill it with SIGKILL).

use super::Synapse;
use carebot::config::MatrixConfig;
use carebot_matrix::Options;
use carebot_runtime::Carebot;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::{OwnedUserId, RoomId};
use matrix_sdk::Client;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use tokio::sync::watch;

/// The bot's account and its on-disk Matrix stores.
pub struct BotAccount {
    /// `@carebot-N:localhost`.
    pub user_id: OwnedUserId,
    /// Homeserver URL.
    pub homeserver: String,
    password: String,
    /// Opens the bot's secret storage (given as a passphrase, which Carebot accepts too).
    pub recovery_key: String,
    /// Session, sync token and crypto store live here.
    pub store: tempfile::TempDir,
}

impl BotAccount {
    /// Registers a fresh bot account on `synapse`.
    pub async fn register(synapse: &Synapse, localpart: &str) -> Self {
        Self::register_as(synapse, localpart, false).await
    }

    /// Registers a fresh bot account that is a server admin (so it may read its own rate
    /// limit override).
    pub async fn register_admin(synapse: &Synapse, localpart: &str) -> Self {
        Self::register_as(synapse, localpart, true).await
    }

    async fn register_as(synapse: &Synapse, localpart: &str, admin: bool) -> Self {
        let password = format!("pw-{localpart}");
        let user = synapse.register(localpart, &password, admin).await;
        Self {
            user_id: OwnedUserId::try_from(user).expect("user id"),
            homeserver: synapse.url.clone(),
            password,
            recovery_key: format!("test-recovery-{localpart}"),
            store: tempfile::tempdir().expect("store dir"),
        }
    }

    /// The secrets the bot is given (its password, the store passphrase and its recovery
    /// key), for checking they never reach a log.
    pub fn secrets(&self) -> [&str; 3] {
        [&self.password, "test-store-passphrase", &self.recovery_key]
    }

    /// Deletes everything the bot keeps on disk for Matrix (session, sync token, end-to-end
    /// keys), as a lost disk or a move to a new machine would.
    pub fn lose_store(&self) {
        for entry in std::fs::read_dir(self.store.path()).expect("store dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path).expect("remove");
            } else {
                std::fs::remove_file(&path).expect("remove");
            }
        }
    }

    /// The sync token the bot last finished handling (its own file in the store folder).
    pub fn handled_token(&self) -> String {
        std::fs::read_to_string(self.store.path().join("carebot-sync-token"))
            .expect("the bot has synced at least once")
            .trim()
            .to_string()
    }

    /// What matrix-sdk does inside the bot just before a crash: syncs with the bot's own
    /// device and stores from `since` until a batch carries an event in `room`, records that
    /// batch as seen (as the SDK does), and stops: the bot itself never handles it. The bot
    /// must be stopped while this runs.
    pub async fn sdk_sees_without_handling(&self, since: &str, room: &RoomId) {
        let client = Client::builder()
            .homeserver_url(&self.homeserver)
            .sqlite_store(self.store.path(), Some("test-store-passphrase"))
            .build()
            .await
            .expect("the bot's stores open");
        let text = std::fs::read_to_string(self.store.path().join("session.json"))
            .expect("the bot's session");
        let session: MatrixSession = serde_json::from_str(&text).expect("a session");
        client
            .restore_session(session)
            .await
            .expect("the bot's session restores");
        let mut since = since.to_string();
        for _ in 0..6 {
            let settings = SyncSettings::default()
                .token(since.clone())
                .timeout(std::time::Duration::from_secs(5));
            let response = client.sync_once(settings).await.expect("sync");
            let got = response
                .rooms
                .joined
                .get(room)
                .is_some_and(|r| !r.timeline.events.is_empty());
            if got {
                return;
            }
            since = response.next_batch;
        }
        panic!("no event in {room} reached the bot's device");
    }

    /// Logs the account in once through the client API (as an admin would, to hand the bot a
    /// token rather than a password) and returns the `[matrix]` settings with that access
    /// token and no password.
    pub async fn config_with_access_token(&self) -> MatrixConfig {
        let token = self.login_token().await;
        MatrixConfig {
            password: None,
            access_token: Some(SecretString::from(token)),
            ..self.config()
        }
    }

    /// Exempts the account from the homeserver's message rate limit, as the README tells an
    /// administrator to (Synapse's `override_ratelimit`; the account must be an admin here).
    pub async fn exempt_from_rate_limits(&self) {
        let token = self.login_token().await;
        let status = matrix_sdk::reqwest::Client::new()
            .post(format!(
                "{}/_synapse/admin/v1/users/{}/override_ratelimit",
                self.homeserver, self.user_id
            ))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(r#"{"messages_per_second": 0, "burst_count": 0}"#)
            .send()
            .await
            .expect("override_ratelimit")
            .status();
        assert!(status.is_success(), "override_ratelimit: {status}");
    }

    /// A fresh access token for the account (a new device), from the client login API.
    async fn login_token(&self) -> String {
        let http = matrix_sdk::reqwest::Client::new();
        let body = serde_json::json!({
            "type": "m.login.password",
            "identifier": { "type": "m.id.user", "user": self.user_id.localpart() },
            "password": self.password,
            "initial_device_display_name": "carebot (token)",
        });
        let reply = http
            .post(format!("{}/_matrix/client/v3/login", self.homeserver))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("login")
            .text()
            .await
            .expect("login reply");
        let reply: serde_json::Value = serde_json::from_str(&reply).expect("login JSON");
        reply["access_token"]
            .as_str()
            .expect("an access token")
            .to_string()
    }

    /// The `[matrix]` settings for this account.
    pub fn config(&self) -> MatrixConfig {
        MatrixConfig {
            homeserver: self.homeserver.clone(),
            user: self.user_id.to_string(),
            password: Some(SecretString::from(self.password.clone())),
            store_dir: self.store.path().to_path_buf(),
            store_passphrase: Some(SecretString::from("test-store-passphrase")),
            recovery_key: Some(SecretString::from(self.recovery_key.clone())),
            unlinked_grace_secs: 5,
            ..MatrixConfig::default()
        }
    }
}

/// The adapter running as a task in this process.
pub struct InProcess {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    /// Starts the adapter for `bot` as `account`.
    pub fn start(bot: Arc<Carebot>, account: &BotAccount, options: Options) -> Self {
        Self::start_with(bot, account.config(), options)
    }

    /// Starts the adapter for `bot` with `config` (e.g. an access token instead of a password).
    pub fn start_with(bot: Arc<Carebot>, config: MatrixConfig, options: Options) -> Self {
        let (stop, rx) = watch::channel(false);
        let task =
            tokio::spawn(async move { carebot_matrix::run(bot, &config, options, rx).await });
        Self { stop, task }
    }

    /// Stops it gracefully and waits.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the Matrix adapter failed: {e:#}"),
            Err(e) => panic!("the Matrix adapter panicked: {e}"),
        }
    }
}

/// The `carebot matrix` binary as a child process.
pub struct Binary {
    child: Child,
}

impl Binary {
    /// Runs `carebot matrix` with a config file for `account`, the database at `db_url` and
    /// the shipped dialogs. Logs go to `log`.
    pub fn start(account: &BotAccount, db_url: &str, log: &Path) -> Self {
        Self::start_with(account, db_url, log, Some(&account.recovery_key), None)
    }

    /// [`Self::start`] with the recovery key given (`None`: none, as on a first run where
    /// Carebot creates one) and standard output kept in `stdout` (where a new key is shown).
    pub fn start_with(
        account: &BotAccount,
        db_url: &str,
        log: &Path,
        recovery_key: Option<&str>,
        stdout: Option<&Path>,
    ) -> Self {
        let config = account.store.path().join("carebot.toml");
        let toml = format!(
            "[database]\nurl = \"{db_url}\"\n[dialogs]\ndir = \"{}\"\n[matrix]\nhomeserver = \"{}\"\nuser = \"{}\"\nstore_dir = \"{}\"\nunlinked_grace_secs = 60\n",
            crate::dialogs_dir().display(),
            account.homeserver,
            account.user_id,
            account.store.path().display(),
        );
        std::fs::write(&config, toml).expect("config");
        let log = std::fs::File::create(log).expect("log file");
        let mut command = crate::carebot_in(config.parent().expect("the config's folder"));
        command
            .arg("--config")
            .arg(&config)
            .arg("--verbose")
            .arg("matrix")
            .env("CAREBOT_MATRIX_PASSWORD", &account.password)
            .env("CAREBOT_MATRIX_STORE_PASSPHRASE", "test-store-passphrase")
            .env_remove("CAREBOT_MATRIX_RECOVERY_KEY")
            .stdin(Stdio::null())
            .stderr(log);
        if let Some(key) = recovery_key {
            command.env("CAREBOT_MATRIX_RECOVERY_KEY", key);
        }
        match stdout {
            Some(path) => command.stdout(std::fs::File::create(path).expect("stdout file")),
            None => command.stdout(Stdio::null()),
        };
        let child = command.spawn().expect("carebot starts");
        Self { child }
    }

    /// SIGTERM, then waits up to `patience` for a clean exit (status 0).
    pub fn terminate(self, patience: std::time::Duration) -> bool {
        self.signal("-TERM", patience)
    }

    /// SIGINT (Ctrl-C), then waits up to `patience` for a clean exit (status 0).
    pub fn interrupt(self, patience: std::time::Duration) -> bool {
        self.signal("-INT", patience)
    }

    fn signal(mut self, signal: &str, patience: std::time::Duration) -> bool {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + patience;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `carebot` binary (see [`crate::carebot_binary`]).
pub fn binary() -> PathBuf {
    crate::carebot_binary()
}
