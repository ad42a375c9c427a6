//! Property: whatever the history of a resident's consent decisions, no update a family
//! member receives ever carries a category without an active "yes" at the moment it is sent.
//!
//! The check does not ask the store what is shared (that is the code under test): it keeps
//! its own model, the last decision made per category, and compares what reached Sam, in
//! the text and in the audit log, with it. Updates Sam asks for and the weekly ones the
//! scheduler queues are both covered, including a decision made between queueing and sending.

use carebot_engine::domain::{Basis, Decision};
use carebot_store::turn::NewConsent;
use carebot_tests::app::{spawn_app, Backend, NowMs, TestApp};
use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::HashMap;

const CATEGORIES: [&str; 3] = ["mood", "goals", "message"];

/// What each category's line says in an update, to check the text as well as the audit row.
fn marker(category: &str) -> &'static str {
    match category {
        "mood" => "has been feeling",
        "goals" => "walk to the garden",
        _ => "A message from",
    }
}

/// One step of a history.
#[derive(Clone, Debug)]
enum Step {
    /// Ava decides about one category for Sam.
    Decide(usize, Decision),
    /// Sam asks "any news?".
    Ask,
    /// Sunday 18:00 comes round: the scheduler queues Sam's weekly update (not yet sent).
    Tick,
    /// The outbox is delivered.
    Deliver,
}

fn step() -> impl Strategy<Value = Step> {
    let decision = prop_oneof![
        Just(Decision::Yes),
        Just(Decision::No),
        Just(Decision::Later)
    ];
    prop_oneof![
        4 => (0usize..3, decision).prop_map(|(c, d)| Step::Decide(c, d)),
        2 => Just(Step::Ask),
        1 => Just(Step::Tick),
        1 => Just(Step::Deliver),
    ]
}

/// The model: the last decision per category; only "yes" shares.
#[derive(Default)]
struct Model(HashMap<&'static str, Decision>);

impl Model {
    fn active(&self, category: &str) -> bool {
        matches!(self.0.get(category), Some(Decision::Yes))
    }
}

async fn give_every_category_something_to_say(app: &TestApp) {
    for text in [
        "check in",
        "4",
        "walked there",
        "rang her",
        "no",
        "yes",
        "message for my family",
        "see you soon",
    ] {
        app.say("ava", text).await;
    }
}

async fn decide(app: &TestApp, category: &str, decision: Decision) {
    let consent = NewConsent {
        family: app.id("sam"),
        category: category.into(),
        decision,
        wording: "test".into(),
        wording_version: "test".into(),
        channel: "test".into(),
        basis: Basis::Resident,
        recorded_by: app.id("ava"),
    };
    app.bot
        .store
        .record_consent_on_behalf(app.id("ava"), &consent, app.clock.now_ms())
        .await
        .expect("consent");
}

/// Checks what reached Sam (`texts`) and what the audit log says was disclosed since
/// `audit_before` rows, against the model at this moment.
async fn check_disclosures(app: &TestApp, model: &Model, texts: &[String], audit_before: usize) {
    for text in texts {
        for c in CATEGORIES {
            assert!(
                !text.contains(marker(c)) || model.active(c),
                "{c} was sent without consent: {text}"
            );
        }
    }
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    for (_, _, d) in audit[audit_before..]
        .iter()
        .filter(|(a, _, _)| a == "update.delivered")
    {
        for c in d["categories"].as_array().into_iter().flatten() {
            let c = c.as_str().expect("a category name");
            assert!(model.active(c), "audited disclosure of {c} without consent");
        }
    }
}

/// The texts among `out` (recipient, text) that went to Sam.
fn to_sam(out: Vec<(String, String)>) -> Vec<String> {
    out.into_iter()
        .filter(|(to, _)| to == "sam")
        .map(|(_, t)| t)
        .collect()
}

async fn run(backend: Backend, history: Vec<Step>) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    give_every_category_something_to_say(&app).await;
    app.deliver().await;
    let mut model = Model::default();
    // The first Sunday 18:00 after the test's Monday morning.
    let mut sunday = Utc
        .with_ymd_and_hms(2026, 11, 29, 18, 0, 0)
        .single()
        .expect("time");
    let mut ticked = false;
    for step in history {
        let audit_before = app
            .bot
            .store
            .audit_of(app.id("ava"))
            .await
            .expect("audit")
            .len();
        match step {
            Step::Decide(c, d) => {
                decide(&app, CATEGORIES[c], d).await;
                model.0.insert(CATEGORIES[c], d);
            }
            Step::Ask => {
                let sent = to_sam(app.say("sam", "any news").await);
                check_disclosures(&app, &model, &sent, audit_before).await;
                let reply = sent.last().expect("Sam gets a reply");
                if CATEGORIES.iter().all(|c| !model.active(c)) {
                    assert!(reply.starts_with("There's nothing I can share"), "{reply}");
                }
                // Before any week has passed, everything shared has something to say: what
                // is shared must be there, not only what is not shared be missing.
                if !ticked {
                    for c in ["mood", "goals"] {
                        assert_eq!(
                            reply.contains(marker(c)),
                            model.active(c),
                            "{c}: shared = {}, in {reply}",
                            model.active(c)
                        );
                    }
                }
            }
            Step::Tick => {
                app.clock.set(sunday);
                app.bot.tick().await.expect("tick");
                sunday += Duration::days(7);
                ticked = true;
            }
            Step::Deliver => {
                let sent = to_sam(app.deliver().await);
                check_disclosures(&app, &model, &sent, audit_before).await;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn no_update_carries_a_category_without_active_consent(
        history in prop::collection::vec(step(), 1..16)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(run(Backend::Sqlite, history));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The same on PostgreSQL (fewer cases: each is a fresh database).
    #[test]
    fn no_update_carries_a_category_without_active_consent_on_postgres(
        history in prop::collection::vec(step(), 1..16)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(run(Backend::Postgres, history));
    }
}
