//! The access table (`core/engine/src/access.rs`) as the running Carebot applies it, on both
//! backends: roles and relations read from the database, and each place that acts on someone's
//! behalf refusing what the table refuses. Every cell of the table itself is checked in
//! `core/engine/src/access/tests.rs`.

carebot_tests::for_each_backend!(
    the_store_answers_the_table_for_every_person_and_resident,
    a_family_member_asking_about_another_resident_hears_nothing_about_them,
    a_keyworker_not_assigned_cannot_ack_record_a_review_or_record_consent,
    an_unlinked_account_changes_nothing_whatever_it_says,
    a_revoked_link_makes_the_account_unknown_at_once,
    only_a_manager_or_the_operator_may_export_or_erase,
);

mod suite {
    use carebot_engine::access::{allowed, Action, Actor, Decision, Relation, RESOURCES};
    use carebot_engine::domain::{Basis, Decision as Consent};
    use carebot_runtime::admin;
    use carebot_runtime::{Handled, Inbound};
    use carebot_tests::app::{NowMs, TestApp, PLATFORM};

    /// What each seeded person is to Ava and to Ben, by hand.
    const RELATIONS: &[(&str, Relation, Relation)] = &[
        ("ava", Relation::Themself, Relation::Unrelated),
        ("ben", Relation::Unrelated, Relation::Themself),
        ("kim", Relation::Keyworker, Relation::Keyworker),
        ("maria", Relation::Manager, Relation::Manager),
        ("sam", Relation::Family, Relation::Unrelated),
        ("zed", Relation::Unrelated, Relation::Unrelated),
    ];

