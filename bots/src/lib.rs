//! The chat adapters, as a library so the workspace tests can drive them against a real
//! Synapse and a fake Discord. Each adapter translates between a platform and
//! `carebot-core`; none holds care logic.
//!
//! - [`serve`]: the loop every adapter shares (receive, outbox, scheduler, shutdown).
//! - [`matrix`]: Matrix, end-to-end encrypted (matrix-sdk).
//! - [`discord`]: Discord (serenity); health text held back unless the home opts in.
//! - [`files`]: writing files that hold health data or secrets (mode 0600).
//! - [`metrics`]: an optional Prometheus endpoint (counts only, no personal data).

pub mod discord;
pub mod files;
pub mod matrix;
pub mod metrics;
pub mod serve;
