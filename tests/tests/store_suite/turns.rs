//! A turn: an answer, the conversation's state and the reply stored together, once.

use super::*;
use carebot_runtime::Handled;
use std::sync::Arc;

pub async fn a_turn_stores_answer_state_and_reply_together(app: TestApp) {
    app.say("ava", "check in").await;
    app.handle(&inbound("ava", "e-mood", "not great")).await;
    let answers = app
        .bot
        .store
        .answers_of(app.id("ava"))
        .await
        .expect("answers");
    assert_eq!(answers.len(), 1);
    assert_eq!(
        (answers[0].key.as_str(), answers[0].raw.as_str()),
        ("mood", "not great")
    );
    assert_eq!(answers[0].value, serde_json::json!(2));
    let state = app
        .bot
        .store
        .conversation(app.id("ava"))
        .await
        .expect("state");
    assert_eq!(
        state.active.as_ref().map(|f| f.step.as_str()),
        Some("low_mood")
    );
    // The reply was committed with the answer and is waiting in the outbox.
    let delivered = app.deliver().await;
    assert_eq!(delivered.len(), 1);
    assert!(delivered[0].1.starts_with("I'm sorry you're feeling low"));
}

pub async fn a_replayed_inbound_event_is_processed_once(app: TestApp) {
    app.say("ava", "check in").await;
    let msg = inbound("ava", "$event-1", "4");
    assert_eq!(app.handle(&msg).await, Handled::Done);
    assert_eq!(app.handle(&msg).await, Handled::Duplicate);
    assert_eq!(
        app.bot
            .store
            .answers_of(app.id("ava"))
            .await
            .expect("answers")
            .len(),
        1
    );
    assert_eq!(app.deliver().await.len(), 1, "one reply, not two");
}

pub async fn concurrent_turns_for_one_person_are_serialised(app: TestApp) {
    let app = Arc::new(app);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                app.handle(&inbound("ben", &format!("c{i}"), "rights"))
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task"), Handled::Done);
    }
    let state = app
        .bot
        .store
        .conversation(app.id("ben"))
        .await
        .expect("state");
    assert_eq!(state.turn, 16, "every turn saw the one before it");
}

/// On SQLite concurrent turns share a commit (group commit); a turn that fails must be
/// rolled back alone, reported to its caller, and leave the others stored.
pub async fn a_turn_that_fails_beside_others_is_not_stored_and_theirs_are(app: TestApp) {
    let ben = app.id("ben");
    app.raw_sql(&format!(
        "UPDATE conversations SET state = 'not json' WHERE person_id = {ben}"
    ))
    .await;
    let app = Arc::new(app);
    let tasks: Vec<_> = ["ava", "ben", "ava", "ava"]
        .into_iter()
        .enumerate()
        .map(|(i, who)| {
            let app = app.clone();
            tokio::spawn(async move {
                app.bot
                    .handle(&inbound(who, &format!("g{i}"), "rights"))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("task").map_err(|e| e.to_string()));
    }
    assert!(
        outcomes[1].is_err(),
        "ben's stored state is unreadable: {:?}",
        outcomes[1]
    );
    for ok in [0, 2, 3] {
        assert_eq!(outcomes[ok].as_ref().ok(), Some(&Handled::Done));
    }
    let ava = app
        .bot
        .store
        .conversation(app.id("ava"))
        .await
        .expect("state");
    assert_eq!(ava.turn, 3, "ava's three turns were stored");
    // Nothing of ben's turn was kept, not even its once-only key: it can be retried.
    app.raw_sql(&format!(
        "DELETE FROM conversations WHERE person_id = {ben}"
    ))
    .await;
    assert_eq!(
        app.handle(&inbound("ben", "g1", "rights")).await,
        Handled::Done
    );
}

pub async fn a_restarted_carebot_resumes_the_conversation(app: TestApp) {
    app.say("ava", "check in").await;
    app.say("ava", "4").await;
    // A new runtime on the same database, as after a crash or restart.
    let restarted = app.restart(None).await;
    let sent = app
        .say_to(&restarted, "ava", "after-restart", "I went with Kim")
        .await;
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].1.text.contains("phone my sister Sam"),
        "carried on at the second goal"
    );
    assert_eq!(
        app.bot
            .store
            .answers_of(app.id("ava"))
            .await
            .expect("answers")
            .len(),
        2
    );
}