    pub async fn the_store_answers_the_table_for_every_person_and_resident(app: TestApp) {
        let store = &app.bot.store;
        let mut checked = 0;
        for &(who, to_ava, to_ben) in RELATIONS {
            let role = store.role_of(app.id(who)).await.expect("role");
            for (owner, relation) in [("ava", to_ava), ("ben", to_ben)] {
                assert_eq!(
                    store
                        .relation_between(app.id(who), app.id(owner))
                        .await
                        .expect("relation"),
                    relation,
                    "{who} to {owner}"
                );
                for resource in RESOURCES {
                    for action in [Action::Read, Action::Write] {
                        let got = store
                            .access(Some(app.id(who)), action, resource, app.id(owner))
                            .await
                            .expect("access");
                        let want = allowed(Actor::Person(role), action, resource, relation);
                        assert_eq!(got, want, "{who} {action:?} {owner}'s {resource:?}");
                        let unlinked = store
                            .access(None, action, resource, app.id(owner))
                            .await
                            .expect("access");
                        assert_eq!(unlinked, Decision::Deny);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, RELATIONS.len() * 2 * RESOURCES.len() * 2);
    }

    /// Ava shares her mood with Sam (privacy flow: yes to mood only).
    async fn share_mood_with_sam(app: &TestApp) {
        for text in ["privacy", "yes", "yes", "no", "no"] {
            app.say("ava", text).await;
        }
    }

    pub async fn a_family_member_asking_about_another_resident_hears_nothing_about_them(
        app: TestApp,
    ) {
        share_mood_with_sam(&app).await;
        for text in ["check in", "1", "my knees ache terribly"] {
            app.say("ben", text).await;
        }
        app.say("ava", "check in").await;
        app.say("ava", "4").await;
        let mut heard = Vec::new();
        for text in ["any news about Ben?", "how is Ben doing", "any news"] {
            let out = app.say("sam", text).await;
            assert!(!out.is_empty(), "Sam is answered");
            heard.extend(out);
        }
        for (to, text) in &heard {
            assert_eq!(to, "sam");
            assert!(!text.contains("Ben"), "nothing about Ben: {text}");
            assert!(!text.contains("knees"), "nothing of Ben's words: {text}");
            assert!(!text.contains("1 out of 5"), "not Ben's mood: {text}");
        }
        assert!(
            heard.iter().any(|(_, t)| t.contains("4 out of 5")),
            "Ava's shared mood: {heard:?}"
        );
        let store = &app.bot.store;
        let about_ben = store
            .access(
                Some(app.id("sam")),
                Action::Read,
                carebot_engine::access::Resource::CheckinAnswers,
                app.id("ben"),
            )
            .await
            .expect("access");
        assert_eq!(about_ben, Decision::Deny);
        assert!(store
            .audit_of(app.id("ben"))
            .await
            .expect("audit")
            .iter()
            .all(|(a, _, _)| a != "update.delivered"));
    }

    pub async fn a_keyworker_not_assigned_cannot_ack_record_a_review_or_record_consent(
        app: TestApp,
    ) {
        app.say("ava", "I need help now").await;
        let store = &app.bot.store;
        assert_eq!(store.unacknowledged_alerts().await.expect("count"), 1);
        for text in ["ack 1", "ack", "review done Ava"] {
            let out = app.say("zed", text).await;
            assert!(out.iter().all(|(to, _)| to == "zed"), "{out:?}");
            assert!(
                out.iter().all(|(_, t)| !t.contains("I've noted")),
                "zed is never told it was noted: {out:?}"
            );
        }
        assert_eq!(
            store.unacknowledged_alerts().await.expect("count"),
            1,
            "zed is not Ava's keyworker: the alert stays open"
        );
        assert!(
            app.bot
                .store
                .conversation(app.id("zed"))
                .await
                .expect("state")
                .active
                .is_none(),
            "no review flow was started for zed"
        );
        let system = &app.bot.dialogs.system;
        let by_zed = admin::record_consent_on_behalf(
            store,
            system,
            "ava",
            "sam",
            "mood",
            Consent::Yes,
            Basis::BestInterests("meeting 1 Nov".into()),
            "zed",
            app.clock.now_ms(),
        )
        .await;
        assert!(by_zed.is_err(), "an unassigned keyworker records nothing");
        assert!(store
            .consents_of(app.id("ava"))
            .await
            .expect("c")
            .is_empty());
        // Her own keyworker can do each of these, and is told plainly when a number is wrong.
        let wrong = app.say("kim", "ack 999").await;
        assert!(wrong[0].1.contains("nothing was recorded"), "{wrong:?}");
        assert_eq!(store.unacknowledged_alerts().await.expect("count"), 1);
        app.say("kim", "ack").await;
        assert_eq!(store.unacknowledged_alerts().await.expect("count"), 0);
        admin::record_consent_on_behalf(
            store,
            system,
            "ava",
            "sam",
            "mood",
            Consent::Yes,
            Basis::BestInterests("meeting 1 Nov".into()),
            "kim",
            app.clock.now_ms(),
        )
        .await
        .expect("kim may, with a basis");
        assert_eq!(store.consents_of(app.id("ava")).await.expect("c").len(), 1);
    }

    pub async fn an_unlinked_account_changes_nothing_whatever_it_says(app: TestApp) {
        app.say("ava", "I need help now").await;
        let store = &app.bot.store;
        for (n, text) in [
            "ack",
            "any news",
            "review done Ava",
            "I am Kim Patel, ack 1",
        ]
        .into_iter()
        .enumerate()
        {
            let handled = app
                .handle(&Inbound {
                    pressed: None,
                    platform: PLATFORM.into(),
                    sender: "@stranger:example.org".into(),
                    event_id: format!("stranger{n}"),
                    text: text.into(),
                })
                .await;
            assert_eq!(handled, Handled::UnknownAccount);
            for (to, reply) in app.deliver().await {
                assert_eq!(to, "@stranger:example.org");
                assert!(!reply.contains("Ava"), "{reply}");
            }
        }
        assert_eq!(store.unacknowledged_alerts().await.expect("count"), 1);
    }

    pub async fn a_revoked_link_makes_the_account_unknown_at_once(app: TestApp) {
        app.say("ava", "I need help now").await;
        let store = &app.bot.store;
        let n = admin::unlink(store, "kim", "cli:test", app.clock.now_ms())
            .await
            .expect("unlink");
        assert_eq!(n, 1);
        let handled = app
            .handle(&Inbound {
                pressed: None,
                platform: PLATFORM.into(),
                sender: "kim".into(),
                event_id: "after-revoke".into(),
                text: "ack".into(),
            })
            .await;
        assert_eq!(handled, Handled::UnknownAccount);
        assert_eq!(store.unacknowledged_alerts().await.expect("count"), 1);
        let audit = store.audit_of(app.id("kim")).await.expect("audit");
        assert!(audit.iter().any(|(a, actor, d)| a == "identity.revoked"
            && actor == "cli:test"
            && d["accounts"] == 1));
        assert!(matches!(
            store.verify_audit().await.expect("verify"),
            carebot_store::audit::ChainCheck::Intact { .. }
        ));
    }

    pub async fn only_a_manager_or_the_operator_may_export_or_erase(app: TestApp) {
        let store = &app.bot.store;
        let ava = app.id("ava");
        for action in [Action::Read, Action::Write] {
            for who in ["kim", "sam", "zed", "ava", "ben"] {
                let r = admin::records_requester(store, ava, Some(who), action, "cli:op").await;
                assert!(r.is_err(), "{who} may not {action:?}");
            }
            assert_eq!(
                admin::records_requester(store, ava, Some("maria"), action, "cli:op")
                    .await
                    .expect("manager"),
                format!("person:{}", app.id("maria"))
            );
            assert_eq!(
                admin::records_requester(store, ava, None, action, "cli:op")
                    .await
                    .expect("operator"),
                "cli:op"
            );
        }
    }
}
