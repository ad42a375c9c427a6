//! Matrix test support: a real Synapse ([`synapse`]), real clients playing the people
//! ([`person`]), and the bot itself, running in this process or as the `carebot` binary
//! ([`bot`]).

pub mod bot;
pub mod person;
pub mod synapse;

pub use person::{Person, Seen};
pub use synapse::Synapse;

/// Matrix tests take turns: each runs real clients with end-to-end encryption against a
/// Python homeserver, and on two cores, side by side, they starve each other into timeouts.
/// (An async mutex: each test has its own runtime, and a failed test releases its turn.)
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}
