//! Button presses and Discord's 3-second window: the fake refuses a first response that comes
//! later, as Discord does, and `Rig::stop` fails any test that had one.

use super::{Rig, Setup, AVA};
use carebot_tests::fake_discord::SentMessage;
use sqlx::Connection;
use std::time::{Duration, Instant};

const MOOD: &str = "Hello Ava. How are you feeling today? Please answer from 1 (very low) to 5 (very good), or in your own words.";

/// Carebot on the fake Discord, health content on, with Ava's 09:30 check-in asking her mood
/// (its buttons are on the returned message).
async fn at_the_mood_question() -> (Rig, SentMessage) {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    rig.tick_at("2026-11-23T09:30:00Z").await;
    let mood = rig.next(AVA, MOOD).await;
    (rig, mood)
}

/// A turn that cannot commit for a while (here: something else holds SQLite's write lock, as
/// a backup or a long admin command might) must not leave the button spinning: the press is
/// acknowledged within the window, and the answer is still stored once the turn commits.
#[tokio::test]
async fn a_press_during_a_slow_turn_is_acknowledged_in_time_and_still_answers() {
    let (rig, mood) = at_the_mood_question().await;

    let mut other = sqlx::SqliteConnection::connect(&rig.app.db.url)
        .await
        .expect("a second connection to the database");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .expect("take the write lock");
    let held = Instant::now();
    let press = rig.fake.press(AVA, "ava", &mood, "4");
    rig.fake
        .wait_until("the acknowledgement", |v| {
            v.callbacks().iter().any(|(id, _)| *id == press)
        })
        .await;
    assert!(
        held.elapsed() < Duration::from_secs(3),
        "acknowledged after {:?}",
        held.elapsed()
    );
    let stored = rig
        .bot()
        .store
        .answers_of(rig.app.id("ava"))
        .await
        .expect("answers");
    assert!(
        stored.iter().all(|a| a.key != "mood"),
        "nothing can be stored while the lock is held"
    );

    // The lock goes after 3.5 s; the waiting turn commits and the check-in carries on.
    tokio::time::sleep(Duration::from_millis(3500).saturating_sub(held.elapsed())).await;
    sqlx::query("COMMIT")
        .execute(&mut other)
        .await
        .expect("release the lock");
    rig.next(
        AVA,
        "Your goal is: walk to the garden. How did that go today?",
    )
    .await;
    let stored = rig
        .bot()
        .store
        .answers_of(rig.app.id("ava"))
        .await
        .expect("answers");
    let moods: Vec<_> = stored.iter().filter(|a| a.key == "mood").collect();
    assert_eq!(moods.len(), 1, "{moods:?}");
    assert_eq!(moods[0].raw, "4");
    // A plain acknowledgement (the turn was not saved yet, so the buttons stay).
    let callback = rig
        .fake
        .callbacks()
        .into_iter()
        .find(|(id, _)| *id == press)
        .expect("callback");
    assert_eq!(callback.1["type"], 6, "{:?}", callback.1);
    rig.quiet().await;
    rig.stop().await;
}

/// Discord answers a second acknowledgement of one press with an error; the fake does too,
/// so a replayed press (gateway resume) shows the bot recognised it and changed nothing.
#[tokio::test]
async fn a_press_pressed_once_is_acknowledged_once_and_answers_once() {
    let (rig, mood) = at_the_mood_question().await;
    let press = rig.fake.press(AVA, "ava", &mood, "3");
    rig.next(
        AVA,
        "Your goal is: walk to the garden. How did that go today?",
    )
    .await;
    let callbacks: Vec<_> = rig
        .fake
        .callbacks()
        .into_iter()
        .filter(|(id, _)| *id == press)
        .collect();
    assert_eq!(callbacks.len(), 1);
    // Saved: the buttons are taken off the question (type 7, an update with no components).
    assert_eq!(callbacks[0].1["type"], 7, "{:?}", callbacks[0].1);
    let refused = rig
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.route.contains("/interactions/") && c.status != 204)
        .count();
    assert_eq!(refused, 0);
    rig.quiet().await;
    rig.stop().await;
}

