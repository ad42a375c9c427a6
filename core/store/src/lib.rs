//! Persistence with sqlx, for SQLite (the embedded default) and PostgreSQL (for organisations
//! running several Carebot instances).
//!
//! One SQL text serves both backends: queries use `$1` placeholders (SQLite reads them as
//! numbered parameters), times are epoch milliseconds, JSON is stored as text. The shared
//! store test-suite in `tests/` runs every query against both backends; that suite, not a
//! compile-time check, is what keeps the SQL honest (see ARCHITECTURE.md for why).
//!
//! - [`access`]: roles and relations for the access table; revoking chat accounts.
//! - [`people`]: homes, people, relations, chat identities, goals; `profile`: the engine's
//!   profile of a person, in as few queries as possible.
//! - [`turn`]: one conversation turn in one transaction (the transactional outbox).
//! - `writer`: group commit: every turn is queued to it and runs in a batch (a lone turn is a
//!   batch of one); `batch`: running a batch, with multi-row writes; `writes`: what a turn
//!   writes, as plain functions shared by every path; `conn`: the one place the write path
//!   binds and runs a statement on either backend.
//! - [`outbox`]: claiming and settling outgoing messages.
//! - [`erase`]: erasing a person, keeping the audit chain valid.
//! - [`retention`]: deleting old message bodies, events and timers.
//! - [`export`]: everything held about one person, for a subject access request.
//! - [`flows`]: every flow version a conversation may be pinned to.
//! - [`alerts`]: unacknowledged alerts and escalating them to managers.
//! - [`answers`]: reading stored answers back.
//! - [`digest`]: what a keyworker's morning digest says about each resident.
//! - [`consents`]: consent history, and decisions staff record with a lawful basis.
//! - [`safeguarding`]: alerts nobody can receive, handed back to the resident with a number.
//! - [`audit`]: the hash-chained, append-only audit log.
//! - [`reviews`]: care-plan reviews and messages to a resident's staff.
//! - [`status`]: counts for `carebot status`.
//! - [`schedule`]: check-in times, timers, scheduler progress, missed streaks.
//! - [`updates`]: what family updates draw on; queuing one with its audit row.
//! - [`links`]: one-time link codes that bind a chat account to a person.
//! - `sql`: SQL written once: the outbox column list, recording inbound events, and which of
//!   a resident's staff can be reached (alerts, escalation and review reminders share it).
#![warn(missing_docs)]

