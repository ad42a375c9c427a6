//! `spawn_app`: a Carebot with a fresh database, a controlled clock and a channel that
//! records what it delivers (and can be told to fail).

use carebot_engine::domain::Role;
use carebot_engine::engine::{OutMessage, Settings};
use carebot_engine::flow::load_dir;
use carebot_engine::ids::PersonId;
use carebot_runtime::clock::ManualClock;
use carebot_runtime::{
    dispatch_due, Carebot, Carries, Channel, DeliveryError, Handled, Inbound, RetryPolicy,
};
use carebot_store::outbox::OutboxRow;
use carebot_store::people::{Identity, NewPerson};
use carebot_store::{Db, Store};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The platform name test identities use.
pub const PLATFORM: &str = "test";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file in a temp folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server.
    Postgres,
}

/// A fresh, empty database. Keeps its temp folder alive.
pub struct TestDb {
    /// The store.
    pub store: Store,
    /// Its URL.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The server the PostgreSQL suite uses (`CAREBOT_TEST_POSTGRES` overrides).
pub fn postgres_admin_url() -> String {
    std::env::var("CAREBOT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Creates a fresh database. For PostgreSQL returns `None` (and says so) when the server
/// cannot be reached, unless `CAREBOT_REQUIRE_POSTGRES=1`, when that is a failure.
pub async fn fresh_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("carebot.db").display());
            let store = Store::open(&url).await.expect("open sqlite");
            Some(TestDb {
                store,
                url,
                _dir: Some(dir),
            })
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            if !postgres_reachable(&admin_url) {
                return None;
            }
            let admin = match Store::connect(&admin_url).await {
                Ok(store) => match store.db() {
                    Db::Postgres(db) => db.pool().clone(),
                    Db::Sqlite(_) => panic!("CAREBOT_TEST_POSTGRES must be a postgres:// URL"),
                },
                Err(e) => panic!("PostgreSQL answered but could not be used: {e}"),
            };
            drop_stale_test_databases(&admin).await;
            static N: AtomicU64 = AtomicU64::new(0);
            let name = format!(
                "carebot_test_{}_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst),
                Utc::now().timestamp_micros()
            );
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .expect("create test database");
            admin.close().await;
            let url = match admin_url.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{name}"),
                None => panic!("CAREBOT_TEST_POSTGRES needs a database name"),
            };
            let store = Store::open(&url)
                .await
                .expect("open postgres test database");
            Some(TestDb {
                store,
                url,
                _dir: None,
            })
        }
    }
}

/// Whether the PostgreSQL server answers (asked once per test process). When it does not,
/// says so on stderr (past the test harness's capture, so it is seen) unless
/// `CAREBOT_REQUIRE_POSTGRES=1`, when it fails the test.
fn postgres_reachable(url: &str) -> bool {
    use std::io::Write;
    use std::sync::OnceLock;
    static REACHABLE: OnceLock<bool> = OnceLock::new();
    let reachable = *REACHABLE.get_or_init(|| {
        let host_port = url.split('@').next_back().and_then(|rest| rest.split('/').next()).unwrap_or("127.0.0.1:5432");
        let addr = std::net::ToSocketAddrs::to_socket_addrs(host_port).ok().and_then(|mut a| a.next());
        let ok = addr.is_some_and(|a| std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(1)).is_ok());
        if !ok && std::env::var("CAREBOT_REQUIRE_POSTGRES").as_deref() != Ok("1") {
            let _ = writeln!(std::io::stderr(), "\nSKIPPED: the PostgreSQL half of the store suite: no server at {host_port} (set CAREBOT_TEST_POSTGRES to point at one)\n");
        }
        ok
    });
    if !reachable && std::env::var("CAREBOT_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("PostgreSQL is required (CAREBOT_REQUIRE_POSTGRES=1) but {url} is unreachable");
    }
    reachable
}

/// Drops test databases left by runs more than an hour old (a test that panics cannot drop
/// its own; one that is still running elsewhere is younger than that).
async fn drop_stale_test_databases(admin: &sqlx::PgPool) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'carebot_test_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    let hour_ago = Utc::now().timestamp_micros() - 3_600_000_000;
    for name in names {
        let created: i64 = name
            .rsplit('_')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(i64::MAX);
        if created < hour_ago {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(admin)
            .await;
        }
    }
}