const PRIVACY: &str = "Your information belongs to you, Ava. Staff who care for you can see your check-ins. Your family only hear what you say they can.\nWould you like to choose what your family can hear?";
const SHARE_MOOD: &str = "May I share how you are feeling with Sam Thompson?";
const PASSED: &str =
    "That button was for an earlier question, so I haven't used it. Nothing has changed.";

/// The mood consent Ava has recorded for Sam, if any.
async fn mood_consent(rig: &Rig) -> Option<carebot_engine::domain::Decision> {
    rig.bot()
        .store
        .consents_of(rig.app.id("ava"))
        .await
        .expect("consents")
        .into_iter()
        .find(|c| c.category == "mood")
        .map(|c| c.decision)
}

/// Discord delivers a press on any old message at any time. A "Yes" left on an earlier
/// question (here: "would you like to choose", answered by typing) must not answer "May I
/// share how you are feeling with Sam?"; nor may yesterday's "Yes" to that same question
/// answer today's.
#[tokio::test]
async fn a_button_on_a_question_that_has_passed_never_gives_consent() {
    let rig = Rig::start(Setup::default()).await;
    rig.fake.dm(AVA, "ava", "privacy");
    let intro = rig.next(AVA, PRIVACY).await;
    // Typed, so the buttons stay on the intro.
    rig.fake.dm(AVA, "ava", "yes");
    let share = rig.next(AVA, SHARE_MOOD).await;
    rig.fake.press(AVA, "ava", &intro, "Yes");
    rig.next(AVA, PASSED).await;
    // The question waiting is asked again, with its own buttons.
    let again = rig.next(AVA, SHARE_MOOD).await;
    assert_eq!(again.buttons().len(), 3);
    assert_eq!(
        mood_consent(&rig).await,
        None,
        "the stale press recorded nothing"
    );

    // The buttons of the question waiting (on either copy of it) do answer it.
    rig.fake.press(AVA, "ava", &share, "No");
    rig.next(
        AVA,
        "May I share how you are getting on with your goals with Sam Thompson?",
    )
    .await;
    assert_eq!(
        mood_consent(&rig).await,
        Some(carebot_engine::domain::Decision::No)
    );
    rig.fake.dm(AVA, "ava", "no");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", "no");
    rig.next_to(AVA).await;

    // Later, the same question in a new run: the old message's "Yes" has passed.
    rig.fake.dm(AVA, "ava", "privacy");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", "yes");
    rig.next(AVA, SHARE_MOOD).await;
    rig.fake.press(AVA, "ava", &share, "Yes");
    rig.next(AVA, PASSED).await;
    rig.next(AVA, SHARE_MOOD).await;
    assert_eq!(
        mood_consent(&rig).await,
        Some(carebot_engine::domain::Decision::No),
        "still the decision she made"
    );
    rig.quiet().await;
    rig.stop().await;
}

/// A question answered by typing loses its buttons before the next message goes, so only
/// the question waiting has buttons; one answered by a press lost them with the
/// acknowledgement and is not edited again.
#[tokio::test]
async fn only_the_question_waiting_keeps_its_buttons() {
    let rig = Rig::start(Setup::default()).await;
    let edits = |rig: &Rig, id: u64| {
        rig.fake
            .calls()
            .into_iter()
            .filter(|c| c.route.starts_with("PATCH ") && c.route.ends_with(&format!("/{id}")))
            .map(|c| c.body)
            .collect::<Vec<_>>()
    };
    rig.fake.dm(AVA, "ava", "privacy");
    let intro = rig.next(AVA, PRIVACY).await;
    rig.fake.dm(AVA, "ava", "yes");
    let share = rig.next(AVA, SHARE_MOOD).await;
    assert_eq!(
        edits(&rig, intro.id),
        [serde_json::json!({ "components": [] })]
    );
    let now = rig.fake.messages();
    let shown = now.iter().find(|m| m.id == intro.id).expect("the intro");
    assert!(
        shown.buttons().is_empty(),
        "the answered question has no buttons"
    );
    assert!(
        !share.buttons().is_empty(),
        "the question waiting has its buttons"
    );
    rig.fake.press(AVA, "ava", &share, "No");
    rig.next(
        AVA,
        "May I share how you are getting on with your goals with Sam Thompson?",
    )
    .await;
    assert!(
        edits(&rig, share.id).is_empty(),
        "taken off by the acknowledgement"
    );
    rig.quiet().await;
    rig.stop().await;
}
