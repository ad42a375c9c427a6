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

/// Copies the shipped dialogs folder (its files and the examples the learned model reads).
fn copy_dialogs(to: &Path) {
    for (from, to) in [
        (dialogs(), to.to_path_buf()),
        (dialogs().join("examples"), to.join("examples")),
    ] {
        std::fs::create_dir_all(&to).expect("folder");
        for entry in std::fs::read_dir(&from).expect("dialogs") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
            }
        }
    }
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

/// The files of the demo database in `dir` (the database, and its log files if present).
fn demo_db_files(dir: &Path) -> Vec<PathBuf> {
    [
        "carebot-demo.db",
        "carebot-demo.db-wal",
        "carebot-demo.db-shm",
    ]
    .iter()
    .map(|f| dir.join(f))
    .filter(|p| p.exists())
    .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_home_must_have_a_phone_number_before_anyone_is_served() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let db = format!("sqlite://{}", dir.path().join("home.db").display());
    let run = |args: &[&str]| {
        let mut all = vec!["--db", db.as_str(), "--dialogs", d.to_str().expect("path")];
        all.extend_from_slice(args);
        let out = carebot(dir.path(), &all, b"help\n");
        assert_no_panic(&out);
        out
    };
    let missing = run(&["home-add", "--name", "Oak Lodge"]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("--phone"),
        "{}",
        text(&missing.stderr)
    );
    let blank = run(&["home-add", "--name", "Oak Lodge", "--phone", " "]);
    assert!(!blank.status.success());
    assert!(
        text(&blank.stderr).contains("is not a phone number"),
        "{}",
        text(&blank.stderr)
    );
    assert!(
        run(&["home-add", "--name", "Oak Lodge", "--phone", "01632 000111"])
            .status
            .success()
    );
    assert!(run(&[
        "person-add",
        "ava",
        "--name",
        "Ava Jones",
        "--role",
        "resident"
    ])
    .status
    .success());
    // A home from an older version, with no number: nobody is served until it has one.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&db).await.expect("db");
        sqlx::query("UPDATE homes SET phone = ''")
            .execute(&pool)
            .await
            .expect("blank it");
        pool.close().await;
    });
    let refused = run(&["chat", "--as", "ava"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = text(&refused.stderr);
    assert!(
        err.contains("has no phone number") && err.contains("carebot home-phone"),
        "{err}"
    );
    assert!(text(&refused.stdout).is_empty(), "nothing was said");
    assert!(run(&["home-phone", "01632 000111"]).status.success());
    let served = run(&["chat", "--as", "ava"]);
    assert!(served.status.success(), "{}", text(&served.stderr));
    assert!(!text(&served.stdout).is_empty());
}

#[test]
fn erased_words_are_not_left_anywhere_in_the_database_files() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let words = "marmalade zebra under the stairs 4417";
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        format!("check in\n4\n{words}\n{words}\nno\n{words}\nyes\n").as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let found = |dir: &Path| {
        demo_db_files(dir)
            .iter()
            .map(|f| std::fs::read(f).expect("read"))
            .filter(|bytes| bytes.windows(words.len()).any(|w| w == words.as_bytes()))
            .count()
    };
    assert!(found(dir.path()) > 0, "the words were stored");
    let erased = carebot(
        dir.path(),
        &[
            "erase",
            "--person",
            "ava",
            "--confirm",
            "--db",
            "sqlite://carebot-demo.db",
        ],
        b"",
    );
    assert!(erased.status.success(), "{}", text(&erased.stderr));
    assert_eq!(
        found(dir.path()),
        0,
        "no copy in the file's free pages or its log"
    );
}

#[cfg(unix)]
#[test]
fn files_holding_health_data_are_private_and_status_warns_when_not() {
    let dir = tempfile::tempdir().expect("temp");
    let d = dialogs();
    let out = carebot(
        dir.path(),
        &["demo", "--dialogs", d.to_str().expect("path")],
        b"check in\n2\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in demo_db_files(dir.path()) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let db = ["--db", "sqlite://carebot-demo.db"];
    let export = carebot(
        dir.path(),
        &[&["export", "--person", "ava"][..], &db].concat(),
        b"",
    );
    assert!(export.status.success(), "{}", text(&export.stderr));
    for file in ["ava.json", "ava.md"] {
        assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
    }
    let status = |dir: &Path| text(&carebot(dir, &[&["status"][..], &db].concat(), b"").stdout);
    assert!(!status(dir.path()).contains("WARNING"));
    use std::os::unix::fs::PermissionsExt;
    let file = dir.path().join("carebot-demo.db");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let said = status(dir.path());
    assert!(
        said.contains("WARNING: other users on this machine can read")
            && said.contains("chmod 600"),
        "{said}"
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
