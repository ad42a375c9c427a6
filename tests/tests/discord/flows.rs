//! The same flows as every channel, over Discord: linking, a check-in with buttons, consent,
//! a keyworker's review reminder answered from a server channel (and the resident told what
//! was agreed), a resident's request that reaches her keyworker and comes back answered.

use super::{Rig, Setup, AVA, KIM, SAM};
use carebot_runtime::clock::Clock as _;
use carebot_tests::fake_discord::FakeDiscord;

const UNKNOWN: &str = "Hello. I don't know this account yet. If a member of staff gave you a link code, send: link CODE";

#[tokio::test]
async fn a_family_member_links_their_discord_account_with_a_code() {
    let rig = Rig::start(Setup::default()).await;
    rig.fake.dm(SAM, "sam", "hello?");
    rig.next(SAM, UNKNOWN).await;
    let week = rig.app.clock.now().timestamp_millis() + 7 * 86_400_000;
    rig.bot()
        .store
        .add_link_code(rig.app.id("sam"), "K7QM-3XPA", week)
        .await
        .expect("code");
    rig.fake.dm(SAM, "sam", "link k7qm-3xpa");
    rig.next(
        SAM,
        "Thank you, Sam. This account is now linked to you. Say \"help\" to see what you can do.",
    )
    .await;
    let me = carebot_store::people::Identity {
        platform: "discord".into(),
        address: SAM.to_string(),
    };
    assert_eq!(
        rig.bot().store.person_for(&me).await.expect("lookup"),
        Some(rig.app.id("sam"))
    );
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_daily_checkin_is_answered_with_buttons_and_typed_text() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    rig.tick_at("2026-11-23T09:30:00Z").await;
    let mood = rig.next(AVA, "Hello Ava. How are you feeling today? Please answer from 1 (very low) to 5 (very good), or in your own words.").await;
    let labels: Vec<String> = mood.buttons().into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["1", "2", "3", "4", "5"]);
    let press = rig.fake.press(AVA, "ava", &mood, "4");
    rig.next(
        AVA,
        "Your goal is: walk to the garden. How did that go today?",
    )
    .await;
    // The press was acknowledged, and the buttons taken off the answered question.
    let callbacks = rig.fake.callbacks();
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0].0, press);
    assert_eq!(
        callbacks[0].1["type"], 7,
        "an update of the pressed message"
    );
    assert_eq!(callbacks[0].1["data"]["components"], serde_json::json!([]));
    rig.fake.dm(AVA, "ava", "Made it to the bench");
    rig.next(
        AVA,
        "Your goal is: phone my sister Sam on Sunday. How did that go today?",
    )
    .await;
    rig.fake.dm(AVA, "ava", "Not yet");
    rig.next(
        AVA,
        "Is there anything else you want to tell us today? You can say \"no\".",
    )
    .await;
    rig.fake.dm(AVA, "ava", "no");
    let read_back = rig.next(AVA, "Here's what I've written down:\n- How you feel: 4 out of 5\n- walk to the garden: Made it to the bench\n- phone my sister Sam on Sunday: Not yet\n- Anything else: no\nIs that right?").await;
    rig.fake.press(AVA, "ava", &read_back, "Yes");
    rig.next(AVA, "Thank you, Ava. I've saved that. Have a good day.")
        .await;
    let answers = rig
        .bot()
        .store
        .answers_of(rig.app.id("ava"))
        .await
        .expect("answers");
    let mood = answers.iter().find(|a| a.key == "mood").expect("mood kept");
    assert_eq!(mood.value, serde_json::json!(4));
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn health_questions_are_held_back_by_default_and_the_person_is_told_where_to_read_them() {
    let rig = Rig::start(Setup::default()).await;
    rig.tick_at("2026-11-23T09:30:00Z").await;
    let notice = rig.next_to(AVA).await;
    let expected = rig
        .bot()
        .withheld_notice(carebot_runtime::Withheld::Platform("Discord"));
    assert_eq!(notice.content, carebot_discord::escape(&expected));
    assert!(!notice.content.contains("feeling"), "{}", notice.content);
    assert!(
        notice.buttons().is_empty(),
        "no answer buttons for a question not shown"
    );
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_resident_changes_what_her_family_hears_with_buttons() {
    let rig = Rig::start(Setup::default()).await;
    rig.fake.dm(AVA, "ava", "privacy");
    let intro = rig.next(AVA, "Your information belongs to you, Ava. Staff who care for you can see your check-ins. Your family only hear what you say they can.\nWould you like to choose what your family can hear?").await;
    rig.fake.press(AVA, "ava", &intro, "Yes");
    let mood = rig
        .next(AVA, "May I share how you are feeling with Sam Thompson?")
        .await;
    let labels: Vec<String> = mood.buttons().into_iter().map(|(l, _)| l).collect();
    assert_eq!(labels, ["Yes", "No", "Ask me later"]);
    rig.fake.press(AVA, "ava", &mood, "Yes");
    let goals = rig
        .next(
            AVA,
            "May I share how you are getting on with your goals with Sam Thompson?",
        )
        .await;
    rig.fake.press(AVA, "ava", &goals, "No");
    rig.next(
        AVA,
        "May I share personal messages from you with Sam Thompson?",
    )
    .await;
    // Typing still works where there are buttons.
    rig.fake.dm(AVA, "ava", "not sure");
    rig.next(AVA, "Thank you. I've saved your choices. You can change them at any time: just say \"privacy\". You can also say things like \"stop sharing my mood\".").await;
    rig.fake.dm(AVA, "ava", "privacy");
    rig.next(AVA, "Your information belongs to you, Ava. Staff who care for you can see your check-ins. Your family only hear what you say they can.\nRight now:\n- Sam Thompson can hear how you are feeling\n- Sam Thompson cannot hear how you are getting on with your goals\n- Sam Thompson cannot hear personal messages from you\nWould you like to choose what your family can hear?").await;
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_keyworker_is_reminded_of_a_review_and_records_it_from_a_server_channel() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    rig.bot()
        .store
        .set_review(rig.app.id("ava"), 28, "2026-12-01")
        .await
        .expect("review");
    rig.tick_at("2026-11-24T08:00:00Z").await;
    rig.next(AVA, "Your care-plan review is coming up in a week, Ava. It's about what help you want and how. Is there anything you'd like to talk about or change? You can say no.").await;
    rig.next(KIM, "Ava Thompson's care-plan review is due in 7 days (2026-12-01). When it's done, say \"review done Ava Thompson\".").await;
    // A resident's command in a server is ignored; a keyworker's is answered by DM.
    rig.fake.server_message(AVA, "ava", "!carebot check in");
    rig.fake
        .server_message(KIM, "kim", "!carebot review done Ava");
    rig.next(
        KIM,
        "When was Ava Thompson's review? For example today, or 2026-11-30.",
    )
    .await;
    rig.fake.dm(KIM, "kim", "today");
    let took_part = rig.next(KIM, "Did Ava take part?").await;
    rig.fake.press(KIM, "kim", &took_part, "Yes");
    rig.next(KIM, "When is the next review due? For example 2027-01-05.")
        .await;
    rig.fake.dm(KIM, "kim", "2027-01-01");
    rig.next(KIM, "What was agreed, in a few words for Ava? I'll tell them your words, with the next date. For example: \"you'll go to the shops with a carer on Fridays\".").await;
    rig.fake
        .dm(KIM, "kim", "you'll have help to wash at 9, not 8");
    rig.next(KIM, "Saved: Ava Thompson's review on 2026-11-24, with Ava taking part. The next is due 2027-01-01. I've told Ava what was agreed.").await;
    // And Ava hears it, in Kim's words, with the next date.
    rig.next(AVA, "Kim Patel has recorded your care-plan review of 2026-11-24. What was agreed, in their words: \"you'll have help to wash at 9, not 8\". Your next review is due 2027-01-01. You can ask for a review sooner at any time (say \"review\"), and say \"show me my care plan\" to read your plan.").await;
    rig.quiet().await;
    let to_server = rig
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.route.contains("/channels/42/"))
        .count();
    assert_eq!(to_server, 0, "nothing is ever posted in the server channel");
    rig.stop().await;
}

