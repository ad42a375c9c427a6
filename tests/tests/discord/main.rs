//! End-to-end tests of the Discord adapter: the real adapter and serenity 0.12.5, against the
//! fake Discord in `carebot_tests::fake_discord`, on a fresh SQLite database with a manual
//! clock. Each test reads what reached "Discord" and nothing else.

mod buttons;
mod crash;
mod delivery;
mod fanout;
mod flows;
mod gateway;

use carebot::serve::Service;
use carebot_discord::{escape, Discord, DiscordChannel, Options};
use carebot_runtime::clock::Clock as _;
use carebot_runtime::Carebot;
use carebot_store::people::Identity;
use carebot_tests::app::{spawn_app, Backend, TestApp, PLATFORM};
use carebot_tests::fake_discord::{FakeDiscord, SentMessage};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Discord user ids of the test home's people.
pub const AVA: u64 = 1001;
pub const KIM: u64 = 1003;
pub const SAM: u64 = 1005;

/// What a test needs switched on.
#[derive(Clone, Copy, Default)]
pub struct Setup {
    /// `[discord] send_health_content`.
    pub health: bool,
    /// The keyworkers' morning digest.
    pub digest: bool,
    /// How long one REST call may take (default: the adapter's own).
    pub rest_timeout: Option<Duration>,
    /// How long a 401 pauses all sending (default: the adapter's own).
    pub token_pause: Option<Duration>,
    /// REST calls a second the adapter makes at most (default: its own, under Discord's 50).
    pub per_second: Option<u32>,
    /// The gateway's heartbeat interval (default: Discord's).
    pub heartbeat: Option<Duration>,
}

/// Carebot connected to the fake Discord, its service loop running.
pub struct Rig {
    pub app: TestApp,
    pub fake: FakeDiscord,
    pub service: Arc<Service<DiscordChannel>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// Messages already looked at by [`Rig::next`], by id.
    seen: std::sync::Mutex<HashSet<u64>>,
    setup: Setup,
}

impl Rig {
    /// Ava and Kim are linked on Discord (and only there); Sam is not linked at all.
    pub async fn start(setup: Setup) -> Rig {
        let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
        let now = app.clock.now().timestamp_millis();
        for (handle, id) in [("ava", Some(AVA)), ("kim", Some(KIM)), ("sam", None)] {
            let test = Identity {
                platform: PLATFORM.into(),
                address: handle.into(),
            };
            app.bot
                .store
                .revoke_identity(&test, now)
                .await
                .expect("revoke");
            if let Some(id) = id {
                let discord = Identity {
                    platform: carebot_discord::PLATFORM.into(),
                    address: id.to_string(),
                };
                app.bot
                    .store
                    .bind_identity(&discord, app.id(handle), now)
                    .await
                    .expect("bind");
            }
        }
        let fake = FakeDiscord::start().await;
        if let Some(interval) = setup.heartbeat {
            fake.heartbeat_every(interval);
        }
        Rig::connect(app, fake, setup).await
    }

    /// Carebot (a fresh runtime on `app`'s database) connected to `fake`.
    async fn connect(app: TestApp, fake: FakeDiscord, setup: Setup) -> Rig {
        let mut bot: Carebot = app.restart(None).await;
        bot.schedule.digest = setup.digest;
        let sessions = fake.sessions().0;
        let discord = Discord::connect(
            Arc::new(bot),
            Options {
                token: "fake-bot-token".into(),
                api_base: Some(fake.api_base()),
                send_health_content: setup.health,
                staff_prefix: "!carebot".into(),
                // After its one run at start, the scheduler is run by the tests, at the
                // times they set.
                tick_every: Duration::from_secs(3600),
                poll_every: Duration::from_millis(50),
                rest_timeout: setup.rest_timeout.unwrap_or(Duration::from_secs(15)),
                token_pause: setup.token_pause.unwrap_or(Duration::from_secs(300)),
                per_second: setup.per_second.unwrap_or(carebot_discord::PER_SECOND),
            },
        )
        .await
        .expect("the adapter connects");
        let service = discord.service().clone();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(discord.run(stopped));
        fake.wait_for_sessions(sessions + 1, 0).await;
        // The service runs the scheduler once as it starts. Until that run is over, a test
        // that adds people and moves the clock could race it: a run that read the old time
        // and the new people starts check-ins for a day the test never meant.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while service.ticks_run() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the service's first scheduler run never finished"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let seen = std::sync::Mutex::new(fake.messages().iter().map(|m| m.id).collect());
        Rig {
            app,
            fake,
            service,
            stop,
            task,
            seen,
            setup,
        }
    }

