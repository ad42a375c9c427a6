//! Bad input of every kind gets a clear, kind message and changes nothing; a chat resumes.

use super::*;

#[test]
fn the_shipped_dialogs_pass_the_check() {
    let dir = tempfile::tempdir().expect("temp");
    let out = carebot(
        dir.path(),
        &["dialogs", "check", dialogs().to_str().expect("path")],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("checkin"));
}

#[test]
fn a_broken_flow_is_reported_with_file_line_and_fix() {
    let dir = tempfile::tempdir().expect("temp");
    copy_dialogs(dir.path());
    let checkin = dir.path().join("checkin.toml");
    let broken = std::fs::read_to_string(&checkin)
        .expect("read")
        .replace("next = \"anything_else\"", "next = \"anythign_else\"");
    std::fs::write(&checkin, broken).expect("write");
    let out = carebot(dir.path(), &["dialogs", "check", "."], b"");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let line = std::fs::read_to_string(&checkin)
        .expect("read")
        .lines()
        .position(|l| l.contains("anythign_else"))
        .expect("typo present")
        + 1;
    assert!(
        stdout.contains(&format!("checkin.toml:{line}:")),
        "{stdout}"
    );
    assert!(
        stdout.contains("'anythign_else', which does not exist"),
        "{stdout}"
    );
    assert!(stdout.contains("fix:"), "{stdout}");
}

#[test]
fn a_bad_database_url_is_a_clear_error_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp");
    let out = carebot(
        dir.path(),
        &[
            "chat",
            "--as",
            "ava",
            "--db",
            "carebot.db",
            "--dialogs",
            dialogs().to_str().expect("path"),
        ],
        b"hi\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("'carebot.db' is not a database URL Carebot understands; use sqlite://PATH"),
        "{}",
        text(&out.stderr)
    );
    assert_no_panic(&out);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn an_unreachable_postgres_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp");
    let url = "postgres://nobody:secret-pw@127.0.0.1:1/none";
    let out = carebot(
        dir.path(),
        &[
            "chat",
            "--as",
            "ava",
            "--db",
            url,
            "--dialogs",
            dialogs().to_str().expect("path"),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("could not open the PostgreSQL database")
            && err.contains("the connection to 127.0.0.1:1 was refused")
            && err.contains("is PostgreSQL running there"),
        "what failed, where, and what to check: {err}"
    );
    assert!(
        !err.contains("secret-pw"),
        "the password is never printed: {err}"
    );
    assert_no_panic(&out);
}

#[test]
fn a_broken_config_file_names_its_line() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(
        dir.path().join("carebot.toml"),
        "[home]\nname = \"Rowan House\"\ntimezone = \"Europe/Lodnon\"\n",
    )
    .expect("write");
    let out = carebot(dir.path(), &["demo"], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("carebot.toml:3:"), "{err}");
    assert!(err.contains("Europe/Lodnon"), "{err}");
    assert_no_panic(&out);
    assert!(
        !dir.path().join("carebot-demo.db").exists(),
        "nothing written"
    );
}

#[test]
fn an_unknown_person_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let args = [
        "demo",
        "--as",
        "nobody",
        "--dialogs",
        d.to_str().expect("path"),
    ];
    let out = carebot(dir.path(), &args, b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("there is nobody called 'nobody' here"));
}

#[test]
fn a_scripted_demo_chat_resumes_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let args = ["demo", "--dialogs", d.to_str().expect("path")];
    let first = carebot(dir.path(), &args, b"check in\n4\n");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let out = text(&first.stdout);
    assert!(out.contains("How are you feeling today?"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("Your goal is: walk to the garden. How did that go today?"),
        "{out}"
    );
    assert!(dir.path().join("carebot-demo.db").exists());
    let second = carebot(dir.path(), &args, b"I walked there with Kim\n");
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(
        text(&second.stdout).trim_end(),
        "Your goal is: phone my sister Sam on Sunday. How did that go today?"
    );
}

