//! kill -9 of the real `carebot discord` binary, talking to the fake Discord, at a different
//! moment for each seed, while a resident answers check-in after check-in.
//!
//! The resident behaves as a person does: she types her next answer only once she has seen
//! the bot's reply to the last one. When the bot dies, she waits for it to come back; if the
//! reply to her last message still does not come (the bot never got it, or never stored it),
//! she types it again. Afterwards:
//! - every answer she saw acknowledged is stored exactly once, and nothing else is stored;
//! - no reply reached her twice: each line she typed got one reply, however the kill fell
//!   (a reply resent after the restart carries its first nonce, which Discord enforces);
//! - none of her words, nor her goal, is in the bot's log (`--verbose`).

use carebot_tests::carebot_in;
use carebot_tests::fake_discord::FakeDiscord;
use carebot_tests::kill::{burst, moment, seed_home, stored_answers};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

const AVA: u64 = 2001;
const SEEDS: u64 = 10;
const CYCLES: usize = 3;

fn start_bot(dir: &Path, fake: &FakeDiscord) -> Child {
    let config = dir.join("carebot.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://care.db\"\n[dialogs]\ndir = \"{}\"\n[discord]\napi_base = \"{}\"\nsend_health_content = true\n",
            carebot_tests::dialogs_dir().display(),
            fake.api_base()
        ),
    )
    .expect("config");
    carebot_in(dir)
        .env("CAREBOT_DISCORD_TOKEN", "fake-bot-token")
        .arg("--config")
        .arg(&config)
        .arg("--verbose")
        .arg("discord")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log(dir))
        .spawn()
        .expect("carebot discord starts")
}

/// The bot's log (every run appends), read afterwards as a canary: the resident's words must
/// never be in it.
fn log(dir: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("carebot.log"))
        .expect("log file")
}

/// Messages the bot has sent Ava so far.
fn to_ava(fake: &FakeDiscord) -> usize {
    fake.messages().iter().filter(|m| m.to == AVA).count()
}

/// Waits up to `patience` for Ava to have `n` messages.
async fn seen(fake: &FakeDiscord, n: usize, patience: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + patience;
    while tokio::time::Instant::now() < deadline {
        if to_ava(fake) >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    to_ava(fake) >= n
}

async fn run_seed(seed: u64) {
    let dir = tempfile::tempdir().expect("temp");
    let code = seed_home(dir.path(), &["walk to the garden"]);
    let fake = FakeDiscord::start().await;
    let mut bot = start_bot(dir.path(), &fake);
    fake.wait_for_sessions(1, 0).await;
    fake.dm(AVA, "ava", &format!("link {code}"));
    assert!(
        seen(&fake, 1, Duration::from_secs(10)).await,
        "seed {seed}: linked"
    );

    let lines = burst(seed, CYCLES, &["garden"]);
    // The kill falls while line `kill_line` is in flight, `kill_delay` after Ava sent it:
    // before the bot read it, mid-turn, or after the reply went, depending on the seed.
    let kill_line = 1 + moment(seed, lines.len() as u64 - 1) as usize;
    let kill_delay = Duration::from_micros(moment(seed.wrapping_mul(31), 15_000));
    let mut outcome = "";
    let mut i = 0;
    while i < lines.len() {
        let want = 2 + i; // the welcome, then one reply per line
        fake.dm(AVA, "ava", &lines[i]);
        if i == kill_line && outcome.is_empty() {
            tokio::time::sleep(kill_delay).await;
            let before = to_ava(&fake) >= want;
            bot.kill().expect("SIGKILL");
            bot.wait().expect("dead");
            bot = start_bot(dir.path(), &fake);
            fake.wait_for_sessions(2, 0).await;
            // What the dead run had stored is answered from the outbox; if nothing comes,
            // the bot never had this line, and Ava types it again.
            if before {
                outcome = "replied before the kill";
            } else if seen(&fake, want, Duration::from_secs(5)).await {
                outcome = "replied after the restart";
            } else {
                outcome = "lost in the kill, typed again";
                continue;
            }
        } else {
            assert!(
                seen(&fake, want, Duration::from_secs(10)).await,
                "seed {seed}: no reply to {:?}",
                lines[i]
            );
        }
        i += 1;
    }
    eprintln!("seed {seed}: killed on line {kill_line} after {kill_delay:?}: {outcome}");
    let _ = bot.kill();
    let _ = bot.wait();

    let expected = 1 + lines.len();
    assert_eq!(
        to_ava(&fake),
        expected,
        "seed {seed}: one reply per line, none twice: {:#?}",
        fake.messages()
            .iter()
            .map(|m| m.content.clone())
            .collect::<Vec<_>>()
    );
    let mut stored: Vec<String> = stored_answers(dir.path())
        .into_iter()
        .filter(|r| r.starts_with("garden-"))
        .collect();
    stored.sort();
    let mut want: Vec<String> = lines
        .iter()
        .filter(|l| l.starts_with("garden-"))
        .cloned()
        .collect();
    want.sort();
    assert_eq!(stored, want, "seed {seed}: every acknowledged answer once");
    // Neither her answers nor her goal reached the log, crash or no crash.
    let logged = std::fs::read_to_string(dir.path().join("carebot.log")).expect("log");
    assert!(
        logged.contains("connected to Discord"),
        "the log was written"
    );
    for secret in want
        .iter()
        .map(String::as_str)
        .chain(["walk to the garden"])
    {
        assert!(
            !logged.contains(secret),
            "seed {seed}: {secret:?} is in the log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_moments_the_bot_loses_no_answer_and_repeats_no_reply() {
    for seed in 1..=SEEDS {
        run_seed(seed).await;
    }
}

/// Waits for `child` to exit by itself, up to `within`.
fn exits_within(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            return Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A close that Discord means for good ends `carebot discord` with a non-zero exit and the
/// reason an operator can act on: a reset token (4004), and the Message Content intent off in
/// the portal (4014). Without this the process would run on, sending check-ins it can never
/// hear answers to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_or_intent_stops_the_binary_with_the_reason() {
    for (refuse, code, says) in [
        (0, 4004u16, "refused the bot token (gateway close 4004)"),
        (1, 4014, "Message Content Intent"),
    ] {
        let fake = FakeDiscord::start().await;
        if refuse == 0 {
            fake.accept_only_token("a-newer-token");
        } else {
            fake.deny_message_content();
        }
        let dir = tempfile::tempdir().expect("temp");
        seed_home(dir.path(), &["walk to the garden"]);
        let mut bot = start_bot(dir.path(), &fake);
        let status =
            tokio::task::block_in_place(|| exits_within(&mut bot, Duration::from_secs(60)));
        let log = std::fs::read_to_string(dir.path().join("carebot.log")).expect("log");
        let Some(status) = status else {
            panic!(
                "carebot discord did not exit by itself (closes {:?}):\n{log}",
                fake.closes()
            );
        };
        assert!(!status.success(), "exit status {status}");
        assert_eq!(fake.closes(), [code]);
        assert!(
            log.contains(says),
            "the reason is not in the output:\n{log}"
        );
        assert!(!log.contains("panicked"), "{log}");
    }
}