/// Discord refuses a direct message with 50007 when the person has closed their DMs or
/// blocked the bot. An alert that cannot reach the keyworker that way climbs the ladder at
/// once: the manager is told, without waiting for the acknowledgement time.
#[tokio::test]
async fn an_alert_a_keyworker_cannot_be_sent_goes_to_the_manager_at_once() {
    alert_with_kim_unreachable(FakeDiscord::refuse_dms, 50007).await;
}

/// The same when Kim shares no server with the bot any more (Discord lets a bot DM only
/// people it shares a server with).
#[tokio::test]
async fn an_alert_to_a_keyworker_the_bot_shares_no_server_with_goes_to_the_manager() {
    alert_with_kim_unreachable(FakeDiscord::share_no_server_with, 50278).await;
}

/// Ava raises an alert while `refuse` makes Kim unreachable with Discord's `code`.
async fn alert_with_kim_unreachable(refuse: fn(&FakeDiscord, u64), code: u64) {
    const MARIA: u64 = 1004;
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    let now = rig.app.clock.now().timestamp_millis();
    rig.bot()
        .store
        .bind_identity(
            &carebot_store::people::Identity {
                platform: "discord".into(),
                address: MARIA.to_string(),
            },
            rig.app.id("maria"),
            now,
        )
        .await
        .expect("bind maria");
    refuse(&rig.fake, KIM);
    rig.fake.dm(AVA, "ava", "the night carer slapped me");
    let reply = rig.next_to(AVA).await;
    assert!(
        reply.content.contains("not your fault"),
        "{}",
        reply.content
    );
    let escalated = rig.next_to(MARIA).await;
    assert!(escalated.content.contains("Ava"), "{}", escalated.content);
    let refused = rig
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.status == 403)
        .count();
    assert!(refused >= 1, "Kim's DM was refused");
    let dead = rig
        .app
        .count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE status = 'dead' AND last_error LIKE '%(code {code})'"
        ))
        .await;
    assert_eq!(
        dead, 1,
        "Kim's alert dead-lettered with Discord's code {code}"
    );
    rig.stop().await;
}

