//! The installed binary: its built-in dialogs, and the adapter programs it hands over to.

use super::*;

/// An installed carebot has no dialogs folder beside it: its demo runs on the dialogs built
/// into it.
#[test]
fn an_installed_binary_runs_its_demo_with_no_dialogs_folder() {
    let dir = tempfile::tempdir().expect("temp");
    let out = carebot(dir.path(), &["demo"], b"check in\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("How are you feeling today?"), "{said}");
    assert!(
        !dir.path().join("dialogs").exists(),
        "nothing written beside it"
    );
    assert_no_panic(&out);
}

/// `dialogs export` writes the built-in dialogs for staff to edit; they check clean, and a
/// second export (here by its other name, `init`) overwrites nothing.
#[test]
fn dialogs_export_writes_a_copy_that_checks_clean_and_overwrites_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let out = carebot(dir.path(), &["dialogs", "export", "ours"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = dir.path().join("ours");
    assert!(ours.join("system.toml").exists());
    assert!(ours.join("examples/risk.tsv").exists());
    let check = carebot(dir.path(), &["dialogs", "check", "ours"], b"");
    assert!(check.status.success(), "{}", text(&check.stdout));
    std::fs::write(ours.join("help.toml"), "edited by staff").expect("edit");
    let again = carebot(dir.path(), &["dialogs", "init", "ours"], b"");
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("already there"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(ours.join("help.toml")).expect("read"),
        "edited by staff",
        "nothing overwritten"
    );
    assert_no_panic(&again);
}

/// `carebot matrix` runs the program `carebot-matrix` found beside carebot, with the same
/// options; the database URL goes in the environment, not on its command line, and its exit
/// status is carebot's. A stand-in script takes the adapter's place so only the hand-over is
/// under test (the real adapters are run this way by the Synapse and fake-Discord tests).
#[cfg(unix)]
#[test]
fn carebot_matrix_hands_over_to_the_adapter_program_beside_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    std::fs::copy(env!("CARGO_BIN_EXE_carebot"), bin.join("carebot")).expect("copy carebot");
    let script = bin.join("carebot-matrix");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"args: $*\"\necho \"db: $CAREBOT_DATABASE_URL\"\nexit 7\n",
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::new(bin.join("carebot"))
        .args([
            "--config",
            "home.toml",
            "matrix",
            "--db",
            "sqlite://secret.db",
        ])
        .current_dir(dir.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("carebot runs");
    let said = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(7),
        "the adapter's exit status: {said}"
    );
    assert!(said.contains("args: --config home.toml\n"), "{said}");
    assert!(said.contains("db: sqlite://secret.db"), "{said}");
    assert!(!said.contains("args: --config home.toml --db"), "{said}");
}

/// Without the adapter program, `carebot discord` says how to build or install it.
#[test]
fn a_missing_adapter_program_is_explained() {
    let dir = tempfile::tempdir().expect("temp");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    std::fs::copy(env!("CARGO_BIN_EXE_carebot"), bin.join("carebot")).expect("copy carebot");
    let out = Command::new(bin.join("carebot"))
        .arg("discord")
        .current_dir(dir.path())
        .env("PATH", dir.path())
        .output()
        .expect("carebot runs");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cargo build --release -p carebot-discord"),
        "{err}"
    );
    assert!(err.contains("cargo install --path bots/discord"), "{err}");
    assert_no_panic(&out);
}
