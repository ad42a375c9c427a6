//! Nothing lost, nothing doubled: a killed bot, a homeserver outage, rate limits, and a
//! resend whose first outcome is unknown.

use super::*;
use carebot_tests::matrix::bot::Binary;

/// Prints the bot's logs if the test fails, to show why.
struct DumpOnPanic(Vec<std::path::PathBuf>);

impl Drop for DumpOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in &self.0 {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                eprintln!("--- {} ---\n{text}", log.display());
            }
        }
    }
}

/// The real `carebot matrix` binary with Ava in the middle of a check-in: her account linked,
/// no scheduled check-in (the binary runs on the real clock: the scheduler must not start
/// Ava's daily one in the middle of this, whatever time of day the test runs), the first
/// run's log at `logs[0]` (a restart's goes to `logs[1]`), and her mood answered.
struct MidCheckin {
    app: TestApp,
    account: BotAccount,
    ava: Person,
    room: matrix_sdk::Room,
    logs: [std::path::PathBuf; 2],
    _dump: DumpOnPanic,
    first: Binary,
}

impl MidCheckin {
    async fn start(name: &str) -> Self {
        let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
        let account = BotAccount::register(synapse::shared(), &format!("carebot-{name}")).await;
        let ava = Person::new(synapse::shared(), &format!("ava-{name}")).await;
        bind(&app, "ava", &ava).await;
        app.bot
            .store
            .set_checkin_time(app.id("ava"), None)
            .await
            .expect("no scheduled check-in");
        let logs = [
            account.store.path().join("run1.log"),
            account.store.path().join("run2.log"),
        ];
        let _dump = DumpOnPanic(logs.to_vec());
        let first = Binary::start(&account, &app.db.url, &logs[0]);
        let bot = &account.user_id;
        let room = ava.open_chat(bot, true).await;
        let r = ava.ask(&room, bot, "check in", 1).await;
        assert!(r[0].contains("How are you feeling"), "{r:?}");
        ava.ask(&room, bot, "4", 1).await;
        Self {
            app,
            account,
            ava,
            room,
            logs,
            _dump,
            first,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_checkin_the_bot_resumes_with_no_lost_answer_and_no_duplicate() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let MidCheckin {
        app,
        account,
        ava,
        room,
        logs: [log1, log2],
        _dump,
        first,
    } = MidCheckin::start("kill").await;
    let bot = &account.user_id;

    // The answer goes out and the bot is killed at some moment while handling it.
    ava.say(&room, "Walked to the garden with a canary-7731 scarf")
        .await;
    // The moment comes from the printed seed, so a failing run can be repeated.
    let seed = carebot_tests::kill::seed("the Matrix kill");
    let delay = carebot_tests::kill::moment(seed, 400);
    eprintln!("killing the bot {delay} ms after Ava's answer");
    tokio::time::sleep(Duration::from_millis(delay)).await;
    first.kill9();

    let second = Binary::start(&account, &app.db.url, &log2);
    // The lease of a message claimed just before the kill runs out after a minute.
    let seen = ava
        .wait_for_within(
            bot,
            3,
            carebot_tests::matrix::PATIENCE + Duration::from_secs(60),
        )
        .await;
    assert!(
        count(&seen, "Your goal is: phone my sister") == 1,
        "the next question should arrive exactly once: {seen:?}"
    );
    // A reply the killed bot had claimed but not marked sent holds the line for Ava until its
    // one-minute lease runs out; then it is resent with the same transaction id (Synapse drops
    // the copy) and what queued behind it follows, in order.
    ava.ask_within(
        &room,
        bot,
        "Not yet",
        1,
        carebot_tests::matrix::PATIENCE + Duration::from_secs(60),
    )
    .await;
    ava.ask(&room, bot, "no", 1).await;
    let r = ava.ask(&room, bot, "yes", 1).await;
    assert!(r[0].contains("I've saved that"), "{r:?}");
    // SIGTERM: the bot finishes what it is doing, flushes and exits cleanly.
    assert!(
        second.terminate(Duration::from_secs(20)),
        "carebot did not stop cleanly on SIGTERM"
    );

    let seen = ava.from(bot);
    for part in [
        "How are you feeling",
        "Your goal is: walk to the garden",
        "Your goal is: phone my sister",
        "Is there anything else",
        "Here's what I've written down",
        "I've saved that",
    ] {
        assert_eq!(count(&seen, part), 1, "{part:?} in {seen:?}");
    }
    let answers = app
        .bot
        .store
        .answers_of(app.id("ava"))
        .await
        .expect("answers");
    let garden: Vec<_> = answers
        .iter()
        .filter(|a| a.raw.contains("canary-7731"))
        .collect();
    assert_eq!(garden.len(), 1, "the answer is stored exactly once");
    // Message bodies never reach the logs, even at --verbose.
    for log in [&log1, &log2] {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            !text.contains("canary-7731"),
            "{} leaked a body",
            log.display()
        );
    }
}

/// Ctrl-C while an answer is on its way: the bot finishes the turn it is in, sends what that
/// turn queued, and exits cleanly; whatever it had not yet read is handled after a restart.
/// Either way the answer is stored once and the next question arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_mid_checkin_the_bot_finishes_its_turn_and_stops_cleanly() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let MidCheckin {
        app,
        account,
        ava,
        room,
        logs: [log1, log2],
        _dump,
        first,
    } = MidCheckin::start("sigint").await;
    let bot = &account.user_id;

    ava.say(&room, "Walked to the garden, sigint-5512").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        first.interrupt(Duration::from_secs(20)),
        "carebot did not stop cleanly on SIGINT"
    );
    let stored = |answers: &[carebot_store::answers::StoredAnswer]| {
        answers
            .iter()
            .filter(|a| a.raw.contains("sigint-5512"))
            .count()
    };
    let handled = stored(
        &app.bot
            .store
            .answers_of(app.id("ava"))
            .await
            .expect("answers"),
    );
    if handled == 1 {
        // The turn was finished before the bot stopped, so its reply was sent before it did:
        // it arrives with no bot running.
        let seen = ava.wait_for_within(bot, 3, Duration::from_secs(10)).await;
        assert_eq!(count(&seen, "Your goal is: phone my sister"), 1, "{seen:?}");
    }
    let second = Binary::start(&account, &app.db.url, &log2);
    let seen = ava
        .wait_for_within(bot, 3, carebot_tests::matrix::PATIENCE)
        .await;
    assert_eq!(
        count(&seen, "Your goal is: phone my sister"),
        1,
        "the next question arrives once (handled {} before the stop): {seen:?}",
        if handled == 1 { "" } else { "not" }
    );
    // The restarted bot carries on with the check-in, then stops cleanly on SIGTERM.
    let r = ava
        .ask_within(&room, bot, "Not yet", 1, carebot_tests::matrix::PATIENCE)
        .await;
    assert!(r[0].contains("anything else"), "{r:?}");
    assert!(
        second.terminate(Duration::from_secs(20)),
        "carebot did not stop cleanly on SIGTERM"
    );
    let answers = app
        .bot
        .store
        .answers_of(app.id("ava"))
        .await
        .expect("answers");
    assert_eq!(stored(&answers), 1, "the answer is stored exactly once");
    // Neither the answer nor the bot's secrets reached its logs (--verbose).
    for log in [&log1, &log2] {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            text.contains("logged in to Matrix"),
            "{} was written",
            log.display()
        );
        for secret in account.secrets().into_iter().chain(["sigint-5512"]) {
            assert!(!text.contains(secret), "{} holds {secret:?}", log.display());
        }
        // The bot's device is cross-signed and backs its keys up: no repeating warning.
        assert!(
            text.contains("the bot's device is cross-signed"),
            "{}",
            log.display()
        );
        assert!(
            !text.contains("no backup key was found"),
            "{} repeats the key-backup warning",
            log.display()
        );
    }
    eprintln!(
        "SIGINT came {} the bot had stored the answer",
        if handled == 1 { "after" } else { "before" }
    );
}