pub mod access;
pub mod alerts;
pub mod answers;
pub mod audit;
mod batch;
pub mod channels;
mod conn;
pub mod consents;
pub mod digest;
pub mod erase;
pub mod export;
pub mod flows;
pub mod links;
pub mod outbox;
pub mod people;
pub mod plans;
mod profile;
pub mod retention;
pub mod reviews;
pub mod safeguarding;
pub mod schedule;
mod sql;
pub mod status;
pub mod trust;
pub mod turn;
pub mod updates;
mod writer;
mod writes;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to the pool that takes writes (`$store` is a [`Store`] or a
/// [`Db`]). For one-off statements; the write path of turns uses `conn` instead.
macro_rules! with_db {
    ($store:expr, $pool:ident => $body:expr) => {
        match $crate::Db::of($store) {
            $crate::Db::Sqlite(db) => {
                let $pool = &db.write;
                $body
            }
            $crate::Db::Postgres(db) => {
                let $pool = &db.pool;
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to a pool for reads (SQLite readers do not queue behind the
/// writer in WAL mode).
macro_rules! with_read {
    ($store:expr, $pool:ident => $body:expr) => {
        match $crate::Db::of($store) {
            $crate::Db::Sqlite(db) => {
                let $pool = &db.read;
                $body
            }
            $crate::Db::Postgres(db) => {
                let $pool = &db.pool;
                $body
            }
        }
    };
}
pub(crate) use {with_db, with_read};

/// A failure in the store. None of these texts is ever shown to a person in a chat.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend Carebot has.
    #[error("'{0}' is not a database URL Carebot understands; use sqlite://PATH (for example sqlite://carebot.db) or postgres://USER@HOST:PORT/DATABASE")]
    BadUrl(String),
    /// The database could not be opened or reached.
    #[error("could not open the {backend} database {target}: {reason}")]
    Connect {
        /// "SQLite" or "PostgreSQL".
        backend: &'static str,
        /// The URL with any password removed.
        target: String,
        /// What the driver said.
        reason: String,
    },
    /// A migration failed.
    #[error("could not bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored value could not be read back (e.g. conversation state JSON).
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The SQLite writer could not run or commit a turn: its batch's commit failed, the engine
    /// panicked during it, or the writer stopped. Nothing of the turn was stored.
    #[error("the turn was not stored: {0}")]
    Writer(String),
}

/// Result alias for store calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A SQLite database: one writer connection (SQLite allows one writer at a time; queuing in
/// our process is cheaper and fairer than busy-waiting in SQLite), several readers.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub(crate) write: SqlitePool,
    pub(crate) read: SqlitePool,
}

/// A PostgreSQL database: a pool (many connections serve the reads; turns still queue to the
/// writer, where turns that arrive together share one transaction and multi-row writes, which
/// saves PostgreSQL most of its per-statement work).
#[derive(Clone, Debug)]
pub struct PgDb {
    pub(crate) pool: PgPool,
}

impl PgDb {
    /// The connection pool (for tests and tools that run their own SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The database itself: the connection pools, whichever backend. It runs statements and
/// batches of turns; it has no writer task (the writer task holds one).
#[derive(Clone, Debug)]
pub enum Db {
    /// Embedded SQLite in WAL mode with `synchronous=FULL`.
    Sqlite(SqliteDb),
    /// PostgreSQL.
    Postgres(PgDb),
}

impl Db {
    /// The database of a [`Store`] or of a `Db` (for the `with_db!`/`with_read!` macros).
    pub(crate) fn of<T: AsRef<Db> + ?Sized>(x: &T) -> &Db {
        x.as_ref()
    }

    /// True on PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }
}

impl AsRef<Db> for Db {
    fn as_ref(&self) -> &Db {
        self
    }
}

/// The store: the database and, on top, the group-commit writer every conversation turn is
/// queued to. Clones share both.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    writer: writer::Writer,
}

impl AsRef<Db> for Store {
    fn as_ref(&self) -> &Db {
        &self.db
    }
}

impl Store {
    /// Starts the writer on `db`.
    fn on(db: Db) -> Self {
        Self {
            writer: writer::Writer::spawn(db.clone()),
            db,
        }
    }

    /// The database under the store (for tests and tools that run their own SQL).
    pub fn db(&self) -> &Db {
        &self.db
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date. SQLite files are created
    /// when missing.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens without migrating.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url).await
        } else {
            Err(StoreError::BadUrl(redact(url)))
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Self> {
        let fail = |e: sqlx::Error| StoreError::Connect {
            backend: "SQLite",
            target: redact(url),
            reason: e.to_string(),
        };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(fail)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Health data: the file is created readable by this user only, and SQLite gives its
        // write-ahead log and shared-memory files the same mode.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            create_private(options.get_filename()).map_err(|e| StoreError::Connect {
                backend: "SQLite",
                target: redact(url),
                reason: format!("the database file cannot be created: {e}"),
            })?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(fail)?;
        // An in-memory database exists once per connection: share the writer.
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.create_if_missing(false))
                .await
                .map_err(fail)?
        };
        Ok(Store::on(Db::Sqlite(SqliteDb { write, read })))
    }

    async fn connect_postgres(url: &str) -> Result<Self> {
        let fail = |e: sqlx::Error| StoreError::Connect {
            backend: "PostgreSQL",
            target: redact(url),
            reason: e.to_string(),
        };
        let options = PgConnectOptions::from_str(url).map_err(fail)?;
        // One connection first, for a plain reason if it fails: the pool would only say it
        // timed out after five seconds.
        let first = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::postgres::PgConnection::connect_with(&options),
        )
        .await;
        let where_ = format!("{}:{}", options.get_host(), options.get_port());
        match first {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => {
                return Err(StoreError::Connect {
                    backend: "PostgreSQL",
                    target: redact(url),
                    reason: connect_reason(&e, &where_),
                })
            }
            Err(_) => {
                return Err(StoreError::Connect {
                    backend: "PostgreSQL",
                    target: redact(url),
                    reason: format!("no answer from {where_} within 5 seconds: check the host and port, and any firewall between"),
                })
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(fail)?;
        Ok(Store::on(Db::Postgres(PgDb { pool })))
    }

    /// A warning when the database's files can be read by users other than this one (an
    /// older install, or a file copied in): SQLite only; PostgreSQL's server guards its own.
    pub fn file_access_warning(&self) -> Option<String> {
        let Db::Sqlite(db) = &self.db else {
            return None;
        };
        let options = db.write.connect_options();
        let path = options.get_filename();
        let open: Vec<String> = ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| format!("{}{suffix}", path.display()))
            .filter(|p| readable_by_others(Path::new(p)))
            .collect();
        if open.is_empty() {
            None
        } else {
            Some(format!(
                "WARNING: other users on this machine can read the health data in {}: run `chmod 600 {}`",
                open.join(", "),
                open.join(" ")
            ))
        }
    }

    /// True when one Carebot process serves this database (per platform): SQLite. Then a
    /// claim on the outbox still held at start-up is from a run that stopped, not from a live
    /// instance elsewhere (PostgreSQL's instances wait for each other's leases instead).
    pub fn single_instance(&self) -> bool {
        !self.db.is_postgres()
    }

    /// How many bulk-write transactions (the scheduler's fan-out batches) may run at once:
    /// several on PostgreSQL, whose server works while the client waits; one on SQLite, which
    /// has a single writer.
    pub fn concurrent_batches(&self) -> usize {
        if self.db.is_postgres() {
            3
        } else {
            1
        }
    }

    /// Applies the migrations in `migrations/<backend>/`.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(db) => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(&db.write)
                    .await?
            }
            Db::Postgres(db) => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(&db.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// "SQLite" or "PostgreSQL".
    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }

    /// Closes every connection (flushes SQLite's WAL on the way).
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(db) => {
                db.read.close().await;
                db.write.close().await;
            }
            Db::Postgres(db) => db.pool.close().await,
        }
    }
}

/// `url` with any password replaced, safe to print.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((auth, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://{auth}@{host}"),
    }
}

/// Creates `path` empty, readable and writable by this user only, unless it exists.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `path` exists and users other than its owner may read or write it.
fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Why a first PostgreSQL connection failed, in words an operator can act on.
fn connect_reason(e: &sqlx::Error, where_: &str) -> String {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "the connection to {where_} was refused: is PostgreSQL running there, and is the port right?"
        ),
        sqlx::Error::Io(io) => format!("{where_} could not be reached ({io}): check the host name and port"),
        sqlx::Error::Database(db) => format!("{where_} refused: {}", db.message()),
        other => format!("{where_}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_printed() {
        assert_eq!(
            redact("postgres://bob:hunter2@db/care"),
            "postgres://bob:***@db/care"
        );
        assert_eq!(redact("sqlite://carebot.db"), "sqlite://carebot.db");
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_a_clear_error() {
        let err = Store::open("mysql://x").await.expect_err("must fail");
        assert!(err.to_string().contains("use sqlite://PATH"), "{err}");
    }
}
