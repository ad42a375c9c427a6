//! The store test-suite, run against every backend: SQLite and PostgreSQL.
//!
//! Each test is written once in `suite` and expanded for each backend by `for_each_backend!`.
//! Without a PostgreSQL server the PostgreSQL half prints SKIPPED and passes, unless
//! `CAREBOT_REQUIRE_POSTGRES=1` (as in `.ci/run`), when it fails.

use carebot_tests::app::{spawn_app, Backend, NowMs, TestApp};

macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
                suite::$name(app).await;
            })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(app) = spawn_app(Backend::Postgres).await {
                    suite::$name(app).await;
                }
            })*
        }
    };
}

for_each_backend!(
    a_profile_has_active_goals_and_the_keyworker,
    a_revoked_account_becomes_unknown,
    a_turn_stores_answer_state_and_reply_together,
    a_replayed_inbound_event_is_processed_once,
    delivery_is_in_order_per_recipient_across_retries,
    a_message_whose_deliverer_died_is_claimed_again_after_its_lease,
    a_message_that_cannot_be_delivered_is_dead_lettered,
    alerts_reach_only_the_residents_own_keyworkers,
    concurrent_turns_for_one_person_are_serialised,
    a_restarted_carebot_resumes_the_conversation,
    a_conversation_stays_on_its_flow_version_when_the_file_changes,
    a_link_code_links_one_account_once_and_expires,
    the_audit_chain_shows_a_changed_row,
    two_instances_ticking_at_once_start_each_checkin_once,
    consent_is_stored_with_its_wording_time_and_channel_and_audited,
    withdrawing_consent_stops_an_update_already_queued,
    a_delivered_family_update_is_an_audited_disclosure,
    a_weekly_update_carries_a_mood_chart_only_when_mood_is_shared,
    an_export_holds_every_kind_of_record_on_every_backend,
    profiles_loaded_in_bulk_match_profiles_loaded_one_by_one,
    the_keyworker_digest_carries_a_mood_chart_of_her_residents,
);

mod suite {
    use super::*;
    use carebot_core::runtime::{dispatch_due, DeliveryError, Handled, Inbound};
    use carebot_core::store::people::Identity;
    use carebot_tests::app::PLATFORM;
    use chrono::Duration;
    use std::sync::Arc;

    fn inbound(who: &str, event: &str, text: &str) -> Inbound {
        Inbound {
            platform: PLATFORM.into(),
            sender: who.into(),
            event_id: event.into(),
            text: text.into(),
        }
    }

    pub async fn a_profile_has_active_goals_and_the_keyworker(app: TestApp) {
        let p = app.bot.store.profile(app.id("ava")).await.expect("profile");
        assert_eq!(p.name, "Ava Thompson");
        assert_eq!(p.keyworker.as_deref(), Some("Kim Patel"));
        let goals: Vec<&str> = p.goals.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(
            goals,
            ["walk to the garden", "phone my sister Sam on Sunday"]
        );
        assert_eq!(p.home_phone, "01632 960000");
    }

    pub async fn a_revoked_account_becomes_unknown(app: TestApp) {
        let acct = Identity {
            platform: PLATFORM.into(),
            address: "sam".into(),
        };
        assert_eq!(
            app.bot.store.person_for(&acct).await.expect("lookup"),
            Some(app.id("sam"))
        );
        app.bot
            .store
            .revoke_identity(&acct, 1)
            .await
            .expect("revoke");
        assert_eq!(app.bot.store.person_for(&acct).await.expect("lookup"), None);
        assert_eq!(
            app.handle(&inbound("sam", "e1", "how is Ava?")).await,
            Handled::UnknownAccount
        );
    }

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

    pub async fn delivery_is_in_order_per_recipient_across_retries(app: TestApp) {
        // Three messages for ava are queued (help text, then a question after an interruption).
        app.handle(&inbound("ava", "e1", "check in")).await;
        app.handle(&inbound("ava", "e2", "help")).await;
        app.handle(&inbound("ben", "e3", "check in")).await;
        app.channel.fail_next(
            1,
            DeliveryError::Retry {
                after: None,
                reason: "HTTP 502".into(),
            },
        );
        // The first (ava's question) fails; ava's later messages wait behind it, ben's go.
        let first = app.deliver().await;
        assert_eq!(
            first.iter().map(|(to, _)| to.as_str()).collect::<Vec<_>>(),
            ["ben"]
        );
        app.clock.advance(Duration::seconds(3));
        let rest = app.deliver().await;
        let texts: Vec<&str> = rest.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(rest.iter().filter(|(to, _)| to == "ava").count(), 3);
        assert!(texts[0].starts_with("Hello Ava. How are you feeling"));
        assert!(texts[1].starts_with("Here's what you can say"));
        assert!(texts[2].starts_with("Shall we carry on"));
    }