pub async fn a_conversation_stays_on_its_flow_version_when_the_file_changes(app: TestApp) {
    app.say("ava", "check in").await;
    // Staff rewrite the check-in: new wording, and the goals step is renamed.
    let dir = tempfile::tempdir().expect("temp");
    for entry in std::fs::read_dir(carebot_tests::dialogs_dir()).expect("dialogs") {
        let path = entry.expect("entry").path();
        if !path.is_file() {
            continue;
        }
        let mut text = std::fs::read_to_string(&path).expect("read");
        if path.ends_with("checkin.toml") {
            text = text
                .replace("How did that go today?", "How did it go?")
                .replace(
                    "[[step]]\nid = \"goals\"",
                    "[[step]]\nid = \"goal_progress\"",
                )
                .replace("next = \"goals\"", "next = \"goal_progress\"");
        }
        std::fs::write(dir.path().join(path.file_name().expect("name")), text).expect("write");
    }
    // The examples the learned concern model reads, unchanged.
    let examples = dir.path().join("examples");
    std::fs::create_dir(&examples).expect("examples folder");
    for entry in std::fs::read_dir(carebot_tests::dialogs_dir().join("examples")).expect("examples")
    {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, examples.join(path.file_name().expect("name"))).expect("copy");
    }
    let updated = app.restart(Some(dir.path())).await;
    let sent = app.say_to(&updated, "ava", "v1", "3").await;
    assert!(
        sent[0].1.text.ends_with("How did that go today?"),
        "the conversation in progress keeps its version"
    );
    // Ava finishes her check-in on the old version (second goal, anything else, read-back)...
    for (i, text) in ["not yet", "not yet", "nothing", "yes"]
        .into_iter()
        .enumerate()
    {
        app.say_to(&updated, "ava", &format!("v{}", i + 2), text)
            .await;
    }
    // ...and her next one is on the new version.
    app.say_to(&updated, "ava", "v6", "check in").await;
    let last = app.say_to(&updated, "ava", "v7", "3").await;
    assert!(
        last.last()
            .expect("reply")
            .1
            .text
            .ends_with("How did it go?"),
        "{last:?}"
    );
}

/// A check-in the resident asks for counts for the day, as a scheduled one does: it is in
/// her check-in history as completed, her keyworker sees she has checked in, and the
/// scheduler does not ask again that day; the next day's scheduled check-in is asked and,
/// answered, completed.
pub async fn a_checkin_the_resident_asked_for_counts_for_the_day(app: TestApp) {
    use carebot_store::schedule::CheckinStatus::Completed;
    let answers = ["4", "made it to the bench", "not yet", "no", "yes"];
    app.say("ava", "check in").await;
    for a in answers {
        app.say("ava", a).await;
    }
    let store = &app.bot.store;
    let ava = app.id("ava");
    let day = |d: &str| (d.to_string(), Completed);
    assert_eq!(
        store.checkin_history(ava).await.expect("history"),
        [day("2026-11-23")]
    );
    let kim = store.profile(app.id("kim")).await.expect("kim");
    assert!(
        kim.expected_checkins
            .contains(&(ava, Some("2026-11-23".to_string()))),
        "{:?}",
        kim.expected_checkins
    );

    // 09:30, her usual time: not asked again today.
    app.clock.advance(chrono::Duration::minutes(45));
    app.bot.tick().await.expect("tick");
    let out = app.deliver().await;
    assert!(out.iter().all(|(to, _)| to != "ava"), "{out:?}");

    // The next day at 09:30 the scheduler asks, and the answered run is completed.
    app.clock.advance(chrono::Duration::days(1));
    app.bot.tick().await.expect("tick");
    let out = app.deliver().await;
    assert!(out.iter().any(|(to, _)| to == "ava"), "{out:?}");
    for a in answers {
        app.say("ava", a).await;
    }
    assert_eq!(
        store.checkin_history(ava).await.expect("history"),
        [day("2026-11-23"), day("2026-11-24")]
    );
}
