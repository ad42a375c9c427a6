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
