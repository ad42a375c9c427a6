//! Consent, disclosure and audit: what family and staff may be told, and the record of it.

use super::*;
use carebot_runtime::dispatch_due;
use carebot_tests::app::PLATFORM;

pub async fn the_audit_chain_shows_a_changed_row(app: TestApp) {
    use carebot_store::audit::{AuditEntry, ChainCheck};
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
    let tamper =
        "UPDATE audit_log SET detail = '{\"n\":99}' WHERE id = (SELECT MIN(id) + 1 FROM audit_log)";
    // The database refuses changes and deletions outright...
    for sql in [tamper, "DELETE FROM audit_log"] {
        let refused = app
            .try_sql(sql)
            .await
            .expect_err("the audit log is append-only");
        assert!(refused.contains("append-only"), "{refused}");
    }
    // ...and someone who removes that guard (full access to the database) is caught by the chain.
    if app.db.url.starts_with("sqlite:") {
        app.raw_sql("DROP TRIGGER audit_log_no_update").await;
    } else {
        app.raw_sql("DROP TRIGGER audit_log_no_change ON audit_log")
            .await;
    }
    app.raw_sql(tamper).await;
    match app.bot.store.verify_audit().await.expect("verify") {
        ChainCheck::Broken { .. } => {}
        other => panic!("tampering went unnoticed: {other:?}"),
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
            .any(|c| c.status == carebot_store::outbox::OutboxStatus::Withdrawn && c.count == 1),
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
    assert!(carebot_engine::chart::png(chart).is_ok());
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
    assert_eq!(
        data["alerts_about_them"][0]["reason"],
        "pain or feeling unwell: may mean pain"
    );
    assert_eq!(data["answers"].as_array().map(Vec::len), Some(2));
    assert_eq!(data["goals"][0]["state"], "active");
    assert_eq!(data["goals"][0]["cadence"], "daily");
    assert!(data["chat_accounts"][0]["address"] == "ava");
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    assert!(audit.iter().any(|(a, _, _)| a == "person.exported"));
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
    assert!(carebot_engine::chart::png(chart).is_ok());
}

pub async fn ask_me_later_is_asked_again_once_after_its_interval(app: TestApp) {
    // Ava puts off every choice about Sam (09:00, Monday 23 November).
    for text in ["privacy", "yes", "later", "later", "later"] {
        app.say("ava", text).await;
    }
    let at = |d: u32, h: u32| {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, d, h, 0, 0)
            .single()
            .expect("a time")
    };
    // Thirteen days on, or at night once due: not asked.
    app.clock.set(at(6, 16));
    assert_eq!(app.bot.tick().await.expect("tick").asked_again, 0);
    app.clock.set(at(8, 2));
    assert_eq!(app.bot.tick().await.expect("tick").asked_again, 0);
    assert!(app.deliver().await.is_empty());
    // Due, in the afternoon: asked once, on her account, only about what she put off.
    app.clock.set(at(8, 16));
    let report = app.bot.tick().await.expect("tick");
    assert_eq!((report.asked_again, report.errors.len()), (1, 0));
    let sent = app.deliver().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "ava");
    assert!(sent[0].1.contains("ask you later"), "{sent:?}");
    app.clock.set(at(8, 17));
    assert_eq!(app.bot.tick().await.expect("tick").asked_again, 0);
    // She declines: the same decisions are never asked about again.
    let reply = app.say("ava", "no").await;
    assert!(reply[0].1.contains("won't ask you"), "{reply:?}");
    app.clock.set(at(28, 16));
    assert_eq!(app.bot.tick().await.expect("tick").asked_again, 0);
    assert!(app.deliver().await.is_empty());
    let asked = app
        .count(
            "SELECT COUNT(*) FROM consents WHERE decision = 'later' AND asked_again_ms IS NOT NULL",
        )
        .await;
    assert_eq!(asked, 3);
}

/// "how is Ava" from staff: a summary of the last week goes to her own keyworker only, marked
/// as health information and about her, and is audited as a disclosure to that member of
/// staff, holding no words; staff who do not look after her (Zed, or Kim once the relation is
/// revoked) hear nothing about her, and nothing is audited.
pub async fn a_staff_summary_reaches_only_her_own_staff_and_is_audited(app: TestApp) {
    app.say("ava", "check in").await;
    for answer in ["4", "made it to the bench", "not yet", "no", "yes"] {
        app.say("ava", answer).await;
    }
    let out = app.say("kim", "how is Ava?").await;
    assert_eq!(out.len(), 1, "{out:?}");
    let (to, text) = &out[0];
    assert_eq!(to, "kim");
    assert!(
        text.contains("Ava Thompson, the last 7 days: 1 check-in done"),
        "{text}"
    );
    assert!(text.contains("made it to the bench"), "{text}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE person_id = {} AND about_id = {} AND sensitive",
            app.id("kim").0,
            app.id("ava").0
        ))
        .await,
        1,
        "health information, about Ava"
    );
    let summaries = |audit: Vec<(String, String, serde_json::Value)>| -> Vec<serde_json::Value> {
        audit
            .into_iter()
            .filter(|(a, _, _)| a == "summary.queued")
            .map(|(_, _, d)| d)
            .collect()
    };
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    let shown = summaries(audit);
    assert_eq!(
        shown,
        [serde_json::json!({ "to": app.id("kim").0, "days": 7 })]
    );

    let out = app.say("zed", "how is Ava").await;
    assert_eq!(out.len(), 1);
    assert!(!out[0].1.contains("Ava"), "{out:?}");

    app.raw_sql(&format!(
        "UPDATE relations SET revoked_ms = {} WHERE person_id = {} AND resident_id = {}",
        app.clock.now_ms(),
        app.id("kim").0,
        app.id("ava").0
    ))
    .await;
    let out = app.say("kim", "how is Ava?").await;
    assert_eq!(out.len(), 1);
    assert!(
        !out[0].1.contains("check-in") && !out[0].1.contains("Ava"),
        "not Ava's, and not Ben's in its place: {out:?}"
    );
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    assert_eq!(summaries(audit).len(), 1, "no further disclosure");
}

