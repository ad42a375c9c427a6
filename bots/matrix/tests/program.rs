//! The `carebot-matrix` program as an operator starts it: bad settings are named, file and
//! line, before anything is opened. (Serving real residents is tested against a real Synapse
//! in `tests/tests/matrix`, through `carebot matrix`.)

use std::process::{Command, Output};

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carebot-matrix"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CAREBOT_DATABASE_URL")
        .output()
        .expect("carebot-matrix runs")
}

#[test]
fn a_broken_config_is_named_by_file_and_line_and_nothing_is_opened() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(
        dir.path().join("carebot.toml"),
        "[database]\nurl = \"sqlite://here.db\"\n\n[matrix]\nhomeserver = \"http://127.0.0.1:1\"\nuser = 42\n",
    )
    .expect("write");
    let out = run(dir.path(), &["--config", "carebot.toml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("carebot.toml:6:"),
        "names the file and line: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("here.db").exists(), "no database made");
}

#[test]
fn it_takes_the_same_options_as_carebot() {
    let dir = tempfile::tempdir().expect("temp");
    let out = run(dir.path(), &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in ["--config", "--db", "--dialogs", "--verbose"] {
        assert!(help.contains(option), "{option} in: {help}");
    }
}
