//! Shared by the kill -9 tests (`tests/tests/console_crash.rs`, `tests/tests/discord/crash.rs`):
//! the home they run in, made through the binary's admin commands; the burst of check-in
//! answers a resident sends; a repeatable "random" moment per seed; and reading back what was
//! stored through the binary's own export. Everything goes to `care.db` in the test's folder.

use std::path::Path;

/// Check-in after check-in, `cycles` times: "check in", a mood, one answer per goal (each a
/// unique token `PREFIX-SEED-CYCLE`, so a stored answer can be traced to the line that sent it),
/// nothing else, and confirming the read-back.
pub fn burst(seed: u64, cycles: usize, goal_prefixes: &[&str]) -> Vec<String> {
    (0..cycles)
        .flat_map(|c| {
            let mut lines = vec!["check in".to_string(), "4".to_string()];
            lines.extend(goal_prefixes.iter().map(|p| format!("{p}-{seed}-{c}")));
            lines.extend(["no".to_string(), "yes".to_string()]);
            lines
        })
        .collect()
}

/// The seed of a randomised test: `CAREBOT_TEST_SEED` when set (to rerun a failure), else
/// one made from the time. Printed either way, so a failing run says how to repeat it.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("CAREBOT_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default()
        });
    eprintln!("{test}: seed {seed} (rerun with CAREBOT_TEST_SEED={seed})");
    seed
}

/// xorshift: a number below `max` that is the same for the same seed on every run, without a
/// dependency.
pub fn moment(seed: u64, max: u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x % max
}

/// Runs `carebot --db sqlite://care.db ARGS` in `dir`, as staff would; its output. A failure
/// fails the test with what the binary said.
pub fn admin(dir: &Path, args: &[&str]) -> String {
    let out = crate::carebot_in(dir)
        .args(["--db", "sqlite://care.db"])
        .args(args)
        .output()
        .expect("carebot runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one home of the crash tests: Oak House, with the resident Ava Stone (handle `ava`), her
/// `goals` in the order the check-in asks them, and a daily check-in twelve hours away, so
/// the scheduler stays out of the test. Made with the binary's admin commands; returns a
/// link code for her chat account.
pub fn seed_home(dir: &Path, goals: &[&str]) -> String {
    let checkin = (chrono::Utc::now() + chrono::Duration::hours(12))
        .format("%H:%M")
        .to_string();
    admin(
        dir,
        &[
            "home-add",
            "--name",
            "Oak House",
            "--timezone",
            "UTC",
            "--phone",
            "01632 960000",
        ],
    );
    admin(
        dir,
        &[
            "person-add",
            "ava",
            "--name",
            "Ava Stone",
            "--role",
            "resident",
            "--checkin",
            &checkin,
        ],
    );
    for goal in goals {
        admin(dir, &["goal-add", "ava", goal, "--agreed"]);
    }
    let code = admin(dir, &["link-code", "ava"]);
    code.lines().next().expect("a code").trim().to_string()
}

/// The `raw` text of every answer stored for Ava in `dir/care.db`, read through
/// `carebot export` (a fresh process, so it sees only what was durably stored).
pub fn stored_answers(dir: &Path) -> Vec<String> {
    let out = crate::carebot_in(dir)
        .args([
            "--db",
            "sqlite://care.db",
            "export",
            "--person",
            "ava",
            "--out",
            ".",
        ])
        .output()
        .expect("export runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ava.json")).expect("export"))
            .expect("valid JSON");
    json["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .filter_map(|a| a["raw"].as_str().map(String::from))
        .collect()
}
