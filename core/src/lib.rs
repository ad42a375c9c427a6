//! Carebot's core: the domain, the dialogue engine, the scheduler and the store.
//!
//! # Layout
//!
//! - [`access`]: the one access table: who may read or write which records of whom.
//! - [`admin`]: setting a home up (people, relations, link codes), with its rules.
//! - [`ids`]: typed ids, so a person is never mixed up with a goal.
//! - [`chart`]: small PNG charts of shared measures, with a bundled font.
//! - [`clock`]: where time comes from; tests use [`clock::ManualClock`].
//! - [`domain`]: people, roles, goals and the plain records the store hands out.
//! - [`flow`]: conversation flows loaded from the TOML files in `dialogs/`, the system texts and
//!   intents, and the validator behind `carebot dialogs check`.
//! - [`engine`]: the pure step function `(state, input, now) -> (state, effects)`. No I/O.
//! - [`scheduler`]: when daily check-ins fall due in local time, across clock changes.
//! - [`store`]: sqlx persistence for SQLite and PostgreSQL, one SQL text for both.
//! - [`understand`]: what people mean: concern rules with negation scope, typo tolerance and
//!   intents from example phrases, all from `dialogs/` data and all in-process; and the
//!   labelled-example evaluation behind `carebot dialogs test`.
//! - [`updates`]: building a family update from consented categories only.
//! - [`runtime`]: loads, steps, persists and dispatches: the only place where the engine meets
//!   the store, and where the outbox is delivered through a [`runtime::Channel`].
//! - [`config`]: layered configuration (file, then environment) with secrets kept out of logs.
//! - [`demo`]: the demo home used by `carebot demo` and the tests.
//!
//! Message bodies are health data: nothing in this crate logs them.
#![warn(missing_docs)]

pub mod access;
pub mod admin;
pub mod chart;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod engine;
pub mod flow;
pub mod ids;
pub mod runtime;
pub mod scheduler;
pub mod store;
pub mod understand;
pub mod updates;
