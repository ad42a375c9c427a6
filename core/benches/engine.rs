//! Criterion micro-benchmarks of the pure engine (no store, no runtime):
//!
//! - `step/checkin_mood_answer`: one `engine::step` for a typical check-in answer (a resident
//!   with two goals answers the mood question; the engine validates it, stores it, checks the
//!   concern rules and renders the next question);
//! - `step/checkin_start`: the scheduler's start of a check-in (the fan-out's per-resident
//!   engine work);
//! - `flow/load_dir`: loading and checking `dialogs/` (part of cold start).
//!
//! `cargo bench -p carebot-core --bench engine` runs them; `cargo bench --no-run` builds them.

use carebot_core::domain::{Goal, Profile, Role};
use carebot_core::engine::turn::CHECKIN;
use carebot_core::engine::{step, Context, Conversation, Input, Settings};
use carebot_core::flow::load_dir;
use carebot_core::ids::{GoalId, PersonId};
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;
use std::path::Path;

fn dialogs_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../dialogs"))
}

fn resident() -> Profile {
    Profile {
        id: PersonId(1),
        name: "Ada Lovelace".into(),
        role: Role::Resident,
        language: "en".into(),
        goals: vec![
            Goal {
                id: GoalId(1),
                text: "walk to the garden".into(),
            },
            Goal {
                id: GoalId(2),
                text: "phone my sister".into(),
            },
        ],
        keyworker: Some("Sam".into()),
        home_name: "Bench House".into(),
        home_phone: "01632 960000".into(),
        family: Vec::new(),
        consents: Vec::new(),
        family_of: Vec::new(),
        caring_for: Vec::new(),
        recent: Vec::new(),
        open_alerts: Vec::new(),
    }
}

fn engine(c: &mut Criterion) {
    let dialogs = load_dir(dialogs_dir()).expect("the dialogs load");
    let profile = resident();
    let settings = Settings::default();
    let ctx = Context {
        dialogs: &dialogs,
        profile: &profile,
        settings: &settings,
    };
    let now = Utc
        .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .expect("a valid time");
    let start = || Input::Start {
        flow: CHECKIN.into(),
    };
    let (asked_mood, _) = step(&ctx, Conversation::default(), start(), now);
    assert!(
        asked_mood.turn > 0,
        "the check-in must have started for the benchmark to mean anything"
    );

    c.bench_function("step/checkin_mood_answer", |b| {
        b.iter_batched(
            || asked_mood.clone(),
            |state| step(&ctx, state, Input::Message(black_box("4".into())), now),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("step/checkin_start", |b| {
        b.iter(|| step(&ctx, Conversation::default(), start(), now))
    });
    c.bench_function("flow/load_dir", |b| {
        b.iter(|| load_dir(black_box(dialogs_dir())).expect("the dialogs load"))
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