    /// Stops the adapter (as `stop` does) and starts a new one on the same database and the
    /// same Discord, as a restart of `carebot discord` would.
    pub async fn restart(self) -> Rig {
        let setup = self.setup;
        let (app, fake) = self.stop_and_keep().await;
        Rig::connect(app, fake, setup).await
    }

    pub fn bot(&self) -> &Carebot {
        self.service.bot()
    }

    /// Sets the clock, runs the scheduler once and lets the outbox loop send.
    pub async fn tick_at(&self, at: &str) {
        let at: DateTime<Utc> = at.parse().expect("a time");
        self.app.clock.set(at);
        self.bot().tick().await.expect("tick");
        self.service.wake();
    }

    /// The next message the bot sent to `to`, which must say `text` (as typed in the flows; it
    /// arrives escaped for Discord). Each person's messages come in order; different people's
    /// may interleave in any order (they are delivered at once).
    pub async fn next(&self, to: u64, text: &str) -> SentMessage {
        let m = self.next_to(to).await;
        assert_eq!(m.content, escape(text), "the next message to {to}");
        m
    }

    /// The next message the bot sent to `to`, whatever it says.
    pub async fn next_to(&self, to: u64) -> SentMessage {
        let seen = self.lock_seen().clone();
        let unseen = |m: &SentMessage| m.to == to && !seen.contains(&m.id);
        self.fake
            .wait_until(&format!("a message to {to}"), |v| {
                v.messages().iter().any(unseen)
            })
            .await;
        let m = self
            .fake
            .messages()
            .into_iter()
            .find(unseen)
            .expect("the message waited for");
        self.lock_seen().insert(m.id);
        m
    }

    fn lock_seen(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Nothing more is coming, and nothing was sent that the test did not look at. Waits
    /// (up to a deadline) until no turn is in hand and the outbox holds nothing due or being
    /// sent for Discord: with the test's clock standing still, the bot then has nothing left
    /// to send. A wait on a condition, not a sleep.
    pub async fn quiet(&self) {
        let now = self.app.clock.now().timestamp_millis();
        let owed = format!(
            "SELECT COUNT(*) FROM outbox WHERE platform = '{}' AND status = 'pending' \
             AND (claimed_ms IS NOT NULL OR next_attempt_ms <= {now})",
            carebot_discord::PLATFORM
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = self.app.count(&owed).await;
            if left == 0 && self.service.turns_in_hand() == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the bot never finished: {left} messages still due"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let seen = self.lock_seen().clone();
        let extra: Vec<String> = self
            .fake
            .messages()
            .iter()
            .filter(|m| !seen.contains(&m.id))
            .map(|m| format!("to {}: {}", m.to, m.content))
            .collect();
        assert!(extra.is_empty(), "unexpected messages: {extra:#?}");
    }

    /// Stops the adapter and checks what holds for every message: mentions off, a nonce
    /// Discord enforces; and for every button press: acknowledged within Discord's window.
    pub async fn stop(self) {
        self.stop_and_keep().await;
    }

    async fn stop_and_keep(self) -> (TestApp, FakeDiscord) {
        let _ = self.stop.send(true);
        let ended = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the adapter stops when told")
            .expect("the adapter task did not panic");
        assert!(ended.is_ok(), "the adapter ended with an error: {ended:?}");
        assert_eq!(
            self.fake.late_callbacks(),
            0,
            "a button press was acknowledged after Discord's 3 seconds"
        );
        for m in self.fake.messages() {
            assert_eq!(
                m.payload["allowed_mentions"],
                serde_json::json!({ "parse": [], "users": [], "roles": [] }),
                "mentions must be off: {}",
                m.content
            );
            assert_eq!(m.payload["enforce_nonce"], true);
            assert_eq!(m.payload["nonce"].as_str().map(str::len), Some(25));
        }
        (self.app, self.fake)
    }
}
