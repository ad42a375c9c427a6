//! Criterion micro-benchmarks of the pure engine (no store, no runtime):
//!
//! - `step/checkin_mood_answer`: one `engine::step` for a typical check-in answer (a resident
//!   with two goals answers the mood question; the engine validates it, stores it, checks the
//!   concern rules and renders the next question);
//! - `step/checkin_start`: the scheduler's start of a check-in (the fan-out's per-resident
//!   engine work);
//! - `flow/load_dir`: loading and checking `dialogs/` (part of cold start);
//! - `understand/*_4000_chars`: the concern rules and the intent matcher on a 4,000-character
//!   message (the longest the engine reads): ordinary words, and words made of typos and
//!   near-misses that send every word through the speller (the worst case). Patterns are
//!   compiled once at load, so no message can make a rule slow.
//!
//! `cargo bench -p carebot-engine --bench engine` runs them; `cargo bench --no-run` builds them.

use carebot_engine::domain::{Goal, Profile, Role};
use carebot_engine::engine::turn::CHECKIN;
use carebot_engine::engine::{step, Context, Conversation, Input, Settings};
use carebot_engine::flow::load_dir;
use carebot_engine::ids::{GoalId, PersonId};
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use std::hint::black_box;
use std::path::Path;

fn dialogs_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialogs"))
}

fn resident() -> Profile {
    Profile {
        id: PersonId(1),
        name: "Ada Lovelace".into(),
        role: Role::Resident,
        language: "en".into(),
        goals: vec![
            Goal::active(GoalId(1), "walk to the garden"),
            Goal::active(GoalId(2), "phone my sister"),
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
        expected_checkins: Vec::new(),
        requests: Vec::new(),
        open_requests: Vec::new(),
        reviews_due: Vec::new(),
        plan: None,
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
    let words = [
        "my", "hip", "has", "been", "sore", "since", "tuesday", "but", "the", "garden", "was",
        "lovely", "and", "no", "pain", "today", "i", "watched", "a", "film", "about", "a", "man",
    ];
    let ordinary = sentence(&words, 4000);
    let typos = sentence(
        &[
            "pian", "scard", "lonley", "dizy", "painfull", "rihgts", "chekin", "xqzvw", "brethe",
        ],
        4000,
    );
    {
        let heard = dialogs.matcher.hear(&ordinary);
        c.bench_function("understand/parts/hear", |b| {
            b.iter(|| dialogs.matcher.hear(black_box(&ordinary)))
        });
        c.bench_function("understand/parts/concerns", |b| {
            b.iter(|| dialogs.matcher.concerns(black_box(&heard)))
        });
        c.bench_function("understand/parts/intent", |b| {
            b.iter(|| {
                dialogs
                    .matcher
                    .intent(black_box(&heard), Role::Resident, 0.6)
            })
        });
    }
    for (name, text) in [("ordinary", ordinary), ("typos", typos)] {
        c.bench_function(&format!("understand/{name}_4000_chars"), |b| {
            b.iter(|| {
                let heard = dialogs.matcher.hear(black_box(&text));
                let hits = dialogs.matcher.concerns(&heard);
                let guess = dialogs.matcher.intent(&heard, Role::Resident, 0.6);
                (hits, guess)
            })
        });
    }
    c.bench_function("flow/load_dir", |b| {
        b.iter(|| load_dir(black_box(dialogs_dir())).expect("the dialogs load"))
    });
}

/// `words` repeated, space-separated, up to `chars` characters.
fn sentence(words: &[&str], chars: usize) -> String {
    let mut s = String::new();
    for w in words.iter().cycle() {
        if s.len() + w.len() + 1 > chars {
            break;
        }
        s.push_str(w);
        s.push(' ');
    }
    s
}

criterion_group!(benches, engine);
criterion_main!(benches);
