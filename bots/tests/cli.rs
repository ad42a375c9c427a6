//! The `carebot` binary as a person uses it: the demo, scripted chats, and every kind of bad
//! input getting a clear message instead of a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn dialogs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialogs")
}

/// Runs carebot with `args`, feeding `input` on stdin, in `dir`.
fn carebot(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carebot"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("CAREBOT_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carebot starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("carebot finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_panic(out: &Output) {
    let err = text(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

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
    for entry in std::fs::read_dir(dialogs()).expect("dialogs") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
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
        err.contains("could not open the PostgreSQL database"),
        "{err}"
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
fn staff_set_up_a_home_and_record_consent_only_with_a_basis() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let db = format!("sqlite://{}", dir.path().join("home.db").display());
    let run = |args: &[&str]| {
        let mut all = vec!["--db", db.as_str(), "--dialogs", d.to_str().expect("path")];
        all.extend_from_slice(args);
        carebot(dir.path(), &all, b"")
    };
    for args in [
        &["home-add", "--name", "Oak Lodge", "--phone", "01632 000111"][..],
        &[
            "person-add",
            "ava",
            "--name",
            "Ava Jones",
            "--role",
            "resident",
            "--checkin",
            "09:30",
        ],
        &[
            "person-add",
            "kim",
            "--name",
            "Kim Lee",
            "--role",
            "keyworker",
        ],
        &[
            "person-add",
            "sam",
            "--name",
            "Sam Jones",
            "--role",
            "family",
        ],
        &["relate", "ava", "kim", "--as", "keyworker"],
        &["relate", "ava", "sam", "--as", "family"],
        &["goal-add", "ava", "walk to the shop"],
        &["review-set", "ava", "--every", "28", "--next", "2026-12-01"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let code = run(&["link-code", "sam"]);
    assert!(code.status.success());
    assert_eq!(
        text(&code.stdout).lines().next().map(str::len),
        Some(9),
        "a code like K7QM-3XPA"
    );
    // A family member's word is never consent; staff need a basis.
    let by_family = run(&[
        "consent-record",
        "ava",
        "sam",
        "mood",
        "yes",
        "--by",
        "sam",
        "--lpa",
        "Jane Jones",
    ]);
    assert_eq!(by_family.status.code(), Some(1));
    assert!(text(&by_family.stderr).contains("only ava's own keyworker or manager"));
    let no_basis = run(&["consent-record", "ava", "sam", "mood", "yes", "--by", "kim"]);
    assert_eq!(
        no_basis.status.code(),
        Some(2),
        "clap refuses a missing basis"
    );
    let ok = run(&[
        "consent-record",
        "ava",
        "sam",
        "mood",
        "yes",
        "--by",
        "kim",
        "--lpa",
        "Jane Jones (registered 2024)",
    ]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let verify = run(&["audit-verify"]);
    assert!(verify.status.success());
    assert!(
        text(&verify.stdout).contains("intact (4 rows)"),
        "two relations, a link code, a consent: {}",
        text(&verify.stdout)
    );
    let tick = run(&["tick"]);
    assert!(tick.status.success(), "{}", text(&tick.stderr));
}

#[test]
fn status_shows_an_operator_counts_and_no_personal_details() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let args = ["demo", "--dialogs", d.to_str().expect("path")];
    let out = carebot(dir.path(), &args, b"I need help now, my chest hurts\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status = carebot(
        dir.path(),
        &["status", "--db", "sqlite://carebot-demo.db"],
        b"",
    );
    assert!(status.status.success(), "{}", text(&status.stderr));
    let s = text(&status.stdout);
    assert!(s.contains("Alerts not yet acknowledged: 1"), "{s}");
    assert!(
        s.contains("console    waiting 2, sent 1"),
        "the urgent alert waits for Kim and Maria; Ava's reply went: {s}"
    );
    assert!(
        !s.contains("chest") && !s.contains("Ava"),
        "counts only: {s}"
    );
}

#[test]
fn export_writes_everything_held_about_a_person_and_is_audited() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        b"check in\nnot great\nno\nI walked to the gate\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
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
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ava.json")).expect("json"))
            .expect("valid JSON");
    let raws: Vec<&str> = json["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .filter_map(|a| a["raw"].as_str())
        .collect();
    assert_eq!(raws, ["not great", "no", "I walked to the gate"]);
    assert_eq!(json["goals"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["person"][0]["display_name"], "Ava Thompson");
    let md = std::fs::read_to_string(dir.path().join("ava.md")).expect("markdown");
    assert!(
        md.contains("## answers") && md.contains("raw: I walked to the gate"),
        "{md}"
    );
    let again = carebot(
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
    assert!(again.status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ava.json")).expect("json"))
            .expect("valid JSON");
    let exports = json["audit_trail"]
        .as_array()
        .expect("audit")
        .iter()
        .filter(|r| r["action"] == "person.exported")
        .count();
    assert_eq!(
        exports, 1,
        "the first export is in the audit trail the second one read"
    );
}

#[test]
fn erase_removes_a_person_keeps_the_audit_chain_valid_and_says_what_it_kept() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let db = ["--db", "sqlite://carebot-demo.db"];
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        b"check in\nnot great\nmy hip hurts\nI need help now\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(db);
        let out = carebot(dir.path(), &all, b"");
        assert_no_panic(&out);
        out
    };
    let unconfirmed = run(&["erase", "--person", "ava"]);
    assert!(!unconfirmed.status.success());
    assert!(text(&unconfirmed.stderr).contains("--confirm"));
    let by_keyworker = run(&["erase", "--person", "ava", "--by", "kim", "--confirm"]);
    assert!(!by_keyworker.status.success());
    assert!(
        text(&by_keyworker.stderr).contains("only their manager or an admin"),
        "{}",
        text(&by_keyworker.stderr)
    );
    let erased = run(&["erase", "--person", "ava", "--by", "maria", "--confirm"]);
    assert!(erased.status.success(), "{}", text(&erased.stderr));
    let said = text(&erased.stdout);
    let answers: u64 = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("check-in answers: "))
        .and_then(|n| n.parse().ok())
        .expect("answers line");
    assert!(said.contains("Removed:") && answers >= 1, "{said}");
    assert!(
        said.contains("Kept:") && said.contains("audit rows about them"),
        "{said}"
    );
    assert!(said.contains("hash-chained"), "says why: {said}");
    let verify = run(&["audit-verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    assert!(text(&verify.stdout).contains("intact"));
    let export = run(&["export", "--person", "ava"]);
    assert!(!export.status.success(), "ava is no longer there");
    let people = text(&run(&["people"]).stdout);
    assert!(
        !people.contains("Ava") && people.contains("Erased person"),
        "{people}"
    );
    let unlink = run(&["unlink", "sam"]);
    assert!(text(&unlink.stdout).contains("Revoked 1 chat account(s) of sam"));
}

/// Someone with full access to the database removes the append-only guard and changes a row:
/// `carebot audit-verify` says the log is broken, names the row, and exits 1.
#[tokio::test]
async fn audit_verify_fails_and_names_the_row_when_the_log_was_changed() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        b"I need help now\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db = ["--db", "sqlite://carebot-demo.db"];
    let verify = || carebot(dir.path(), &[&["audit-verify"][..], &db[..]].concat(), b"");
    let intact = verify();
    assert!(intact.status.success(), "{}", text(&intact.stdout));

    let url = format!("sqlite://{}", dir.path().join("carebot-demo.db").display());
    let pool = sqlx::SqlitePool::connect(&url)
        .await
        .expect("the demo database");
    let refused = sqlx::query("UPDATE audit_log SET actor = 'someone else'")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the database refuses to change the log");
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&pool)
        .await
        .expect("drop the guard");
    let row: i64 = sqlx::query_scalar("SELECT MIN(id) FROM audit_log")
        .fetch_one(&pool)
        .await
        .expect("a row to change");
    sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE id = $1")
        .bind(row)
        .execute(&pool)
        .await
        .expect("tamper");
    pool.close().await;

    let broken = verify();
    assert_no_panic(&broken);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken.stdout));
    assert!(
        text(&broken.stdout).contains(&format!("BROKEN at row {row}")),
        "{}",
        text(&broken.stdout)
    );
}
