//! What staff set up, see, export and erase through the binary, and the files that hold it.

use super::*;

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
fn a_care_plan_file_is_checked_before_anything_is_written() {
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
        ],
        &[
            "person-add",
            "kim",
            "--name",
            "Kim Lee",
            "--role",
            "keyworker",
        ],
        &["relate", "ava", "kim", "--as", "keyworker"],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let audit_rows = || text(&run(&["audit-verify"]).stdout);
    let before = audit_rows();
    let plan = dir.path().join("plan.toml");
    // A misspelt key: the file, its line, the key and what to write instead.
    std::fs::write(
        &plan,
        "[[section]]\ntitle = \"What matters to me\"\ntxet = \"My garden.\"\n",
    )
    .expect("write");
    let out = run(&["plan-set", "ava", plan.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("plan.toml:3") && err.contains("txet") && err.contains("fix:"),
        "{err}"
    );
    assert_no_panic(&out);
    // An empty section is pointed at too.
    std::fs::write(
        &plan,
        "[[section]]\ntitle = \"What matters to me\"\ntext = \" \"\n",
    )
    .expect("write");
    let out = run(&["plan-set", "ava", plan.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("plan.toml:3"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(audit_rows(), before, "nothing was written");
    // Only a resident has a care plan.
    std::fs::write(
        &plan,
        "[[section]]\ntitle = \"What matters to me\"\ntext = \"My garden, and Sam.\"\n",
    )
    .expect("write");
    let out = run(&["plan-set", "kim", plan.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a resident"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "plan-set",
        "ava",
        plan.to_str().expect("path"),
        "--by",
        "kim",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Wrote version 1 of ava's care plan (1 section)"),
        "{}",
        text(&out.stdout)
    );
    assert_ne!(audit_rows(), before, "the new version is audited");
}
