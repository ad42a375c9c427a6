//! What every Carebot program shares: the `carebot` binary (admin CLI, console, demo) and the
//! adapter programs `carebot-matrix` and `carebot-discord` (their own crates in `bots/matrix` and
//! `bots/discord`, so the demo's build compiles neither matrix-sdk nor serenity).
//!
//! This crate is the composition root: it owns the configuration and wires the store, the
//! dialogs and the runtime together. It holds no care logic and no chat platform.
//!
//! - [`config`]: layered configuration (file, then environment) with secrets kept out of logs.
//! - [`globals`]: the options every program takes (`--config`, `--db`, `--dialogs`, `-v`).
//! - [`setup`]: opening the store, loading the dialogs, building the [`carebot_runtime::Carebot`].
//! - [`shipped`]: the dialogs built into the binary, and writing them out for a home to edit.
//! - [`serve`]: the loop every adapter shares (receive, outbox, scheduler, shutdown).
//! - [`process`]: a program's `main`: logging, the async runtime, errors in plain words.
//! - [`files`]: writing files that hold health data or secrets (mode 0600).
//! - [`metrics`]: an optional Prometheus endpoint (counts only, no personal data).
//! - [`telemetry`]: logs to a sink the caller passes in; never message contents.

pub mod config;
pub mod files;
pub mod globals;
pub mod metrics;
pub mod process;
pub mod serve;
pub mod setup;
pub mod shipped;
pub mod telemetry;
