//! Test support shared by the workspace integration tests.
//!
//! - [`app`]: `spawn_app` — Carebot on a fresh database (SQLite file or PostgreSQL database),
//!   a manual clock and a recording channel.
//! - [`transcript`]: runs the readable conversations in `tests/transcripts/`.

pub mod app;
pub mod transcript;

/// The shipped dialogs folder.
pub fn dialogs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialogs")
}
