//! Erasure and retention on both backends: what an erasure removes, that the audit log's hash
//! chain still verifies afterwards, and that retention deletes old message bodies, events and
//! timers but no care records and nothing still owed to someone.

carebot_tests::for_each_backend!(
    erasing_a_resident_leaves_nothing_personal_and_the_audit_chain_valid,
    erasing_a_family_member_leaves_the_residents_own_records,
    erasing_someone_whose_name_has_quotes_leaves_it_in_no_message,
    erasing_someone_with_a_two_letter_name_leaves_it_in_no_message,
    retention_deletes_old_message_bodies_events_and_timers_but_not_care_records,
);

mod suite {
    use carebot_runtime::admin;
    use carebot_runtime::{DeliveryError, Handled, Inbound};
    use carebot_store::audit::ChainCheck;
    use carebot_tests::app::{NowMs, TestApp, PLATFORM};
    use chrono::Duration;

    async fn share_mood_with_sam(app: &TestApp) {
        for text in ["privacy", "yes", "yes", "no", "no"] {
            app.say("ava", text).await;
        }
    }

    /// A week of Ava's life in Carebot: consent, a check-in with a concern, a call for help,
    /// a family update and the keyworker's digest that names her.
    async fn ava_uses_carebot(app: &TestApp) {
        share_mood_with_sam(app).await;
        for text in [
            "check in",
            "3",
            "Didn't go, my hip hurts",
            "done",
            "no",
            "yes",
        ] {
            app.say("ava", text).await;
        }
        app.say("ava", "I need help now").await;
        app.say("kim", "ack").await;
        app.say("sam", "any news").await;
        app.clock.advance(Duration::hours(23));
        app.bot.tick().await.expect("tick");
        app.deliver().await;
    }

