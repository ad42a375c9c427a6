//! The care flows over Matrix: linking, a check-in, family updates, a keyworker's reminder,
//! a resident's request answered, and what strangers and unencrypted rooms are (not) told.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_links_with_a_code_and_checks_in_in_an_encrypted_chat() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("link").await;
    let code = carebot_runtime::admin::issue_link_code(
        &app.bot.store,
        "ava",
        7,
        "test",
        app.clock.now_ms(),
    )
    .await
    .expect("code");
    let ava = Person::new(synapse::shared(), "ava-link").await;
    let room = ava.open_chat(&account.user_id, true).await;
    let bot = &account.user_id;
    // Not linked yet: the bot joins and says nothing until spoken to.

    let r = ava.ask(&room, bot, &format!("link {code}"), 1).await;
    assert!(r[0].contains("This account is now linked to you"), "{r:?}");
    let r = ava.ask(&room, bot, "check in", 1).await;
    assert!(r[0].contains("How are you feeling today?"), "{r:?}");
    let r = ava.ask(&room, bot, "Fine thanks", 1).await;
    assert!(r[0].contains("walk to the garden"), "{r:?}");
    let r = ava
        .ask(&room, bot, "Walked there with Kim & saw <robins>", 1)
        .await;
    assert!(r[0].contains("phone my sister"), "{r:?}");
    let r = ava.ask(&room, bot, "Not yet", 1).await;
    assert!(r[0].contains("anything else"), "{r:?}");
    let r = ava.ask(&room, bot, "no", 1).await;
    assert!(
        r[0].contains("Walked there with Kim & saw <robins>"),
        "{r:?}"
    );
    // The HTML body shows her words as she wrote them: escaped, not taken as markup.
    let readback = ava
        .from(bot)
        .into_iter()
        .rev()
        .find(|m| m.body.contains("saw <robins>"))
        .expect("the read-back");
    let html = readback.html.as_deref().expect("a formatted_body");
    assert!(
        html.contains("Kim &amp; saw &lt;robins&gt;") && !html.contains("<robins>"),
        "{html}"
    );
    let r = ava.ask(&room, bot, "yes", 1).await;
    assert!(r[0].contains("I've saved that"), "{r:?}");

    // Every message came to this chat, encrypted, from a device the bot's account has
    // cross-signed (Ava's client, like Element, shows nothing else).
    let seen = ava.from(bot);
    assert!(seen
        .iter()
        .all(|m| m.room == room.room_id() && m.encrypted && m.cross_signed));
    // The answers are stored as she wrote them.
    let answers = app
        .bot
        .store
        .answers_of(app.id("ava"))
        .await
        .expect("answers");
    let mood = answers
        .iter()
        .rev()
        .find(|a| a.key == "mood")
        .expect("mood");
    assert_eq!(mood.value, serde_json::json!(4));
    assert!(answers
        .iter()
        .any(|a| a.raw == "Walked there with Kim & saw <robins>"));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_hears_only_what_is_consented_and_nothing_after_withdrawal() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("family").await;
    let bot = &account.user_id;
    let ava = Person::new(synapse::shared(), "ava-family").await;
    let sam = Person::new(synapse::shared(), "sam-family").await;
    bind(&app, "ava", &ava).await;
    bind(&app, "sam", &sam).await;
    let ava_room = ava.open_chat(bot, true).await;
    let sam_room = sam.open_chat(bot, true).await;

    let r = sam.ask(&sam_room, bot, "any news?", 1).await;
    assert!(r[0].contains("nothing I can share"), "{r:?}");

    ava.ask(&ava_room, bot, "privacy", 1).await;
    let r = ava.ask(&ava_room, bot, "yes", 1).await;
    assert!(r[0].contains("how you are feeling with Sam"), "{r:?}");
    ava.ask(&ava_room, bot, "yes please", 1).await;
    ava.ask(&ava_room, bot, "no", 1).await;
    let r = ava.ask(&ava_room, bot, "no", 1).await;
    assert!(r[0].contains("saved your choices"), "{r:?}");
    for answer in ["check in", "good", "Made it to the bench", "Not yet", "no"] {
        ava.ask(&ava_room, bot, answer, 1).await;
    }
    ava.ask(&ava_room, bot, "yes", 1).await;

    let r = sam.ask(&sam_room, bot, "any news?", 1).await;
    assert!(r[0].contains("4 out of 5"), "{r:?}");
    assert!(!r[0].contains("bench"), "goals were not consented: {r:?}");

    let r = ava
        .ask(&ava_room, bot, "Stop sharing my mood with Sam please", 1)
        .await;
    assert!(r[0].contains("stopped sharing"), "{r:?}");
    let r = sam.ask(&sam_room, bot, "any news?", 1).await;
    assert!(r[0].contains("nothing I can share"), "{r:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyworker_gets_a_review_reminder_in_a_chat_the_bot_opens_and_records_the_review() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("review").await;
    let bot = &account.user_id;
    let kim = Person::new(synapse::shared(), "kim-review").await;
    bind(&app, "kim", &kim).await;
    app.bot
        .store
        .set_review(app.id("ava"), 28, "2026-12-01")
        .await
        .expect("review");
    // Ava checked in yesterday (on another channel), so Kim's morning digest has a mood chart.
    for answer in [
        "check in",
        "4",
        "Walked to the garden",
        "Not yet",
        "no",
        "yes",
    ] {
        app.say("ava", answer).await;
    }
    // A week before, at 08:00, the scheduler (ticking in the adapter) queues the reminder;
    // Kim has never written to the bot, so it opens an encrypted chat with her.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-11-24T08:00:00Z")
            .expect("time")
            .into(),
    );
    let mut room = None;
    for _ in 0..300 {
        if let Some(id) = kim.accept_invites().await.pop() {
            room = kim.client.get_room(&id);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let room = room.expect("the bot opened a chat with Kim");
    let seen = kim.wait_for(bot, 1).await;
    let reminder = seen
        .iter()
        .find(|m| m.body.contains("care-plan review is due in 7 days"))
        .unwrap_or_else(|| panic!("no reminder among {seen:?}"));
    assert!(reminder.encrypted);
    let seen = kim.wait_for(bot, 3).await;
    let chart = seen.iter().find(|m| m.kind == "image").unwrap_or_else(|| {
        panic!("the digest's chart did not arrive as encrypted media: {seen:?}")
    });
    assert!(chart.encrypted && chart.room == room.room_id());

    let r = kim.ask(&room, bot, "review done Ava", 1).await;
    assert!(r[0].contains("When was Ava Thompson's review?"), "{r:?}");
    kim.ask(&room, bot, "today", 1).await;
    kim.ask(&room, bot, "yes", 1).await;
    let r = kim.ask(&room, bot, "2027-01-01", 1).await;
    assert!(r[0].contains("What was agreed"), "{r:?}");
    let r = kim.ask(&room, bot, "help to wash at 9, not 8", 1).await;
    assert!(
        r[0].contains("The next is due 2027-01-01") && r[0].contains("I've told Ava"),
        "{r:?}"
    );
    running.stop().await;
}

/// A request's round trip over Matrix, end-to-end encrypted both ways: Ava asks for help,
/// Kim is told with its number, reads it and closes it with what was done; Ava hears each
/// step, Kim's own words at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residents_request_reaches_her_keyworker_and_comes_back_answered() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("request").await;
    let bot = &account.user_id;
    let ava = Person::new(synapse::shared(), "ava-request").await;
    let kim = Person::new(synapse::shared(), "kim-request").await;
    bind(&app, "ava", &ava).await;
    bind(&app, "kim", &kim).await;
    let ava_room = ava.open_chat(bot, true).await;
    let kim_room = kim.open_chat(bot, true).await;

    let r = ava
        .ask(
            &ava_room,
            bot,
            "I need help choosing clothes for the party",
            1,
        )
        .await;
    assert!(r[0].contains("I've asked Kim Patel to help you"), "{r:?}");
    let told = kim.wait_for_text(bot, "It is number 1").await;
    assert!(
        told.iter().any(|m| m.encrypted
            && m.body
                .contains("\"I need help choosing clothes for the party\"")),
        "{told:?}"
    );
    let r = kim.ask(&kim_room, bot, "ack 1", 1).await;
    assert!(r[0].contains("noted that you've seen it"), "{r:?}");
    let seen = ava
        .wait_for_text(bot, "Kim Patel has seen your message")
        .await;
    assert!(
        seen.iter()
            .any(|m| m.body.contains("Kim Patel has seen your message")),
        "{seen:?}"
    );
    let r = kim
        .ask(
            &kim_room,
            bot,
            "close 1 I've put three outfits out on your bed to choose from",
            1,
        )
        .await;
    assert!(r[0].contains("closed request 1"), "{r:?}");
    let seen = ava
        .wait_for_text(bot, "I've put three outfits out on your bed to choose from")
        .await;
    assert!(
        seen.iter()
            .any(|m| m.body.starts_with("Kim Patel has replied to")
                && m.body
                    .contains("\"I've put three outfits out on your bed to choose from\"")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .all(|m| m.encrypted && m.room == ava_room.room_id()),
        "every message to Ava came encrypted, to her chat: {seen:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_accounts_invite_gets_no_information_and_the_bot_leaves() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (_app, _bot, account, running) = start("stranger").await;
    let bot = &account.user_id;
    let stranger = Person::new(synapse::shared(), "stranger").await;
    let room = stranger.open_chat(bot, true).await;
    stranger.say(&room, "How is Ava Thompson today?").await;
    // One reply to the question, readable, saying only how to link.
    let seen = stranger.wait_for(bot, 1).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let reply = &seen[0];
    assert!(reply.encrypted, "{reply:?}");
    assert!(
        reply.body.contains("I don't know this account yet"),
        "{reply:?}"
    );
    for name in ["Ava", "Kim", "Sam", "Rowan", "Thompson"] {
        assert!(!reply.body.contains(name), "{name} leaked: {reply:?}");
    }
    // Not linked within the grace period (5 s here): the bot leaves.
    let mut left = false;
    for _ in 0..300 {
        let members = room
            .members(matrix_sdk::RoomMemberships::JOIN)
            .await
            .expect("members");
        if !members.iter().any(|m| m.user_id() == bot) {
            left = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left, "the bot stayed in an unlinked account's room");
    assert_eq!(
        stranger.from(bot).len(),
        1,
        "one reply, nothing more: {:?}",
        stranger.from(bot)
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_content_never_goes_to_an_unencrypted_room() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let (app, _bot, account, running) = start("plain").await;
    let bot = &account.user_id;
    let ava = Person::new(synapse::shared(), "ava-plain").await;
    bind(&app, "ava", &ava).await;
    let plain = ava.open_chat(bot, false).await;
    let r = ava.ask(&plain, bot, "check in", 1).await;
    assert!(
        r[0].contains("isn't private enough") && r[0].contains("accept my invitation"),
        "{r:?}"
    );
    assert!(!r[0].contains("How are you feeling"), "{r:?}");

    // The bot has opened an encrypted chat; once she accepts, the check-in carries on there.
    accept_one_invite(&ava).await;
    // The question waits for her, trying again every few seconds (on the app's clock).
    app.clock.advance(chrono::Duration::seconds(10));
    let seen = ava.wait_for_text(bot, "How are you feeling").await;
    let question = seen
        .iter()
        .find(|m| m.body.contains("How are you feeling"))
        .unwrap_or_else(|| panic!("the question came: {seen:?}"));
    assert!(question.encrypted && question.cross_signed && question.room != plain.room_id());
    let secure = ava.client.get_room(&question.room).expect("the new chat");
    let r = ava.ask(&secure, bot, "4", 1).await;
    assert!(r[0].contains("walk to the garden"), "{r:?}");
    // The plain room only ever got the bot's notice about it.
    let in_plain: Vec<_> = ava
        .from(bot)
        .into_iter()
        .filter(|m| m.room == plain.room_id())
        .collect();
    assert!(
        !in_plain.is_empty()
            && in_plain.iter().all(|m| !m.encrypted
                && m.kind == "notice"
                && m.body.contains("isn't private enough")),
        "{in_plain:?}"
    );
    running.stop().await;
}

/// A home may give the bot an access token instead of a password: the bot finds its device
/// from the token, keeps the session, and talks end-to-end encrypted as with a password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_logs_in_with_an_access_token_instead_of_a_password() {
    let _turn = carebot_tests::matrix::one_at_a_time().await;
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    let account = BotAccount::register(synapse::shared(), "carebot-token").await;
    let config = account.config_with_access_token().await;
    assert!(config.password.is_none());
    let bot = Arc::new(app.restart(None).await);
    let running = InProcess::start_with(bot, config, options());
    let ava = Person::new(synapse::shared(), "ava-token").await;
    bind(&app, "ava", &ava).await;
    let room = ava.open_chat(&account.user_id, true).await;
    let r = ava.ask(&room, &account.user_id, "help", 1).await;
    assert!(r[0].contains("Here's what you can say"), "{r:?}");
    assert!(ava.from(&account.user_id).iter().all(|m| m.encrypted));
    running.stop().await;
    let session = std::fs::read_to_string(account.store.path().join("session.json"))
        .expect("the session is kept for the next start");
    assert!(session.contains("carebot-token"), "{session}");
}
