//! Canary: distinctive fake health data sent through every flow and error path never appears
//! in the logs, at any level the binary can be run with. (Replies on stdout may of course
//! repeat a person's words back to them: that is the conversation, not a log.)

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const CANARY: &str = "Zq9canaryULCER";

fn script() -> String {
    let lines = [
        "check in".to_string(),
        format!("{CANARY} not great"), // an answer it cannot read as a mood
        "2".into(),
        "yes".into(),
        format!("my {CANARY} hurts on the walk"), // pain rule: alert with these words
        format!("rang about the {CANARY}"),
        format!("I need help now {CANARY}"), // urgent, from inside a flow
        format!("{}{CANARY}", "x".repeat(5000)), // too long to read
        "privacy".into(),
        "yes".into(),
        "yes".into(),
        "no".into(),
        "later".into(),
        format!("stop sharing my mood with {CANARY}"), // unclear withdrawal
        "message for my family".into(),
        format!("bring {CANARY} cream"),
        format!("remind me at {CANARY}"), // a time it cannot read
        "stop".into(),
        format!("{{{{ {CANARY} }}}}"), // template syntax while paused
        "start".into(),
    ];
    lines.join("\n") + "\n"
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let dialogs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialogs");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carebot"));
    cmd.args(["demo", "--dialogs", dialogs.to_str().expect("path")])
        .args(args)
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("finishes");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn health_data_never_reaches_the_logs_at_any_level() {
    for (args, env) in [
        (vec![], vec![("RUST_LOG", "trace")]),
        (vec![], vec![("RUST_LOG", "debug")]),
        (vec!["-v"], vec![]),
        (vec![], vec![]),
    ] {
        let dir = tempfile::tempdir().expect("temp");
        let (stdout, logs) = run(dir.path(), &args, &env);
        assert!(stdout.contains("straight away"), "the script really ran");
        assert!(
            !logs.contains(CANARY),
            "health data in the logs with {args:?} {env:?}:\n{logs}"
        );
        if env.first().is_some_and(|(_, level)| *level == "trace") {
            assert!(
                logs.lines().count() > 20,
                "trace logging was really on:\n{logs}"
            );
        }
    }
}
