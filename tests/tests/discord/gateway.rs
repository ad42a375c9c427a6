//! The gateway: replayed events are handled once; a dropped connection resumes and loses or
//! doubles nothing.

use super::{Rig, Setup, AVA};

const PRIVACY: &str = "Your information belongs to you, Ava. Staff who care for you can see your check-ins. Your family only hear what you say they can.\nWould you like to choose what your family can hear?";

#[tokio::test]
async fn a_replayed_message_is_processed_once() {
    let rig = Rig::start(Setup::default()).await;
    let id = rig.fake.dm(AVA, "ava", "privacy");
    rig.next(AVA, PRIVACY).await;
    assert_eq!(rig.service.replays_skipped(), 0);
    rig.fake.replay_dm(id, AVA, "ava", "privacy");
    // It reaches the bot, which recognises it: no second reply, no second turn.
    for _ in 0..100 {
        if rig.service.replays_skipped() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rig.service.replays_skipped(), 1, "the replay never arrived");
    rig.quiet().await;
    rig.fake.dm(AVA, "ava", "no");
    rig.next(
        AVA,
        "That's fine. Say \"privacy\" whenever you want to talk about it, or ask Kim Patel.",
    )
    .await;
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_gateway_disconnect_mid_checkin_resumes_without_losing_or_doubling_a_message() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    rig.tick_at("2026-11-23T09:30:00Z").await;
    let mood = rig.next(AVA, "Hello Ava. How are you feeling today? Please answer from 1 (very low) to 5 (very good), or in your own words.").await;
    let press = rig.fake.press(AVA, "ava", &mood, "5");
    rig.next(
        AVA,
        "Your goal is: walk to the garden. How did that go today?",
    )
    .await;
    // Discord may send again events the client already had; the press must still count once.
    rig.fake.replay_overlap_on_resume(2);
    rig.fake.drop_connection();
    // Said while the bot is disconnected: Discord keeps it for the resume.
    rig.fake.dm(AVA, "ava", "Walked there and back");
    rig.fake.wait_for_sessions(1, 1).await;
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
    rig.next(AVA, "Here's what I've written down:\n- How you feel: 5 out of 5\n- walk to the garden: Walked there and back\n- phone my sister Sam on Sunday: Not yet\n- Anything else: no\nIs that right?").await;
    rig.quiet().await;
    assert_eq!(
        rig.fake.sessions(),
        (1, 1),
        "resumed, not identified afresh"
    );
    let answers = rig
        .bot()
        .store
        .answers_of(rig.app.id("ava"))
        .await
        .expect("answers");
    let moods = answers.iter().filter(|a| a.key == "mood").count();
    assert_eq!(moods, 1, "the replayed press did not answer twice");
    let acks = rig
        .fake
        .callbacks()
        .iter()
        .filter(|(id, _)| *id == press)
        .count();
    assert_eq!(
        acks, 2,
        "the replayed press did reach the bot (it acknowledges every press)"
    );
    rig.stop().await;
}

const NOT_NOW: &str =
    "That's fine. Say \"privacy\" whenever you want to talk about it, or ask Kim Patel.";

/// Discord expires sessions: a RESUME is refused (op 9, `false`), the bot identifies afresh and
/// nothing from the gap is replayed. What Ava wrote in the gap is read from her DM channel
/// after the last message handled from her, and answered once; a later new session finds
/// nothing new.
#[tokio::test]
async fn a_message_written_while_the_session_expired_is_fetched_and_answered_once() {
    let rig = Rig::start(Setup::default()).await;
    rig.fake.dm(AVA, "ava", "privacy");
    rig.next(AVA, PRIVACY).await;
    rig.fake.dm(AVA, "ava", "no");
    rig.next(AVA, NOT_NOW).await;

    rig.fake.dm_while_away(AVA, "ava", "privacy");
    rig.fake.expire_session();
    rig.fake.wait_for_sessions(2, 0).await;
    rig.next(AVA, PRIVACY).await;
    rig.fake.dm(AVA, "ava", "no");
    rig.next(AVA, NOT_NOW).await;

    // Another new session reads the channel again, and answers nothing twice.
    let reads = |rig: &Rig| {
        rig.fake
            .calls()
            .into_iter()
            .filter(|c| c.route.starts_with("GET ") && c.route.ends_with("/messages"))
            .count()
    };
    let before = reads(&rig);
    // This time the session runs out as Discord's do: the connection drops, and by the time
    // the client asks to resume, the session is gone.
    rig.fake.expire_sessions_after(std::time::Duration::ZERO);
    rig.fake.drop_connection();
    rig.fake.wait_for_sessions(3, 0).await;
    rig.fake
        .wait_until("the catch-up read", |v| {
            v.calls()
                .iter()
                .filter(|c| c.route.starts_with("GET ") && c.route.ends_with("/messages"))
                .count()
                > before
        })
        .await;
    rig.quiet().await;
    rig.stop().await;
}

/// A DM channel opened once is kept with the person's identity: a restarted adapter sends to
/// it without asking Discord to open it again (the mass-DM pattern Discord may limit).
#[tokio::test]
async fn a_restart_opens_no_dm_channel_it_already_knew() {
    let rig = Rig::start(Setup::default()).await;
    let opens = |rig: &Rig| {
        rig.fake
            .calls()
            .into_iter()
            .filter(|c| c.route == "POST /api/v10/users/@me/channels")
            .count()
    };
    rig.fake.dm(AVA, "ava", "privacy");
    rig.next(AVA, PRIVACY).await;
    assert_eq!(opens(&rig), 1);
    let rig = rig.restart().await;
    rig.fake.dm(AVA, "ava", "no");
    rig.next(AVA, NOT_NOW).await;
    assert_eq!(opens(&rig), 1, "the stored channel was used");
    rig.quiet().await;
    rig.stop().await;
}

/// The fake closes a connection that stops heartbeating, as Discord does; the adapter keeps
/// to the interval HELLO gives, so its one session lasts with nothing to resume.
#[tokio::test]
async fn the_adapter_heartbeats_on_the_interval_discord_gives() {
    let rig = Rig::start(Setup {
        heartbeat: Some(std::time::Duration::from_millis(500)),
        ..Setup::default()
    })
    .await;
    rig.fake
        .wait_until_within("six heartbeats", std::time::Duration::from_secs(20), |v| {
            v.heartbeats() >= 6
        })
        .await;
    assert_eq!(
        rig.fake.closes(),
        Vec::<u16>::new(),
        "never closed for silence"
    );
    assert_eq!(rig.fake.sessions(), (1, 0), "one session, never resumed");
    rig.fake.dm(AVA, "ava", "privacy");
    rig.next(AVA, PRIVACY).await;
    rig.stop().await;
}