#[test]
fn a_two_megabyte_message_gets_a_polite_reply() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let mut input = b"check in\n".to_vec();
    input.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    input.extend(b"\n\xff\xfe not utf-8\n4\n");
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        &input,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_no_panic(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("That message is too long for me to read"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Sorry, I didn't understand that."),
        "odd bytes get a kind reply: {stdout}"
    );
    assert!(
        stdout.contains("Your goal is: walk to the garden"),
        "and the conversation carries on"
    );
}

#[test]
fn a_residents_escape_sequences_are_shown_not_obeyed_and_kept_as_written() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let note = "\u{1b}]0;pwned\u{7}\u{1b}[2J hello";
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        format!("check in\n4\nfine\nfine\n{note}\n").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Here's what I've written down"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "no control character reaches the terminal: {stdout:?}"
    );
    assert!(
        stdout.contains("\u{241b}]0;pwned\u{2407}\u{241b}[2J hello"),
        "{stdout:?}"
    );
    let export = carebot(
        dir.path(),
        &[
            "export",
            "--person",
            "ava",
            "--db",
            "sqlite://carebot-demo.db",
        ],
        b"",
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    let json = std::fs::read_to_string(dir.path().join("ava.json")).expect("export");
    assert!(
        json.contains(r"\u001b]0;pwned\u0007\u001b[2J hello"),
        "stored as written"
    );
}

#[test]
fn every_message_gets_a_reply_even_one_of_only_spaces() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let mut input = b"check in\n".to_vec();
    input.extend(std::iter::repeat_n(b' ', 10_000));
    input.extend(b"\n4\n");
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        &input,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let feeling = lines
        .iter()
        .position(|l| l.contains("How are you feeling today?"))
        .expect("the question");
    assert!(
        lines[feeling + 1].contains("I didn't find any"),
        "the spaces got a reply: {stdout}"
    );
    assert!(
        lines[feeling + 2].contains("Your goal is: walk to the garden"),
        "and changed nothing: the 4 answered the question: {stdout}"
    );
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let seeded = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        b"",
    );
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    // `carebot people | head -0`: the reading end is closed before carebot writes a thing.
    let mut child = Command::new(env!("CARGO_BIN_EXE_carebot"))
        .args(["people", "--db", "sqlite://carebot-demo.db"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carebot starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("carebot finishes");
    assert_no_panic(&out);
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

#[test]
fn a_setting_of_the_wrong_kind_names_the_key_and_what_it_takes() {
    for (line, key, wanted) in [
        ("max_retries = \"three\"", "max_retries", "a whole number"),
        (
            "max_message_chars = -5",
            "max_message_chars",
            "a whole number, 0 or more",
        ),
    ] {
        let dir = tempfile::tempdir().expect("temp");
        std::fs::write(
            dir.path().join("carebot.toml"),
            format!("[home]\nname = \"Rowan House\"\n\n[engine]\n{line}\n"),
        )
        .expect("write");
        let out = carebot(dir.path(), &["demo"], b"");
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(err.contains("carebot.toml:5:"), "{err}");
        assert!(
            err.contains(&format!("`{key}`")) && err.contains(wanted),
            "{err}"
        );
        assert!(
            !err.contains("invalid type") && !err.contains("expected u8"),
            "{err}"
        );
        assert_no_panic(&out);
        assert!(
            !dir.path().join("carebot-demo.db").exists(),
            "nothing written"
        );
    }
}

#[test]
fn a_bad_time_of_day_names_its_line_before_any_database_is_made() {
    for key in ["family_update_time", "staff_time"] {
        let dir = tempfile::tempdir().expect("temp");
        std::fs::write(
            dir.path().join("carebot.toml"),
            format!("[database]\nurl = \"sqlite://made.db\"\n\n[schedule]\n{key} = \"25:99\"\n"),
        )
        .expect("write");
        let out = carebot(dir.path(), &["status"], b"");
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains("carebot.toml:5:") && err.contains(key) && err.contains("HH:MM"),
            "{err}"
        );
        assert!(
            !dir.path().join("made.db").exists(),
            "the database was not created"
        );
    }
}