/// A request's whole round trip over Discord: Ava asks for help, Kim is told with its number,
/// reads it and closes it with what was done, and Ava hears each step, in Kim's words at the
/// end; "what have I asked for?" shows it answered.
#[tokio::test]
async fn a_residents_request_reaches_her_keyworker_and_comes_back_answered() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    rig.fake
        .dm(AVA, "ava", "I need help choosing clothes for the party");
    rig.next(KIM, "Ava Thompson has made a request (asks for help (not urgent): may mean would like some help). They said: \"I need help choosing clothes for the party\". It is number 1. Reply \"ack 1\" when you have read it, and \"close 1\" with what was done once it is dealt with: Ava Thompson will be told your words. Please reply within 7 days.").await;
    rig.next(
        AVA,
        "Of course. I've asked Kim Patel to help you with that. They'll come when they can.",
    )
    .await;
    rig.fake.dm(KIM, "kim", "ack 1");
    rig.next(KIM, "Thank you. I've noted that you've seen it.")
        .await;
    rig.next(
        AVA,
        "Kim Patel has seen your message and will talk with you about it.",
    )
    .await;
    rig.fake.dm(
        KIM,
        "kim",
        "close 1 I've put three outfits out on your bed to choose from",
    );
    rig.next(
        KIM,
        "Thank you. I've closed request 1 and told them what you wrote.",
    )
    .await;
    let answered = rig.next_to(AVA).await;
    assert!(
        answered.content.starts_with("Kim Patel has replied to")
            && answered
                .content
                .contains("\"I've put three outfits out on your bed to choose from\""),
        "{}",
        answered.content
    );
    rig.quiet().await;
    assert_eq!(
        rig.app
            .count(
                "SELECT COUNT(*) FROM alerts WHERE request IS NOT NULL AND closed_ms IS NOT NULL"
            )
            .await,
        1
    );
    rig.stop().await;
}