/// matrix-sdk records a batch as seen as soon as it arrives, before the bot has handled it.
/// A crash in between must not lose the answer in that batch: the restarted bot asks again
/// from its own token, and the SDK must not throw the repeat away as one it has seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_the_sdk_saw_just_before_a_crash_is_handled_after_restart() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let account = BotAccount::register(synapse::shared(), "carebot-seen").await;
    let bot = &account.user_id;
    let ava = Person::new(synapse::shared(), "ava-seen").await;
    bind(&app, "ava", &ava).await;
    app.bot
        .store
        .set_checkin_time(app.id("ava"), None)
        .await
        .expect("no scheduled check-in");
    let log1 = account.store.path().join("run1.log");
    let log2 = account.store.path().join("run2.log");
    let _dump = DumpOnPanic(vec![log1.clone(), log2.clone()]);
    let first = Binary::start(&account, &app.db.url, &log1);
    let room = ava.open_chat(bot, true).await;
    let r = ava.ask(&room, bot, "check in", 1).await;
    assert!(r[0].contains("How are you feeling"), "{r:?}");
    assert!(
        first.terminate(Duration::from_secs(20)),
        "carebot did not stop cleanly on SIGTERM"
    );

    // Ava answers while the bot is down; the SDK takes in the batch, then the "crash".
    let handled = account.handled_token();
    ava.say(&room, "4").await;
    account
        .sdk_sees_without_handling(&handled, room.room_id())
        .await;
    assert_eq!(
        account.handled_token(),
        handled,
        "the bot's own token still points before the answer"
    );

    let second = Binary::start(&account, &app.db.url, &log2);
    let seen = ava.wait_for(bot, 2).await;
    assert!(
        count(&seen, "Your goal is: walk to the garden") == 1,
        "the answer was lost: {seen:?}"
    );
    assert!(second.terminate(Duration::from_secs(20)));
    let answers = app
        .bot
        .store
        .answers_of(app.id("ava"))
        .await
        .expect("answers");
    assert_eq!(answers.len(), 1, "the mood answer is stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_due_while_synapse_is_down_arrive_once_after_it_returns() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let syn = tokio::task::spawn_blocking(carebot_tests::matrix::Synapse::start_new)
        .await
        .expect("join")
        .expect("a Synapse of this test's own");
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let account = BotAccount::register(&syn, "carebot-outage").await;
    let bot_id = account.user_id.clone();
    let kim = Person::new(&syn, "kim-outage").await;
    bind(&app, "kim", &kim).await;
    let bot = Arc::new(app.restart(None).await);
    let running = InProcess::start(bot.clone(), &account, options());
    let room = kim.open_chat(&bot_id, true).await;
    for who in ["ava", "ben"] {
        app.bot
            .store
            .set_review(app.id(who), 28, "2026-12-01")
            .await
            .expect("review");
    }

    let syn = Arc::new(syn);
    let stopper = syn.clone();
    tokio::task::spawn_blocking(move || stopper.stop())
        .await
        .expect("stopped");
    // The reminders fall due while the homeserver is down; the clock runs on so retries come
    // due too.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-24T08:00:00Z")
            .expect("time")
            .into(),
    );
    let tried = "SELECT COUNT(*) FROM outbox WHERE platform = 'matrix' AND attempts > 0";
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        app.clock.advance(chrono::Duration::seconds(1));
        if app.count(tried).await > 0 {
            break;
        }
    }
    let failed = app.count(tried).await;
    assert!(
        failed > 0,
        "deliveries should have failed while Synapse was down"
    );
    let starter = syn.clone();
    tokio::task::spawn_blocking(move || starter.start())
        .await
        .expect("join")
        .expect("Synapse restarts");
    // First the bot delivers (the clock runs on so retries come due), then Kim's client,
    // itself reconnecting, catches up.
    let owed = "SELECT COUNT(*) FROM outbox WHERE platform = 'matrix' AND status <> 'sent'";
    for _ in 0..480 {
        app.clock.advance(chrono::Duration::seconds(1));
        tokio::time::sleep(Duration::from_millis(250)).await;
        if app.count(owed).await == 0 {
            break;
        }
    }
    assert_eq!(
        app.count(owed).await,
        0,
        "every message is delivered once Synapse is back"
    );
    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        // A chat the bot opened (its digest may have gone before Kim opened hers) is accepted,
        // as a person would.
        kim.accept_invites().await;
        let seen = kim.from(&bot_id);
        if count(&seen, "Ava Thompson's care-plan review") >= 1
            && count(&seen, "Ben Okafor's care-plan review") >= 1
        {
            break;
        }
    }
    // A duplicate would have arrived before the answer to a message sent now.
    let seen = kim.settle(&room, &bot_id, "alerts", "open alert").await;
    assert_eq!(
        count(&seen, "Ava Thompson's care-plan review"),
        1,
        "{seen:?}"
    );
    assert_eq!(count(&seen, "Ben Okafor's care-plan review"), 1, "{seen:?}");
    // Each reminder went, encrypted, to a direct chat of Kim and the bot alone. Usually that
    // is the chat Kim opened; sometimes (seen in CI, cause not yet found) it is the chat the
    // bot opened for her digest before hers existed: both are private, neither is shared.
    for m in seen.iter().filter(|m| m.body.contains("care-plan review")) {
        assert!(m.encrypted, "{m:?}");
        let mut members = kim.members_of(&m.room).await;
        members.sort();
        let mut expected = vec![kim.user_id.clone(), bot_id.clone()];
        expected.sort();
        assert_eq!(
            members,
            expected,
            "{m:?} (Kim's own chat is {})",
            room.room_id()
        );
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_bot_waits_as_told_and_delivers_everything_once_in_order() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let syn = synapse::shared();
    let (app, _bot, account, running) = start("limited").await;
    let bot = &account.user_id;
    // An administrator limits the bot's account to one message a second, as a homeserver
    // that was never told to exempt it would (Synapse's default is one every five seconds).
    let admin = syn
        .register("admin-limited", "pw-admin-limited", true)
        .await;
    let admin_client = matrix_sdk::Client::builder()
        .homeserver_url(&syn.url)
        .build()
        .await
        .expect("client");
    admin_client
        .matrix_auth()
        .login_username(&admin, "pw-admin-limited")
        .await
        .expect("admin login");
    let token = admin_client.access_token().expect("token");
    let status = matrix_sdk::reqwest::Client::new()
        .post(format!(
            "{}/_synapse/admin/v1/users/{bot}/override_ratelimit",
            syn.url
        ))
        .bearer_auth(token)
        .body(r#"{"messages_per_second": 1, "burst_count": 1}"#)
        .send()
        .await
        .expect("override")
        .status();
    assert!(status.is_success(), "override_ratelimit: {status}");

    let ava = Person::new(syn, "ava-limited").await;
    bind(&app, "ava", &ava).await;
    let room = ava.open_chat(bot, true).await;
    // Retries are scheduled on the bot's clock: let it run at about real time.
    let clock = app.clock.clone();
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            clock.advance(chrono::Duration::milliseconds(250));
        }
    });
    // A whole check-in typed quickly: six replies queue faster than one a second.
    for answer in ["check in", "4", "Walked", "Not yet", "no", "yes"] {
        ava.say(&room, answer).await;
    }
    let seen = ava
        .wait_for_within(bot, 6, carebot_tests::matrix::PATIENCE)
        .await;
    // A duplicate would have arrived before the answer to a message sent now.
    let seen_now = ava
        .settle(&room, bot, "help", "Here's what you can say")
        .await;
    assert_eq!(seen_now.len(), 6, "each reply exactly once: {seen_now:?}");
    let expected = [
        "How are you feeling",
        "Your goal is: walk to the garden",
        "Your goal is: phone my sister",
        "Is there anything else",
        "Here's what I've written down",
        "I've saved that",
    ];
    for (m, part) in seen.iter().zip(expected) {
        assert!(
            m.body.contains(part),
            "in order: expected {part:?}, got {seen:?}"
        );
    }
    let limited = app
        .count("SELECT COUNT(*) FROM outbox WHERE platform = 'matrix' AND attempts > 0")
        .await;
    assert!(
        limited > 0,
        "the homeserver should have said M_LIMIT_EXCEEDED at least once"
    );
    ticking.abort();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_after_an_unknown_outcome_is_found_in_the_timeline_not_sent_twice() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let syn = Arc::new(
        tokio::task::spawn_blocking(carebot_tests::matrix::Synapse::start_new)
            .await
            .expect("join")
            .expect("a Synapse of this test's own"),
    );
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let account = BotAccount::register(&syn, "carebot-resend").await;
    let bot_id = account.user_id.clone();
    let kim = Person::new(&syn, "kim-resend").await;
    bind(&app, "kim", &kim).await;
    // No morning digest: the one message in play is the reply below.
    let mut bot = app.restart(None).await;
    bot.schedule.digest = false;
    let bot = Arc::new(bot);
    let running = InProcess::start(bot.clone(), &account, options());
    let room = kim.open_chat(&bot_id, true).await;
    let r = kim.ask(&room, &bot_id, "help", 1).await;
    assert!(r[0].contains("Here's what you can say"), "{r:?}");
    running.stop().await;

    // The homeserver restarts and forgets the transaction ids it has seen; the bot believes
    // the reply's first attempt may not have arrived (a lost response).
    let restart = syn.clone();
    tokio::task::spawn_blocking(move || {
        restart.stop();
        restart.forget_transaction_ids()?;
        restart.start()
    })
    .await
    .expect("join")
    .expect("Synapse restarts without its transaction ids");
    app.raw_sql(
        "UPDATE outbox SET status = 'pending', attempts = 1, next_attempt_ms = 0 WHERE platform = 'matrix'",
    )
    .await;
    let running = InProcess::start(bot.clone(), &account, options());
    until_nothing_pending(&app).await;
    // A second copy would have arrived before the answer to a message sent now.
    let seen = kim.settle(&room, &bot_id, "alerts", "open alert").await;
    assert_eq!(count(&seen, "Here's what you can say"), 1, "{seen:?}");
    // The answer may be seen a moment before its row is marked sent.
    until_nothing_pending(&app).await;
    // The row is marked sent again, and Kim saw it once (beside the answer to "alerts").
    let rows = app
        .count("SELECT COUNT(*) FROM outbox WHERE platform = 'matrix'")
        .await;
    let sent = app
        .count("SELECT COUNT(*) FROM outbox WHERE platform = 'matrix' AND status = 'sent'")
        .await;
    assert_eq!(sent, rows, "every row is marked sent again");
    assert_eq!(seen.len() as i64 + 1, rows, "no message twice: {seen:?}");
    running.stop().await;
}

