//! The safeguarding ladder, rung by rung, on both backends: the keyworker at once; the manager
//! and the on-call contact when nobody acknowledges in time, or at once when the keyworker
//! cannot be reached; and the resident, with a phone number, when nobody can be reached.

carebot_tests::for_each_backend!(
    an_unacknowledged_alert_reaches_the_manager_and_the_on_call_contact,
    an_on_call_contact_who_is_the_residents_manager_is_told_once,
    a_keyworker_whose_channel_is_down_is_passed_over_at_once,
    when_every_channel_is_down_the_resident_is_told_once_with_a_phone_number,
    when_no_member_of_staff_has_an_account_the_resident_is_told_at_once,
    an_acknowledged_alert_climbs_no_further,
    a_corrupt_conversation_stops_neither_the_ladder_nor_anyone_elses_checkin,
);

mod suite {
    use carebot_runtime::DeliveryError;
    use carebot_tests::app::TestApp;
    use chrono::Duration;

    fn to<'a>(out: &'a [(String, String)], who: &str) -> Vec<&'a str> {
        out.iter()
            .filter(|(a, _)| a == who)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    fn retry() -> DeliveryError {
        DeliveryError::Retry {
            after: None,
            reason: "HTTP 503".into(),
        }
    }

    /// No scheduled check-in for Ava and no digest, so ticks send only what the ladder sends.
    async fn quiet(app: &mut TestApp) {
        app.bot.schedule.digest = false;
        app.bot
            .store
            .set_checkin_time(app.id("ava"), None)
            .await
            .expect("no check-in");
    }

    async fn audit_actions(app: &TestApp) -> Vec<(String, serde_json::Value)> {
        app.bot
            .store
            .audit_of(app.id("ava"))
            .await
            .expect("audit")
            .into_iter()
            .map(|(a, _, d)| (a, d))
            .collect()
    }

    pub async fn an_unacknowledged_alert_reaches_the_manager_and_the_on_call_contact(
        mut app: TestApp,
    ) {
        quiet(&mut app).await;
        // A concern that goes to the keyworker first (urgent ones tell the manager at once).
        app.bot.schedule.on_call = Some("zed".into());
        let out = app.say("ava", "my hip is killing me").await;
        assert_eq!(to(&out, "kim").len(), 1, "rung 1, the keyworker: {out:?}");
        assert!(to(&out, "maria").is_empty() && to(&out, "zed").is_empty());
        app.clock.advance(Duration::minutes(29));
        app.bot.tick().await.expect("tick");
        let early = app.deliver().await;
        assert!(early.is_empty(), "not before the time is up: {early:?}");
        app.clock.advance(Duration::minutes(2));
        app.bot.tick().await.expect("tick");
        let out = app.deliver().await;
        for who in ["maria", "zed"] {
            let got = to(&out, who);
            assert_eq!(got.len(), 1, "rung 2 reaches {who}: {out:?}");
            assert!(got[0].starts_with("Not yet acknowledged after 31 minutes"));
            assert!(got[0].contains("my hip is killing me"));
        }
        assert!(to(&out, "ava").is_empty(), "someone was reached: {out:?}");
        app.clock.advance(Duration::hours(2));
        app.bot.tick().await.expect("tick");
        assert!(app.deliver().await.is_empty(), "escalated once");
        let audit = audit_actions(&app).await;
        let esc = audit
            .iter()
            .find(|(a, _)| a == "alert.escalated")
            .expect("audited");
        assert_eq!(
            (esc.1["queued"].as_i64(), esc.1["on_call_queued"].as_i64()),
            (Some(1), Some(1))
        );
    }

    pub async fn an_on_call_contact_who_is_the_residents_manager_is_told_once(mut app: TestApp) {
        quiet(&mut app).await;
        app.bot.schedule.on_call = Some("maria".into());
        app.say("ava", "my hip is killing me").await;
        app.clock.advance(Duration::minutes(31));
        app.bot.tick().await.expect("tick");
        let out = app.deliver().await;
        assert_eq!(to(&out, "maria").len(), 1, "{out:?}");
    }

    pub async fn a_keyworker_whose_channel_is_down_is_passed_over_at_once(mut app: TestApp) {
        quiet(&mut app).await;
        app.bot.schedule.on_call = Some("zed".into());
        app.channel.down(
            "kim",
            DeliveryError::Permanent {
                reason: "HTTP 403".into(),
            },
        );
        let out = app.say("ava", "my hip is killing me").await;
        for who in ["maria", "zed"] {
            let got = to(&out, who);
            assert_eq!(got.len(), 1, "{who} is told without waiting: {out:?}");
            assert!(got[0].starts_with("Ava Thompson's keyworker could not be reached"));
        }
        let ava = to(&out, "ava");
        assert_eq!(ava.len(), 1, "only the usual reply: {out:?}");
        assert!(ava[0].contains("I've let Kim"));
    }

    pub async fn when_every_channel_is_down_the_resident_is_told_once_with_a_phone_number(
        mut app: TestApp,
    ) {
        quiet(&mut app).await;
        app.bot.schedule.on_call = Some("zed".into());
        app.policy.max_attempts = 3;
        for who in ["kim", "maria", "zed"] {
            app.channel.down(who, retry());
        }
        let mut to_ava = Vec::new();
        let out = app.say("ava", "I need help now").await;
        to_ava.extend(to(&out, "ava").into_iter().map(String::from));
        // Retries back off; after three attempts each message is dead-lettered.
        for _ in 0..20 {
            app.clock.advance(Duration::minutes(1));
            app.bot.tick().await.expect("tick");
            let out = app.deliver().await;
            assert!(out.iter().all(|(a, _)| a == "ava"), "{out:?}");
            to_ava.extend(to(&out, "ava").into_iter().map(String::from));
        }
        assert_eq!(to_ava.len(), 2, "{to_ava:?}");
        assert!(to_ava[1].contains("couldn't reach any of the staff"));
        assert!(to_ava[1].contains("01632 960000") && to_ava[1].contains("999"));
        let audit = audit_actions(&app).await;
        assert!(audit
            .iter()
            .any(|(a, d)| a == "alert.undeliverable" && d["resident_told"] == true));
        // Staff come back: the dead letters stay dead, and Ava is not told again.
        for who in ["kim", "maria", "zed"] {
            app.channel.up(who);
        }
        app.clock.advance(Duration::hours(1));
        app.bot.tick().await.expect("tick");
        assert!(app.deliver().await.is_empty());
    }

    pub async fn when_no_member_of_staff_has_an_account_the_resident_is_told_at_once(
        mut app: TestApp,
    ) {
        quiet(&mut app).await;
        app.bot.schedule.phone = Some("07700 900123".into());
        for who in ["kim", "maria"] {
            carebot_runtime::admin::unlink(&app.bot.store, who, "cli:test", 0)
                .await
                .expect("unlink");
        }
        let out = app.say("ava", "I need help now").await;
        let ava = to(&out, "ava");
        assert_eq!(out.len(), 2, "only Ava hears anything: {out:?}");
        assert!(ava[0].contains("straight away"));
        assert!(ava[1].contains("07700 900123"), "{ava:?}");
    }

    pub async fn an_acknowledged_alert_climbs_no_further(mut app: TestApp) {
        quiet(&mut app).await;
        app.bot.schedule.on_call = Some("zed".into());
        app.say("ava", "I need help now").await;
        app.say("kim", "ack").await;
        app.clock.advance(Duration::hours(1));
        app.bot.tick().await.expect("tick");
        assert!(app.deliver().await.is_empty());
        assert!(!audit_actions(&app)
            .await
            .iter()
            .any(|(a, _)| a == "alert.escalated" || a == "alert.undeliverable"));
    }

    /// One unreadable conversation (Ben's, with a check-in due) once made every tick fail
    /// before the escalation ladder ran. Now the tick reports Ben's failure and still climbs
    /// the ladder for Ava's alert and starts Ava's check-in.
    pub async fn a_corrupt_conversation_stops_neither_the_ladder_nor_anyone_elses_checkin(
        mut app: TestApp,
    ) {
        app.bot.schedule.digest = false;
        let ben = app.id("ben");
        app.bot
            .store
            .set_checkin_time(ben, Some("09:30"))
            .await
            .expect("ben's time");
        app.say("ben", "hello").await;
        app.raw_sql(&format!(
            "UPDATE conversations SET state = 'not json' WHERE person_id = {ben}"
        ))
        .await;
        let out = app.say("ava", "my hip is killing me").await;
        assert_eq!(to(&out, "kim").len(), 1, "the alert, to Kim: {out:?}");
        app.clock.advance(Duration::minutes(31));
        let report = app.bot.tick().await.expect("the tick itself finishes");
        assert_eq!(report.escalated, 1, "{report:?}");
        assert_eq!(report.started, 1, "Ava's check-in, not Ben's: {report:?}");
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert!(
            report.errors[0].contains(&format!("person {ben}")),
            "{report:?}"
        );
        assert!(!report.errors[0].contains("hip"), "no words in the report");
        let out = app.deliver().await;
        assert_eq!(to(&out, "maria").len(), 1, "the ladder climbed: {out:?}");
        assert!(
            to(&out, "ava")
                .iter()
                .any(|t| t.contains("How are you feeling today")),
            "Ava's check-in started: {out:?}"
        );
        assert!(to(&out, "ben").is_empty(), "{out:?}");
        // The next tick does the same for Ben (still unreadable) and nothing twice for Ava.
        app.clock.advance(Duration::minutes(1));
        let again = app.bot.tick().await.expect("tick");
        assert_eq!((again.started, again.escalated), (0, 0), "{again:?}");
    }
}