    pub async fn a_message_whose_deliverer_died_is_claimed_again_after_its_lease(app: TestApp) {
        app.handle(&inbound("ava", "e1", "help")).await;
        let now = app.clock.now_ms();
        let claimed = app
            .bot
            .store
            .claim_outbox(PLATFORM, None, now, now + 60_000, 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        // The deliverer "dies" here. Within the lease nobody else takes it...
        let again = app
            .bot
            .store
            .claim_outbox(PLATFORM, None, now + 1_000, now + 61_000, 10)
            .await
            .expect("claim");
        assert!(again.is_empty());
        // ...after it, the message is delivered with the same idempotency key.
        app.clock.advance(Duration::seconds(61));
        dispatch_due(&app.bot, &app.channel, &app.policy)
            .await
            .expect("dispatch");
        let delivered = app.channel.take();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].2, claimed[0].key);
    }

    pub async fn a_message_that_cannot_be_delivered_is_dead_lettered(app: TestApp) {
        app.handle(&inbound("ava", "e1", "help")).await;
        app.channel.fail_next(
            1,
            DeliveryError::Permanent {
                reason: "HTTP 403".into(),
            },
        );
        let report = dispatch_due(&app.bot, &app.channel, &app.policy)
            .await
            .expect("dispatch");
        assert_eq!((report.sent, report.dead), (0, 1));
        let counts = app.bot.store.outbox_counts().await.expect("counts");
        assert!(
            counts.iter().any(|c| c.status == "dead" && c.count == 1),
            "{counts:?}"
        );
    }

    pub async fn alerts_reach_only_the_residents_own_keyworkers(app: TestApp) {
        let out = app.say("ava", "I need help now").await;
        let recipients: Vec<&str> = out.iter().map(|(to, _)| to.as_str()).collect();
        assert_eq!(
            recipients,
            ["kim", "ava"],
            "not sam (family), maria (manager) or zed (not her keyworker)"
        );
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

    pub async fn a_link_code_links_one_account_once_and_expires(app: TestApp) {
        let now = app.clock.now_ms();
        app.bot
            .store
            .add_link_code(app.id("sam"), "K7QM-3XPA", now + 60_000)
            .await
            .expect("code");
        app.bot
            .store
            .add_link_code(app.id("ben"), "OLD0-CODE", now - 1)
            .await
            .expect("code");
        assert_eq!(
            app.handle(&inbound("@sam:home", "l1", "link k7qm-3xpa"))
                .await,
            Handled::Linked
        );
        assert_eq!(
            app.handle(&inbound("@sam:home", "l1", "link k7qm-3xpa"))
                .await,
            Handled::Duplicate
        );
        assert_eq!(
            app.bot
                .store
                .person_for(&Identity {
                    platform: PLATFORM.into(),
                    address: "@sam:home".into()
                })
                .await
                .expect("lookup"),
            Some(app.id("sam"))
        );
        // Used up: a second account gets the same nothing-telling reply as any stranger.
        assert_eq!(
            app.handle(&inbound("@eve:evil", "l2", "link K7QM-3XPA"))
                .await,
            Handled::UnknownAccount
        );
        assert_eq!(
            app.handle(&inbound("@eve:evil", "l3", "link OLD0-CODE"))
                .await,
            Handled::UnknownAccount,
            "expired"
        );
        let out = app.deliver().await;
        assert_eq!(out[0], ("@sam:home".to_string(), "Thank you, Sam. This account is now linked to you. Say \"help\" to see what you can do.".to_string()));
        assert!(out[1..]
            .iter()
            .all(|(_, t)| t.starts_with("Hello. I don't know this account yet.")));
        let audit = app.bot.store.audit_of(app.id("sam")).await.expect("audit");
        assert_eq!(
            audit
                .iter()
                .filter(|(a, _, _)| a == "identity.linked")
                .count(),
            1
        );
    }

    pub async fn the_audit_chain_shows_a_changed_row(app: TestApp) {
        use carebot_core::store::audit::{AuditEntry, ChainCheck};
        for i in 0..3 {
            let e = AuditEntry {
                actor: "test".into(),
                action: "test.event".into(),
                subject: Some(app.id("ava")),
                detail: serde_json::json!({ "n": i }),
            };
            app.bot
                .store
                .audit(&e, app.clock.now_ms() + i)
                .await
                .expect("audit");
        }
        assert_eq!(
            app.bot.store.verify_audit().await.expect("verify"),
            ChainCheck::Intact { rows: 3 }
        );
        app.raw_sql("UPDATE audit_log SET detail = '{\"n\":99}' WHERE id = (SELECT MIN(id) + 1 FROM audit_log)").await;
        match app.bot.store.verify_audit().await.expect("verify") {
            ChainCheck::Broken { .. } => {}
            other => panic!("tampering went unnoticed: {other:?}"),
        }
    }

    pub async fn two_instances_ticking_at_once_start_each_checkin_once(app: TestApp) {
        app.add_residents(200).await;
        app.clock.advance(Duration::minutes(30)); // 09:30: Ava's time too.
        let other = app.restart(None).await;
        let (a, b) = tokio::join!(app.bot.tick(), other.tick());
        let started = a.expect("tick").started + b.expect("tick").started;
        assert_eq!(
            started, 201,
            "200 residents at 09:00 and Ava at 09:30, each once"
        );
        let counts = app.bot.store.outbox_counts().await.expect("counts");
        // 201 prompts, plus Kim's 08:00 digest: both instances ran the morning jobs, once.
        assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 202);
    }

    /// Ava shares her mood with Sam through the privacy flow (answering yes to mood only).
    async fn share_mood_with_sam(app: &TestApp) {
        for text in ["privacy", "yes", "yes", "no", "no"] {
            app.say("ava", text).await;
        }
    }

    pub async fn consent_is_stored_with_its_wording_time_and_channel_and_audited(app: TestApp) {
        share_mood_with_sam(&app).await;
        let consents = app
            .bot
            .store
            .consents_of(app.id("ava"))
            .await
            .expect("consents");
        let decided: Vec<(&str, &str)> = consents
            .iter()
            .map(|c| (c.category.as_str(), c.decision.as_str()))
            .collect();
        assert_eq!(
            decided,
            [("mood", "yes"), ("goals", "no"), ("message", "no")]
        );
        let mood = &consents[0];
        assert_eq!(
            mood.wording,
            "May I share how you are feeling with Sam Thompson?"
        );
        assert_eq!(
            (mood.channel.as_str(), mood.basis.as_str()),
            (PLATFORM, "self")
        );
        assert_eq!(mood.family, app.id("sam"));
        assert_eq!(mood.decided_ms, app.clock.now_ms());
        assert!(!mood.wording_version.is_empty());
        let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
        assert_eq!(
            audit
                .iter()
                .filter(|(a, _, _)| a == "consent.recorded")
                .count(),
            3
        );
    }

    pub async fn withdrawing_consent_stops_an_update_already_queued(app: TestApp) {
        share_mood_with_sam(&app).await;
        app.say("ava", "check in").await;
        app.say("ava", "4").await;
        // Sunday 18:00: the weekly update is queued but not yet delivered...
        app.clock.set(
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 29, 18, 0, 0)
                .single()
                .expect("time"),
        );
        assert_eq!(app.bot.tick().await.expect("tick").updates, 1);
        // ...when Ava withdraws. (Ava's own check-in prompt from the tick is delivered with her reply.)
        let out = app.say("ava", "stop sharing my mood").await;
        assert!(
            out.iter().all(|(to, _)| to == "ava"),
            "Sam receives nothing: {out:?}"
        );
        let counts = app.bot.store.outbox_counts().await.expect("counts");
        assert!(
            counts
                .iter()
                .any(|c| c.status == "withdrawn" && c.count == 1),
            "{counts:?}"
        );
        let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
        let last = audit
            .iter()
            .rev()
            .find(|(a, _, _)| a == "consent.recorded")
            .expect("withdrawal audited");
        assert_eq!(last.2["queued_updates_withdrawn"], 1);
        assert!(!audit.iter().any(|(a, _, _)| a == "update.delivered"));
    }

    pub async fn a_delivered_family_update_is_an_audited_disclosure(app: TestApp) {
        share_mood_with_sam(&app).await;
        app.say("ava", "check in").await;
        app.say("ava", "not great").await;
        let out = app.say("sam", "any news").await;
        assert_eq!(out.len(), 1);
        assert!(out[0].1.contains("2 out of 5"), "{out:?}");
        assert!(
            !out[0].1.contains("garden"),
            "goals are not shared: {out:?}"
        );
        let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
        let delivered: Vec<_> = audit
            .iter()
            .filter(|(a, _, _)| a == "update.delivered")
            .collect();
        assert_eq!(delivered.len(), 1);
        assert_eq!(delivered[0].2["categories"], serde_json::json!(["mood"]));
        assert_eq!(delivered[0].2["to"], serde_json::json!(app.id("sam").0));
    }

    pub async fn a_weekly_update_carries_a_mood_chart_only_when_mood_is_shared(mut app: TestApp) {
        app.bot.schedule.digest = false;
        // Ava shares goals and messages with Sam, not mood; then mood too, the week after.
        for text in [
            "privacy", "yes", "no", "yes", "yes", "check in", "4", "walked",
        ] {
            app.say("ava", text).await;
        }
        let sunday = |d| {
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, d, 18, 0, 0)
                .single()
                .expect("time")
        };
        app.clock.set(sunday(29));
        app.bot.tick().await.expect("tick");
        dispatch_due(&app.bot, &app.channel, &app.policy)
            .await
            .expect("dispatch");
        let first = app.channel.take();
        let to_sam: Vec<_> = first.iter().filter(|(to, _, _)| to == "sam").collect();
        assert_eq!(to_sam.len(), 1);
        assert_eq!(
            to_sam[0].1.chart, None,
            "mood is not shared, so no mood chart"
        );
        app.clock.advance(chrono::Duration::hours(1));
        app.say("ava", "privacy").await;
        for text in ["yes", "yes", "yes", "yes", "check in", "5"] {
            app.say("ava", text).await;
        }
        app.clock.set(sunday(30) + chrono::Duration::days(6));
        app.bot.tick().await.expect("tick");
        dispatch_due(&app.bot, &app.channel, &app.policy)
            .await
            .expect("dispatch");
        let second = app.channel.take();
        let update = second
            .iter()
            .find(|(to, _, _)| to == "sam")
            .expect("an update for Sam");
        let chart = update.1.chart.as_ref().expect("a mood chart");
        assert_eq!(chart.series[0].label, "Ava");
        assert!(carebot_core::chart::png(chart).is_ok());
    }

    pub async fn an_export_holds_every_kind_of_record_on_every_backend(app: TestApp) {
        app.bot
            .store
            .set_review(app.id("ava"), 28, "2026-12-01")
            .await
            .expect("review");
        for text in ["check in", "3", "my knee hurts"] {
            app.say("ava", text).await;
        }
        let data = app
            .bot
            .store
            .export_person("ava", "test", app.clock.now_ms())
            .await
            .expect("export");
        assert_eq!(
            data["reviews"][0]["interval_days"], 28,
            "INTEGER columns come out as numbers"
        );
        assert_eq!(data["reviews"][0]["next_due"], "2026-12-01");
        assert_eq!(data["alerts_about_them"][0]["reason"], "mentioned pain");
        assert_eq!(data["answers"].as_array().map(Vec::len), Some(2));
        assert_eq!(data["goals"][0]["active"], true);
        assert!(data["chat_accounts"][0]["address"] == "ava");
        let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
        assert!(audit.iter().any(|(a, _, _)| a == "person.exported"));
    }

    /// The scheduler's bulk loader and the per-turn loader are two queries for one thing:
    /// they must agree (apart from recent answers, which only the per-turn loader reads).
    pub async fn profiles_loaded_in_bulk_match_profiles_loaded_one_by_one(app: TestApp) {
        share_mood_with_sam(&app).await;
        app.add_residents(3).await;
        let bulk = app.bot.store.resident_profiles().await.expect("bulk");
        assert_eq!(bulk.len(), 5, "ava, ben and three more");
        for (id, from_bulk) in &bulk {
            let mut one = app.bot.store.profile(*id).await.expect("profile");
            one.recent.clear();
            assert_eq!(&one, from_bulk);
        }
        assert_eq!(bulk[&app.id("ava")].consents.len(), 3);
        assert_eq!(bulk[&app.id("ava")].keyworker.as_deref(), Some("Kim Patel"));
    }

    pub async fn the_keyworker_digest_carries_a_mood_chart_of_her_residents(app: TestApp) {
        for text in ["check in", "3"] {
            app.say("ava", text).await;
        }
        app.clock.set(
            chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 24, 8, 0, 0)
                .single()
                .expect("time"),
        );
        app.bot.tick().await.expect("tick");
        dispatch_due(&app.bot, &app.channel, &app.policy)
            .await
            .expect("dispatch");
        let sent = app.channel.take();
        let digest = sent
            .iter()
            .find(|(to, m, _)| to == "kim" && m.text.starts_with("Good morning Kim"))
            .expect("Kim's digest");
        let chart = digest.1.chart.as_ref().expect("a mood chart");
        let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Ava Thompson"],
            "only residents with moods to draw"
        );
        assert_eq!(chart.series[0].points, vec![(0, 3.0)]);
        assert!(
            digest.1.text.contains("mood 3.0/5"),
            "the same number in words: {}",
            digest.1.text
        );
        assert!(carebot_core::chart::png(chart).is_ok());
    }
}