/// Each list staff are shown about their residents ("requests", "reviews due", "who hasn't
/// checked in") is audited once per resident it covers, naming the member of staff and the
/// list and holding no words; a member of staff with no residents reads nothing, and nothing
/// is audited.
pub async fn each_staff_list_read_is_audited_per_resident(app: TestApp) {
    app.say("ava", "I want to make a complaint about the food")
        .await;
    for (who, due) in [("ava", "2026-12-01"), ("ben", "2026-11-30")] {
        app.raw_sql(&format!(
            "INSERT INTO reviews (person_id, interval_days, next_due) VALUES ({}, 180, '{due}')",
            app.id(who).0
        ))
        .await;
    }
    let reads = |who: &'static str| {
        let app = &app;
        async move {
            let audit = app.bot.store.audit_of(app.id(who)).await.expect("audit");
            audit
                .into_iter()
                .filter(|(a, _, _)| a == "staff.read")
                .map(|(_, actor, d)| (actor, d["list"].as_str().unwrap_or("").to_string()))
                .collect::<Vec<_>>()
        }
    };
    for line in [
        "requests",
        "open requests",
        "reviews due",
        "who has not checked in",
    ] {
        app.say("zed", line).await;
    }
    assert!(reads("ava").await.is_empty() && reads("ben").await.is_empty());

    app.say("kim", "requests").await;
    app.say("kim", "reviews due").await;
    app.say("kim", "who hasn't checked in?").await;
    let kim = format!("person:{}", app.id("kim"));
    let row = |list: &str| (kim.clone(), list.to_string());
    assert_eq!(
        reads("ava").await,
        [row("requests"), row("reviews"), row("not_checked_in")],
        "Ava: her complaint, her review, her check-in"
    );
    assert_eq!(
        reads("ben").await,
        [row("reviews")],
        "Ben: no requests and no daily check-in, so only his review"
    );
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    assert!(
        !audit.iter().any(|(_, _, d)| d.to_string().contains("food")),
        "no words in the audit: {audit:?}"
    );
}

/// A family member's message reaches their resident at once, in their words, and her answer
/// reaches him; each is audited with no words. Nothing passes between people with no family
/// relation, or once the relation is revoked.
pub async fn messages_pass_between_a_resident_and_her_family_only(app: TestApp) {
    app.say("sam", "a message for Ava").await;
    let out = app.say("sam", "See you Sunday").await;
    assert!(
        out.iter()
            .any(|(to, t)| to == "ava" && t.contains("\"See you Sunday\"")),
        "{out:?}"
    );
    app.say("ava", "reply").await;
    let out = app.say("ava", "Lovely").await;
    assert!(
        out.iter()
            .any(|(to, t)| to == "sam" && t.contains("\"Lovely\"")),
        "{out:?}"
    );
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    let passed: Vec<_> = audit
        .iter()
        .filter(|(a, _, _)| a == "message.passed_on")
        .map(|(_, actor, d)| (actor.clone(), d["to"].clone(), d["delivered"].clone()))
        .collect();
    let (sam, ava) = (app.id("sam"), app.id("ava"));
    assert_eq!(
        passed,
        [
            (
                format!("person:{sam}"),
                serde_json::json!(ava.0),
                serde_json::json!(true)
            ),
            (
                format!("person:{ava}"),
                serde_json::json!(sam.0),
                serde_json::json!(true)
            ),
        ]
    );
    assert!(!audit
        .iter()
        .any(|(_, _, d)| d.to_string().contains("Sunday")));

    app.raw_sql(&format!(
        "UPDATE relations SET revoked_ms = {} WHERE person_id = {} AND resident_id = {}",
        app.clock.now_ms(),
        sam.0,
        ava.0
    ))
    .await;
    let out = app.say("sam", "a message for Ava").await;
    assert!(out.iter().all(|(to, _)| to == "sam"), "{out:?}");
    assert!(!out.iter().any(|(_, t)| t.contains("tell Ava")), "{out:?}");
}
