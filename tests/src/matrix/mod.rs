//! Matrix test support: a real Synapse ([`synapse`]), real clients playing the people
//! ([`person`]), and the bot itself, running in this process or as the `carebot` binary
//! ([`bot`]).

pub mod bot;
pub mod person;
pub mod synapse;

pub use person::{Person, Seen};
pub use synapse::Synapse;

/// How long a test waits for something a real homeserver round trip brings (a reply, a
/// join, a device). On an idle machine it comes in well under a second; the bound is wide
/// because a loaded 2-core CI machine can stall Synapse for tens of seconds, and a wait
/// that ends early on its condition costs nothing when things are fast.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(90);

/// Matrix tests take turns: each runs real clients with end-to-end encryption against a
/// Python homeserver, and on two cores, side by side, they starve each other into timeouts.
/// (An async mutex: each test has its own runtime, and a failed test releases its turn.)
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}
