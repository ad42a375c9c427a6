//! Carebot's engine: the domain, the dialogue engine, flows and what people mean. It does no
//! I/O: no database, no network, no clock of its own and no logging. This crate's manifest
//! holds neither tokio, sqlx nor tracing, so the compiler keeps it that way.
//!
//! # Layout
//!
//! - [`access`]: the one access table: who may read or write which records of whom.
//! - [`ids`]: typed ids, so a person is never mixed up with a goal.
//! - [`chart`]: small PNG charts of shared measures, with a bundled font.
//! - [`domain`]: people, roles, goals and the plain records the store hands out.
//! - [`flow`]: conversation flows loaded from the TOML files in `dialogs/`, the system texts and
//!   intents, and the validator behind `carebot dialogs check`.
//! - [`engine`]: the pure step function `(state, input, now) -> (state, effects)`.
//! - [`scheduler`]: when daily check-ins fall due in local time, across clock changes.
//! - [`understand`]: what people mean: concern rules with negation scope, typo tolerance and
//!   intents from example phrases, all from `dialogs/` data and all in-process; and the
//!   labelled-example evaluation behind `carebot dialogs test`.
//! - [`updates`]: building a family update from consented categories only.
//!
//! Reading flow files (`flow::load`) is the one exception to "no I/O": it reads the folder it
//! is given, once, at start-up; nothing in a turn touches the file system.
//!
//! Message bodies are health data: nothing in this crate logs them.
#![warn(missing_docs)]

pub mod access;
pub mod chart;
pub mod domain;
pub mod engine;
pub mod flow;
pub mod ids;
pub mod scheduler;
pub mod understand;
pub mod updates;
