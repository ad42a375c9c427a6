//! The bot's cryptographic identity, against residents whose clients behave like today's
//! Element: cross-signed, sharing room keys only with cross-signed devices and reading only
//! from them.

use super::*;
use carebot_tests::matrix::bot::{Binary, BotAccount};
use carebot_tests::matrix::Seen;

/// Every message from the bot came encrypted from a device the bot's account cross-signed.
fn all_from_cross_signed_devices(seen: &[Seen]) {
    assert!(!seen.is_empty());
    for m in seen {
        assert!(
            m.encrypted && m.cross_signed,
            "not from a cross-signed device: {m:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_device_that_is_not_cross_signed_gets_no_answer_through() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    // What Carebot was before: a bot account whose device nobody cross-signed.
    let old_bot = Person::new_without_cross_signing(synapse::shared(), "old-bot").await;
    let ava = Person::new(synapse::shared(), "ava-strict").await;
    let (room, ()) = tokio::join!(
        ava.open_chat(&old_bot.user_id, true),
        accept_one_invite(&old_bot)
    );
    ava.say(&room, "link ABCD-1234").await;
    // Ava's client withheld the room key from the unsigned device: it cannot read her.
    let got = old_bot.wait_for(&ava.user_id, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, "undecryptable", "{got:?}");
    assert!(got[0].body.contains("nverified"), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_recovers_its_identity_with_its_recovery_key_after_losing_its_store() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, bot, account, running) = start("lost-store").await;
    let ava = Person::new(synapse::shared(), "ava-lost").await;
    bind(&app, "ava", &ava).await;
    let room = ava.open_chat(&account.user_id, true).await;
    let me = &account.user_id;
    let r = ava.ask(&room, me, "check in", 1).await;
    assert!(r[0].contains("How are you feeling today?"), "{r:?}");
    let before = ava.from(me);
    all_from_cross_signed_devices(&before);
    let old_device = before[0].device.clone().expect("a device");
    running.stop().await;

    // The disk holding the bot's session and keys is lost: only the recovery key remains.
    account.lose_store();
    let running = InProcess::start(bot.clone(), &account, options());
    wait_until_serving(&account).await;
    wait_until_trusted(&ava, me, &old_device).await;
    let r = ava.ask(&room, me, "4", 1).await;
    assert!(r[0].contains("walk to the garden"), "{r:?}");
    let after = ava.from(me);
    all_from_cross_signed_devices(&after);
    let new_device = after.last().and_then(|m| m.device.clone());
    assert!(
        new_device.is_some() && new_device.as_ref() != Some(&old_device),
        "a new device, cross-signed: {new_device:?} after {old_device}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residents_identity_reset_holds_health_text_back_until_a_fresh_link_code() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("reset").await;
    let me = &account.user_id;
    let kim = Person::new(synapse::shared(), "kim-reset").await;
    bind(&app, "kim", &kim).await;
    let ava = Person::new(synapse::shared(), "ava-reset").await;
    let code = |n: i64| {
        let store = app.bot.store.clone();
        let now = app.clock.now_ms() + n;
        async move {
            carebot_runtime::admin::issue_link_code(&store, "ava", 7, "test", now)
                .await
                .expect("code")
        }
    };
    let first = code(0).await;
    let room = ava.open_chat(me, true).await;
    let r = ava.ask(&room, me, &format!("link {first}"), 1).await;
    assert!(r[0].contains("now linked to you"), "{r:?}");

    // Ava's account gets a new cryptographic identity (a reset, or someone else).
    ava.reset_identity().await;
    let r = ava.ask(&room, me, "check in", 1).await;
    assert!(
        r[0].contains("security key has changed") && !r[0].contains("How are you feeling"),
        "health text held back: {r:?}"
    );
    // Her keyworker is told, in a chat the bot opens with him.
    accept_one_invite(&kim).await;
    let told = kim.wait_for_text(me, "security key changed").await;
    assert!(
        told.iter()
            .any(|m| m.body.contains("Ava") && m.body.contains("security key changed")),
        "{told:?}"
    );
    all_from_cross_signed_devices(&told);

    // Staff check with her in person and give her a fresh code: health text flows again.
    let second = code(1).await;
    let r = ava.ask(&room, me, &format!("link {second}"), 1).await;
    assert!(r[0].contains("now linked to you"), "{r:?}");
    let r = ava.ask(&room, me, "4", 1).await;
    assert!(r[0].contains("walk to the garden"), "{r:?}");
    all_from_cross_signed_devices(&ava.from(me));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_of_the_same_identity_changes_nothing() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("same-identity").await;
    let me = &account.user_id;
    let ava = Person::new(synapse::shared(), "ava-phone").await;
    let code = carebot_runtime::admin::issue_link_code(
        &app.bot.store,
        "ava",
        7,
        "test",
        app.clock.now_ms(),
    )
    .await
    .expect("code");
    let room = ava.open_chat(me, true).await;
    let r = ava.ask(&room, me, &format!("link {code}"), 1).await;
    assert!(r[0].contains("now linked to you"), "{r:?}");
    // Ava signs in on her phone too, proving it is hers with her recovery passphrase.
    ava.enable_recovery("ava's own passphrase").await;
    let phone = ava
        .another_device(synapse::shared(), "ava's own passphrase")
        .await;
    let deadline = std::time::Instant::now() + carebot_tests::matrix::PATIENCE;
    let on_phone = loop {
        if let Some(r) = phone.client.get_room(room.room_id()) {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the phone sees the chat"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let r = phone.ask(&on_phone, me, "check in", 1).await;
    assert!(r[0].contains("How are you feeling today?"), "{r:?}");
    // (The phone cannot read what the bot said before it existed: only the reply counts.)
    let seen = phone.from(me);
    all_from_cross_signed_devices(&seen[seen.len() - 1..]);
    let held_back = app
        .count("SELECT COUNT(*) FROM identities WHERE key_changed_ms IS NOT NULL")
        .await;
    let alerts = app
        .count("SELECT COUNT(*) FROM alerts WHERE reason LIKE '%security key%'")
        .await;
    assert_eq!(
        (held_back, alerts),
        (0, 0),
        "nothing held back, nobody alerted"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_bot_cannot_read_gets_a_plain_notice_and_is_counted() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("unreadable").await;
    let me = &account.user_id;
    // Element's "only send to verified users": Ava never verified the bot, so her client
    // withholds her room keys from it (m.unverified).
    let ava = Person::new_verified_only(synapse::shared(), "ava-unreadable").await;
    bind(&app, "ava", &ava).await;
    let room = ava.open_chat(me, true).await;
    let r = ava
        .ask_within(&room, me, "check in", 1, carebot_tests::matrix::PATIENCE)
        .await;
    assert!(r[0].contains("couldn't read it"), "{r:?}");
    all_from_cross_signed_devices(&ava.from(me));
    let withheld = app
        .count("SELECT COUNT(*) FROM unreadable_messages WHERE platform = 'matrix' AND reason = 'm.unverified'")
        .await;
    assert_eq!(withheld, 1);
    let status = app.bot.store.status("2026-12-01").await.expect("status");
    assert_eq!(status.unreadable, vec![("matrix".to_string(), 1)]);
    running.stop().await;
}

/// Waits until `person`'s client sees a device of `bot` other than `old`, cross-signed. A
/// recovered bot's new device is on the homeserver a moment before its signature is: a
/// message sent in that moment is (rightly) withheld from it, and its sender told.
async fn wait_until_trusted(person: &Person, bot: &matrix_sdk::ruma::UserId, old: &str) {
    let deadline = std::time::Instant::now() + carebot_tests::matrix::PATIENCE;
    loop {
        let encryption = person.client.encryption();
        let _ = encryption.request_user_identity(bot).await;
        if let Ok(devices) = encryption.get_user_devices(bot).await {
            if devices
                .devices()
                .any(|d| d.device_id().as_str() != old && d.is_cross_signed_by_owner())
            {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never saw the bot's new device cross-signed",
            person.user_id
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the bot has finished its first sync since `account`'s store was (re)made: it
/// writes its own sync token then, so from now on it hears what people say.
async fn wait_until_serving(account: &BotAccount) {
    let token = account.store.path().join("carebot-sync-token");
    let deadline = std::time::Instant::now() + carebot_tests::matrix::PATIENCE;
    while !token.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the bot did not start serving"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_its_first_run_the_binary_shows_a_new_recovery_key_once_and_recovers_with_it() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let account = BotAccount::register(synapse::shared(), "carebot-first-run").await;
    let me = account.user_id.clone();
    let ava = Person::new(synapse::shared(), "ava-first-run").await;
    bind(&app, "ava", &ava).await;
    // The binary runs on the real clock: no scheduled check-in may start in the middle.
    app.bot
        .store
        .set_checkin_time(app.id("ava"), None)
        .await
        .expect("no scheduled check-in");
    // Outside the bot's store folder, which this test deletes.
    let out = tempfile::tempdir().expect("dir");
    let path = |name: &str| out.path().join(name);

    // First run, no recovery key given: Carebot creates one and shows it.
    let first = Binary::start_with(
        &account,
        &app.db.url,
        &path("run1.log"),
        None,
        Some(&path("run1.out")),
    );
    let room = ava.open_chat(&me, true).await;
    let r = ava.ask(&room, &me, "check in", 1).await;
    assert!(r[0].contains("How are you feeling today?"), "{r:?}");
    let old_device = ava.from(&me)[0].device.clone().expect("a device");
    assert!(first.terminate(Duration::from_secs(20)), "a clean stop");
    let shown = std::fs::read_to_string(path("run1.out")).expect("stdout");
    let key = shown
        .lines()
        .skip_while(|l| !l.contains("recovery key"))
        .find(|l| l.starts_with("    ") && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| panic!("no recovery key shown: {shown}"));
    let log = std::fs::read_to_string(path("run1.log")).expect("log");
    assert!(
        log.contains("the bot's device is cross-signed"),
        "first run: {log}"
    );
    assert!(!log.contains(&key), "the recovery key is never logged");

    // The store is lost; the operator sets the key they were shown.
    account.lose_store();
    let second = Binary::start_with(
        &account,
        &app.db.url,
        &path("run2.log"),
        Some(&key),
        Some(&path("run2.out")),
    );
    wait_until_serving(&account).await;
    wait_until_trusted(&ava, &me, &old_device).await;
    let r = ava.ask(&room, &me, "4", 1).await;
    assert!(r[0].contains("walk to the garden"), "{r:?}");
    all_from_cross_signed_devices(&ava.from(&me));
    assert!(second.terminate(Duration::from_secs(20)), "a clean stop");
    let shown = std::fs::read_to_string(path("run2.out")).expect("stdout");
    assert!(!shown.contains(&key), "the key is shown once only: {shown}");
    let log = std::fs::read_to_string(path("run2.log")).expect("log");
    assert!(
        log.contains("recovering the bot's identity") && !log.contains(&key),
        "second run: {log}"
    );
}
