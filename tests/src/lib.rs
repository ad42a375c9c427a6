//! Test support shared by the workspace integration tests.
//!
//! - [`app`]: `spawn_app` — Carebot on a fresh database (SQLite file or PostgreSQL database),
//!   a manual clock and a recording channel.
//! - [`fake_discord`]: a fake Discord (REST and gateway) for driving the real adapter.
//! - [`kill`]: what the kill -9 tests share (the burst, the moment, the export read-back).
//! - [`matrix`]: a real Synapse started by the tests, real clients playing the people, and the
//!   bot in-process or as the binary.
//! - [`transcript`]: runs the readable conversations in `tests/transcripts/`.
// matrix-sdk's futures are deep; its docs ask for a higher limit in crates that spawn them.
#![recursion_limit = "256"]

pub mod app;
pub mod fake_discord;
pub mod kill;
pub mod matrix;
pub mod transcript;

/// The shipped dialogs folder.
pub fn dialogs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialogs")
}

/// The one way the tests launch Carebot: the [`carebot_binary`], run in `dir`, with no
/// database named by the environment of the test run itself (`DATABASE_URL`,
/// `CAREBOT_DATABASE_URL`): each launch says which database it means.
pub fn carebot_in(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(carebot_binary());
    command
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CAREBOT_DATABASE_URL");
    command
}

/// The `carebot` binary cargo built beside this test binary (or `CAREBOT_BIN`, to test an
/// installed one). `carebot matrix` and `carebot discord` run the adapter programs beside it,
/// so those must be there too.
pub fn carebot_binary() -> std::path::PathBuf {
    if let Some(bin) = std::env::var_os("CAREBOT_BIN") {
        return std::path::PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let bin = dir.join("carebot");
    for program in ["carebot", "carebot-matrix", "carebot-discord"] {
        let path = dir.join(program);
        assert!(
            path.exists(),
            "{} is missing: run the tests with `cargo test --workspace`, which builds it",
            path.display()
        );
    }
    bin
}

/// Expands each `suite::NAME(app)` into a test per backend, `sqlite::NAME` and
/// `postgres::NAME` (the PostgreSQL one prints SKIPPED and passes without a server, unless
/// `CAREBOT_REQUIRE_POSTGRES=1`). The calling file defines `mod suite`.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::app::spawn_app($crate::app::Backend::Sqlite).await.expect("sqlite");
                super::suite::$name(app).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = $crate::app::spawn_app($crate::app::Backend::Postgres).await {
                    super::suite::$name(app).await;
                }
            })*
        }
    };
}