    pub async fn erasing_a_resident_leaves_nothing_personal_and_the_audit_chain_valid(
        app: TestApp,
    ) {
        ava_uses_carebot(&app).await;
        let ava = app.id("ava");
        let digests = app
            .count("SELECT COUNT(*) FROM outbox WHERE idem_key LIKE 'digest.%' AND payload LIKE '%Ava Thompson%'")
            .await;
        assert!(digests > 0, "Kim's digest named Ava before the erasure");
        let store = &app.bot.store;
        let done = admin::erase(store, "ava", None, "cli:test", app.clock.now_ms())
            .await
            .expect("erase");
        for table in [
            "answers",
            "goals",
            "reviews",
            "checkins",
            "timers",
            "identities",
            "link_codes",
            "alerts",
        ] {
            let n = app
                .count(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE person_id = {ava}"
                ))
                .await;
            assert_eq!(n, 0, "{table}");
        }
        let left = app
            .count(&format!(
                "SELECT COUNT(*) FROM consents WHERE resident_id = {ava} OR family_id = {ava}"
            ))
            .await
            + app
                .count(&format!(
                    "SELECT COUNT(*) FROM relations WHERE resident_id = {ava} OR person_id = {ava}"
                ))
                .await;
        assert_eq!(left, 0);
        for needle in ["Ava", "hip hurts", "need help now"] {
            for (table, cols) in [
                ("outbox", "payload"),
                ("people", "display_name || handle"),
                ("audit_log", "actor || detail"),
                ("conversations", "state"),
            ] {
                let n = app
                    .count(&format!(
                        "SELECT COUNT(*) FROM {table} WHERE {cols} LIKE '%{needle}%'"
                    ))
                    .await;
                assert_eq!(n, 0, "'{needle}' is still in {table}");
            }
        }
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM people WHERE id = {ava} AND display_name = 'Erased person' AND erased_ms IS NOT NULL")).await,
            1
        );
        assert!(matches!(
            store.verify_audit().await.expect("verify"),
            ChainCheck::Intact { .. }
        ));
        let audit = store.audit_of(ava).await.expect("audit");
        let last = audit.last().expect("audited");
        assert_eq!(
            (last.0.as_str(), last.1.as_str()),
            ("person.erased", "cli:test")
        );
        assert_eq!(done.kept.len(), 1, "only the audit rows are kept: {done:?}");
        assert!(done.kept[0].1 > 0);
        assert!(done
            .removed
            .iter()
            .any(|(w, n)| w.starts_with("check-in answers") && *n >= 3));
        // Her account is unknown now; Ben's records and Kim's work for Ben carry on.
        let said = app
            .handle(&Inbound {
                pressed: None,
                platform: PLATFORM.into(),
                sender: "ava".into(),
                event_id: "after-erase".into(),
                text: "what do you know about me?".into(),
            })
            .await;
        assert_eq!(said, Handled::UnknownAccount);
        let out = app.say("ben", "I need help now").await;
        assert!(out.iter().any(|(to, _)| to == "kim"), "{out:?}");
    }

    pub async fn erasing_a_family_member_leaves_the_residents_own_records(app: TestApp) {
        ava_uses_carebot(&app).await;
        let (ava, sam) = (app.id("ava"), app.id("sam"));
        let answers_before = app
            .count(&format!(
                "SELECT COUNT(*) FROM answers WHERE person_id = {ava}"
            ))
            .await;
        admin::erase(
            &app.bot.store,
            "sam",
            Some("maria"),
            "cli:test",
            app.clock.now_ms(),
        )
        .await
        .expect_err("Maria is not Sam's manager: family have no manager");
        admin::erase(&app.bot.store, "sam", None, "cli:test", app.clock.now_ms())
            .await
            .expect("erase");
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM answers WHERE person_id = {ava}"
            ))
            .await,
            answers_before
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM consents WHERE family_id = {sam}"
            ))
            .await,
            0
        );
        let profile = app.bot.store.profile(ava).await.expect("profile");
        assert!(profile.family.is_empty());
        assert_eq!(
            app.count("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%Sam Thompson%'")
                .await,
            0
        );
    }

    /// Sam is called `name`; Ava is asked about sharing with him (the question names him),
    /// then he is erased. `naming` finds the messages that name him.
    async fn erase_sam_called(app: &TestApp, name: &str, naming: &str) {
        let sam = app.id("sam");
        app.raw_sql(&format!(
            "UPDATE people SET display_name = '{}' WHERE id = {sam}",
            name.replace('\'', "''")
        ))
        .await;
        share_mood_with_sam(app).await;
        let count = format!("SELECT COUNT(*) FROM outbox WHERE payload LIKE '{naming}'");
        assert!(app.count(&count).await > 0, "Ava was asked about {name}");
        admin::erase(&app.bot.store, "sam", None, "cli:test", app.clock.now_ms())
            .await
            .expect("erase");
        assert_eq!(app.count(&count).await, 0, "{name} is named nowhere");
    }

    pub async fn erasing_someone_whose_name_has_quotes_leaves_it_in_no_message(app: TestApp) {
        // Stored escaped in the messages' JSON: `Robert \"Rob\" Family`.
        erase_sam_called(&app, r#"Robert "Rob" Family"#, "%Robert%").await;
    }

    pub async fn erasing_someone_with_a_two_letter_name_leaves_it_in_no_message(app: TestApp) {
        erase_sam_called(&app, "Al", "%with Al?%").await;
    }

    pub async fn retention_deletes_old_message_bodies_events_and_timers_but_not_care_records(
        mut app: TestApp,
    ) {
        app.bot.schedule.retention_days = 30;
        for text in ["check in", "4", "done", "no", "yes"] {
            app.say("ava", text).await;
        }
        // An alert to Kim that cannot be delivered yet stays owed, however old.
        app.channel.down(
            "kim",
            DeliveryError::Retry {
                after: None,
                reason: "HTTP 503".into(),
            },
        );
        app.say("ava", "I need help now").await;
        let answers = app.count("SELECT COUNT(*) FROM answers").await;
        assert!(
            app.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
                .await
                > 0
        );
        let old = app.clock.now_ms();
        app.clock.advance(Duration::days(31));
        let report = app.bot.tick().await.expect("tick");
        assert!(report.retention_deleted > 0);
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM outbox WHERE status <> 'pending' AND created_ms <= {old}"
            ))
            .await,
            0
        );
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND created_ms <= {old}"
            ))
            .await
                >= 1,
            "the undelivered alert is kept"
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM inbound_events WHERE received_ms <= {old}"
            ))
            .await,
            0
        );
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM timers WHERE done_ms IS NOT NULL AND done_ms <= {old}"
            ))
            .await,
            0
        );
        assert_eq!(app.count("SELECT COUNT(*) FROM answers").await, answers);
        assert_eq!(app.count("SELECT COUNT(*) FROM alerts").await, 1);
        assert_eq!(
            app.bot.tick().await.expect("tick").retention_deleted,
            0,
            "at most hourly"
        );
    }
}