/// A delivery channel that records messages and fails on demand.
#[derive(Clone, Default)]
pub struct RecordingChannel {
    /// (address, message, idempotency key) in delivery order.
    pub delivered: Arc<Mutex<Vec<(String, OutMessage, String)>>>,
    /// Failures to return before succeeding again, oldest first.
    pub failures: Arc<Mutex<VecDeque<DeliveryError>>>,
    /// Addresses whose deliveries fail (a platform account or server that is down) with
    /// the given error until [`RecordingChannel::up`].
    pub down: Arc<Mutex<HashMap<String, DeliveryError>>>,
    /// The earlier-attempt count each successful delivery was handed, in delivery order
    /// (what tells a platform adapter to check before sending again).
    pub attempts: Arc<Mutex<Vec<i32>>>,
}

impl RecordingChannel {
    /// Makes the next `n` deliveries fail with `error`.
    pub fn fail_next(&self, n: usize, error: DeliveryError) {
        let mut f = self.failures.lock().expect("lock");
        f.extend(std::iter::repeat_n(error, n));
    }

    /// Makes every delivery to `address` fail with `error` until [`RecordingChannel::up`].
    pub fn down(&self, address: &str, error: DeliveryError) {
        self.down
            .lock()
            .expect("lock")
            .insert(address.to_string(), error);
    }

    /// Lets deliveries to `address` through again.
    pub fn up(&self, address: &str) {
        self.down.lock().expect("lock").remove(address);
    }

    /// The earlier-attempt counts the deliveries so far were handed.
    pub fn attempts_seen(&self) -> Vec<i32> {
        self.attempts.lock().expect("lock").clone()
    }

    /// Takes what was delivered so far.
    pub fn take(&self) -> Vec<(String, OutMessage, String)> {
        std::mem::take(&mut *self.delivered.lock().expect("lock"))
    }
}

impl Channel for RecordingChannel {
    fn platform(&self) -> &str {
        PLATFORM
    }

    /// The test platform stands for a private one (like the console); the outgoing policy
    /// for others is tested with channels of their own.
    fn carries(&self) -> Carries {
        Carries::Private
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        if let Some(e) = self.failures.lock().expect("lock").pop_front() {
            return Err(e);
        }
        if let Some(e) = self.down.lock().expect("lock").get(&row.address) {
            return Err(e.clone());
        }
        self.attempts.lock().expect("lock").push(row.attempts);
        self.delivered.lock().expect("lock").push((
            row.address.clone(),
            row.message.clone(),
            row.key.clone(),
        ));
        Ok(())
    }
}

/// Carebot wired for a test.
pub struct TestApp {
    /// The runtime.
    pub bot: Carebot,
    /// Its clock.
    pub clock: ManualClock,
    /// The channel everyone is reached on.
    pub channel: RecordingChannel,
    /// Handles → ids of the seeded people.
    pub people: HashMap<String, PersonId>,
    /// Retry policy for dispatching.
    pub policy: RetryPolicy,
    events: AtomicU64,
    /// The database (its URL lets a test reach it directly, e.g. to tamper with a row).
    pub db: TestDb,
}

/// 09:00 on a Monday in November, London time (= UTC in winter).
pub fn default_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .expect("valid time")
}

/// Spawns Carebot on a fresh `backend` database with the standard test home seeded:
/// ava (resident, two goals), ben (resident, no goals), kim (their keyworker), maria
/// (manager), sam (ava's family), and zed (a keyworker with no residents).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let db = fresh_db(backend).await?;
    let clock = ManualClock::new(default_start());
    let dialogs = Arc::new(load_dir(&crate::dialogs_dir()).expect("shipped dialogs load"));
    let bot = Carebot::new(
        db.store.clone(),
        dialogs,
        Arc::new(clock.clone()),
        Settings::default(),
    )
    .await
    .expect("runtime");
    let people = seed(&bot.store, clock.now_ms()).await;
    Some(TestApp {
        bot,
        clock,
        channel: RecordingChannel::default(),
        people,
        policy: RetryPolicy::default(),
        events: AtomicU64::new(0),
        db,
    })
}

/// The clock's time in epoch milliseconds.
pub trait NowMs {
    /// Now, in epoch milliseconds.
    fn now_ms(&self) -> i64;
}
impl NowMs for ManualClock {
    fn now_ms(&self) -> i64 {
        carebot_runtime::clock::Clock::now(self).timestamp_millis()
    }
}

/// The demo home, plus zed: a keyworker with no residents (to prove alerts stay with a
/// resident's own keyworker).
async fn seed(store: &Store, now: i64) -> HashMap<String, PersonId> {
    let mut people: HashMap<String, PersonId> = carebot_runtime::demo::seed(store, PLATFORM, now)
        .await
        .expect("demo home")
        .into_iter()
        .collect();
    let home = store.first_home().await.expect("home").expect("seeded");
    let zed = store
        .add_person(
            NewPerson {
                home,
                handle: "zed",
                name: "Zed Novak",
                role: Role::Keyworker,
            },
            now,
        )
        .await
        .expect("zed");
    store
        .bind_identity(
            &Identity {
                platform: PLATFORM.into(),
                address: "zed".into(),
            },
            zed,
            now,
        )
        .await
        .expect("identity");
    people.insert("zed".into(), zed);
    people
}

