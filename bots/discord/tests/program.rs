//! The `carebot-discord` program as an operator starts it: without a bot token it says what
//! to set, before any database is opened. (Serving people is tested against the fake Discord
//! in `tests/tests/discord`, through `carebot discord`.)

use std::process::Command;

#[test]
fn without_a_token_it_says_what_to_set_and_opens_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let out = Command::new(env!("CARGO_BIN_EXE_carebot-discord"))
        .args(["--db", "sqlite://here.db"])
        .current_dir(dir.path())
        .env_remove("CAREBOT_DISCORD_TOKEN")
        .env_remove("DATABASE_URL")
        .output()
        .expect("carebot-discord runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("CAREBOT_DISCORD_TOKEN"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("here.db").exists(), "no database made");
}