/// At start the bot checks whether the homeserver rate limits its account (Synapse's default
/// would make a morning of check-ins take hours) and says so clearly; once an administrator
/// exempts it as the README shows, the warning goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_bot_account_is_warned_about_at_start_until_it_is_exempted() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let account = BotAccount::register_admin(synapse::shared(), "carebot-limits").await;
    let wait_for_log = |log: &std::path::Path, what: &str| {
        let deadline = std::time::Instant::now() + carebot_tests::matrix::PATIENCE;
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains(what) || std::time::Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let log1 = account.store.path().join("run1.log");
    let log2 = account.store.path().join("run2.log");
    let _dump = DumpOnPanic(vec![log1.clone(), log2.clone()]);

    let first = Binary::start(&account, &app.db.url, &log1);
    let text = wait_for_log(&log1, "the bot account");
    assert!(
        text.contains("the homeserver rate limits the bot account")
            && text.contains("override_ratelimit"),
        "{text}"
    );
    assert!(first.terminate(Duration::from_secs(20)));

    account.exempt_from_rate_limits().await;
    let second = Binary::start(&account, &app.db.url, &log2);
    // Every outcome of the check names "the bot account": wait for whichever comes.
    let text = wait_for_log(&log2, "the bot account");
    assert!(
        text.contains("the homeserver does not rate limit the bot account"),
        "{text}"
    );
    assert!(!text.contains("the homeserver rate limits"), "{text}");
    assert!(second.terminate(Duration::from_secs(20)));
}

/// Waits (up to 20 s) until the outbox holds nothing pending for Matrix.
async fn until_nothing_pending(app: &carebot_tests::app::TestApp) {
    for _ in 0..200 {
        let pending = app
            .count("SELECT COUNT(*) FROM outbox WHERE platform = 'matrix' AND status = 'pending'")
            .await;
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
