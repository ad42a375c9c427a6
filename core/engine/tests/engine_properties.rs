//! Property tests for the step function: whatever people send, in whatever order, the engine
//! never panics and never leaves a conversation in a state it cannot continue from.

use carebot_engine::domain::{Goal, Profile, Relative, Role};
use carebot_engine::engine::{step, Context, Conversation, Effect, Input, Settings};
use carebot_engine::flow::{load_dir, Dialogs, MAX_MESSAGE_CHARS};
use carebot_engine::ids::{GoalId, PersonId};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use std::sync::OnceLock;

fn dialogs() -> &'static Dialogs {
    static D: OnceLock<Dialogs> = OnceLock::new();
    D.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dialogs");
        load_dir(&dir).expect("shipped dialogs load")
    })
}

fn profile(goals: usize) -> Profile {
    Profile {
        id: PersonId(1),
        name: "Ava Thompson".into(),
        role: Role::Resident,
        language: "en".into(),
        goals: (0..goals)
            .map(|i| Goal::active(GoalId(i as i64), format!("goal {i}")))
            .collect(),
        keyworker: Some("Kim".into()),
        home_name: "Rowan House".into(),
        home_phone: "01632 960000".into(),
        family: vec![Relative {
            id: PersonId(9),
            name: "Sam Thompson".into(),
        }],
        consents: Vec::new(),
        family_of: Vec::new(),
        open_alerts: Vec::new(),
        expected_checkins: Vec::new(),
        requests: Vec::new(),
        open_requests: Vec::new(),
        reviews_due: Vec::new(),
        plan: None,
        recent: Vec::new(),
        caring_for: Vec::new(),
    }
}

/// Messages people really send, plus anything at all.
fn message() -> impl Strategy<Value = Input> {
    let words = prop::sample::select(vec![
        "check in",
        "help",
        "stop",
        "start",
        "rights",
        "privacy",
        "I need help now",
        "yes",
        "no",
        "1",
        "2",
        "3",
        "4",
        "5",
        "8",
        "0",
        "-1",
        "good",
        "not great",
        "not good",
        "fine",
        "",
        "   ",
        "{{ person.name }}",
        "{% for x in y %}",
        "'); DROP TABLE answers; --",
        "😊",
        "maybe",
        "10:30",
        "tomorrow",
        "complain",
        "advocate",
        "later",
        "stop sharing my mood with Sam",
        "stop sharing",
        "remind me at 7",
        "skip today",
        "any news",
        "message for my family",
    ]);
    prop_oneof![
        6 => words.prop_map(|w| Input::Message(w.to_string())),
        3 => any::<String>().prop_map(Input::Message),
        1 => (1usize..20_000).prop_map(|n| Input::Message("x".repeat(n))),
        1 => prop::sample::select(vec!["checkin", "rights", "help", "privacy", "nope"]).prop_map(|f| Input::Start { flow: f.into() }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_messages_breaks_a_conversation(goals in 0usize..4, inputs in prop::collection::vec(message(), 1..40)) {
        let profile = profile(goals);
        let settings = Settings::default();
        let ctx = Context { dialogs: dialogs(), profile: &profile, settings: &settings };
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().expect("time");
        let mut state = Conversation::default();
        for input in inputs {
            let before = state.turn;
            let (next, effects) = step(&ctx, state, input, now);
            prop_assert_eq!(next.turn, before + 1);
            if let Some(frame) = &next.active {
                let flow = dialogs().version(&frame.flow, &frame.version);
                prop_assert!(flow.is_some(), "pinned flow {} exists", frame.flow);
                let flow = flow.expect("checked");
                let waiting = flow.step(&frame.step);
                prop_assert!(waiting.is_some_and(|s| s.ask.is_some()), "waits at a question, not {}", frame.step);
                prop_assert!(frame.retries <= settings.max_retries);
            }
            for e in &effects {
                match e {
                    Effect::Send(m) => {
                        prop_assert!(!m.text.trim().is_empty(), "never sends an empty message");
                        prop_assert!(m.plain().chars().count() <= MAX_MESSAGE_CHARS);
                    }
                    Effect::Store(a) => prop_assert!(a.raw.chars().count() <= settings.max_answer_chars),
                    _ => {}
                }
            }
            // State must survive the store's JSON round trip unchanged.
            let json = serde_json::to_string(&next).expect("serialises");
            let back: Conversation = serde_json::from_str(&json).expect("deserialises");
            prop_assert_eq!(&back, &next);
            state = next;
        }
    }

    #[test]
    fn the_step_function_is_pure(inputs in prop::collection::vec(message(), 1..15)) {
        let profile = profile(2);
        let settings = Settings::default();
        let ctx = Context { dialogs: dialogs(), profile: &profile, settings: &settings };
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).single().expect("time");
        let (mut a, mut b) = (Conversation::default(), Conversation::default());
        for input in inputs {
            let (na, ea) = step(&ctx, a, input.clone(), now);
            let (nb, eb) = step(&ctx, b, input, now);
            prop_assert_eq!(&na, &nb);
            prop_assert_eq!(ea, eb);
            (a, b) = (na, nb);
        }
    }
}

/// Rows written by this version must load in later ones: this is the stored shape of a
/// conversation half-way through a check-in. Change it only with a migration.
#[test]
fn a_stored_conversation_from_version_one_still_loads() {
    let stored = r#"{"turn":7,"paused":false,"active":{"flow":"checkin","version":"0123456789abcdef","step":"goals","item":1,"retries":0,"run":5,"answers":{"mood":4},"heard":{"mood":"good"}},"suspended":null,"awaiting":{"kind":"nothing"}}"#;
    let c: Conversation = serde_json::from_str(stored).expect("loads");
    let frame = c.active.as_ref().expect("in a flow");
    assert_eq!((c.turn, frame.step.as_str(), frame.item), (7, "goals", 1));
    assert_eq!(frame.heard.get("mood").map(String::as_str), Some("good"));
    assert_eq!(
        serde_json::to_string(&c).expect("serialises"),
        stored,
        "the format is unchanged"
    );
}
