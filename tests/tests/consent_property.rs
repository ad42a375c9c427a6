//! Property: whatever the history of a resident's consent decisions, no update a family
//! member receives ever carries a category without an active "yes" at the moment it is sent.

use carebot_core::domain::{Basis, Decision};
use carebot_core::store::turn::NewConsent;
use carebot_tests::app::{spawn_app, Backend, NowMs, TestApp};
use proptest::prelude::*;

const CATEGORIES: [&str; 3] = ["mood", "goals", "message"];

/// What each category's line says in an update, to check the text as well as the audit row.
fn marker(category: &str) -> &'static str {
    match category {
        "mood" => "has been feeling",
        "goals" => "walk to the garden",
        _ => "A message from",
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

fn decision() -> impl Strategy<Value = Decision> {
    prop_oneof![
        Just(Decision::Yes),
        Just(Decision::No),
        Just(Decision::Later)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_update_carries_a_category_without_active_consent(
        history in prop::collection::vec((0usize..3, decision(), any::<bool>()), 1..12)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
            give_every_category_something_to_say(&app).await;
            for (category, decision, ask) in history {
                decide(&app, CATEGORIES[category], decision).await;
                if !ask {
                    continue;
                }
                let shared = app.bot.store.shared_categories(app.id("ava"), app.id("sam")).await.expect("shared");
                let before = app.bot.store.audit_of(app.id("ava")).await.expect("audit").len();
                let sent = app.say("sam", "any news").await;
                assert_eq!(sent.len(), 1, "one reply to Sam");
                let text = &sent[0].1;
                for c in CATEGORIES {
                    let said = text.contains(marker(c));
                    assert!(!said || shared.iter().any(|s| s == c), "{c} was sent without consent: {text}");
                }
                // The disclosures this request caused, and nothing else.
                let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
                let delivered: Vec<_> = audit[before..].iter().filter(|(a, _, _)| a == "update.delivered").collect();
                assert!(delivered.len() <= 1);
                for (_, _, d) in delivered {
                    for c in d["categories"].as_array().into_iter().flatten() {
                        assert!(shared.iter().any(|s| Some(s.as_str()) == c.as_str()), "audited disclosure of {c} without consent");
                    }
                }
                if shared.is_empty() {
                    assert!(text.starts_with("There's nothing I can share"), "{text}");
                }
            }
        });
    }
}