impl TestApp {
    /// `who` (a handle, or any unknown address) says `text`; returns what was delivered to
    /// anyone as a result, as (address, plain text).
    pub async fn say(&self, who: &str, text: &str) -> Vec<(String, String)> {
        let n = self.events.fetch_add(1, Ordering::SeqCst);
        self.handle(&Inbound {
            pressed: None,
            platform: PLATFORM.into(),
            sender: who.into(),
            event_id: format!("ev{n}"),
            text: text.into(),
        })
        .await;
        self.deliver().await
    }

    /// Handles one inbound event (use a fixed `event_id` to test replays).
    pub async fn handle(&self, inbound: &Inbound) -> Handled {
        self.bot.handle(inbound).await.expect("turn commits")
    }

    /// Delivers everything due; returns (address, plain text) in order.
    pub async fn deliver(&self) -> Vec<(String, String)> {
        dispatch_due(&self.bot, &self.channel, &self.policy)
            .await
            .expect("dispatch");
        self.channel
            .take()
            .into_iter()
            .map(|(to, m, _)| (to, m.plain()))
            .collect()
    }

    /// A second runtime on this app's database, as after a restart (optionally with other
    /// dialogs, as after staff edit a flow).
    pub async fn restart(&self, dialogs: Option<&std::path::Path>) -> Carebot {
        let dir = dialogs
            .map(|d| d.to_path_buf())
            .unwrap_or_else(crate::dialogs_dir);
        let dialogs = Arc::new(load_dir(&dir).expect("dialogs load"));
        Carebot::new(
            self.bot.store.clone(),
            dialogs,
            Arc::new(self.clock.clone()),
            Settings::default(),
        )
        .await
        .expect("restart")
    }

    /// `who` says `text` (as event `event`) to `bot`; returns the messages delivered.
    pub async fn say_to(
        &self,
        bot: &Carebot,
        who: &str,
        event: &str,
        text: &str,
    ) -> Vec<(String, OutMessage, String)> {
        let inbound = Inbound {
            pressed: None,
            platform: PLATFORM.into(),
            sender: who.into(),
            event_id: event.into(),
            text: text.into(),
        };
        bot.handle(&inbound).await.expect("turn commits");
        dispatch_due(bot, &self.channel, &self.policy)
            .await
            .expect("dispatch");
        self.channel.take()
    }

    /// Runs raw SQL against the test database, bypassing Carebot (to simulate tampering).
    pub async fn raw_sql(&self, sql: &str) {
        if self.db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db.url)
                .await
                .expect("sqlite");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .expect("raw sql");
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&self.db.url).await.expect("postgres");
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .expect("raw sql");
            pool.close().await;
        }
    }

    /// Runs one SQL statement against the test database directly and says whether the
    /// database accepted it (for checking what it refuses).
    pub async fn try_sql(&self, sql: &str) -> Result<(), String> {
        let result = if self.db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db.url)
                .await
                .expect("sqlite");
            let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .map(|_| ());
            pool.close().await;
            r
        } else {
            let pool = sqlx::PgPool::connect(&self.db.url).await.expect("postgres");
            let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&pool)
                .await
                .map(|_| ());
            pool.close().await;
            r
        };
        result.map_err(|e| e.to_string())
    }

    /// Runs a `SELECT COUNT(*) ...` (or any query returning one BIGINT) against the test
    /// database directly, to check what is stored without going through Carebot.
    pub async fn count(&self, sql: &str) -> i64 {
        if self.db.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.db.url)
                .await
                .expect("sqlite");
            let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&pool)
                .await
                .expect(sql);
            pool.close().await;
            n
        } else {
            let pool = sqlx::PgPool::connect(&self.db.url).await.expect("postgres");
            let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&pool)
                .await
                .expect(sql);
            pool.close().await;
            n
        }
    }

    /// Adds `n` residents (handles r1…rn) who check in at 09:00, each with a chat account.
    pub async fn add_residents(&self, n: usize) {
        carebot_runtime::demo::add_residents(&self.bot.store, n, PLATFORM)
            .await
            .expect("residents");
    }

    /// A seeded person's id.
    pub fn id(&self, handle: &str) -> PersonId {
        self.people[handle]
    }
}
