//! The outbox and the scheduler: order, leases, dead letters, alerts, two instances.

use super::*;
use carebot_runtime::{dispatch_due, resume_deliveries, DeliveryError};
use carebot_tests::app::PLATFORM;
use chrono::Duration;

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

/// Claims what is due at `now` on the test platform, leased for a minute, as a deliverer does.
async fn claim_for_a_minute(app: &TestApp, now: i64) -> Vec<carebot_store::outbox::OutboxRow> {
    app.bot
        .store
        .claim_outbox(PLATFORM, None, now, now + 60_000, 10)
        .await
        .expect("claim")
}

pub async fn a_message_whose_deliverer_died_is_claimed_again_after_its_lease(app: TestApp) {
    app.handle(&inbound("ava", "e1", "help")).await;
    let now = app.clock.now_ms();
    let claimed = claim_for_a_minute(&app, now).await;
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
    // The dead deliverer's try counts: its outcome is unknown, so the adapter was told there
    // had been an attempt (and Matrix looks in the room before sending again).
    assert_eq!(app.channel.attempts_seen(), vec![1]);
}

/// A restart after a crash: on SQLite (one instance) the message the dead run was sending is
/// retried at once, as an attempt whose outcome is unknown; on PostgreSQL (maybe another live
/// instance's claim) it waits out the lease.
pub async fn a_claim_left_by_a_stopped_run_is_retried_at_start_on_a_single_instance(app: TestApp) {
    app.handle(&inbound("ava", "e1", "help")).await;
    let now = app.clock.now_ms();
    let claimed = claim_for_a_minute(&app, now).await;
    assert_eq!(claimed.len(), 1);
    // The deliverer dies here; a new run starts.
    let released = resume_deliveries(&app.bot, &app.channel)
        .await
        .expect("resume");
    dispatch_due(&app.bot, &app.channel, &app.policy)
        .await
        .expect("dispatch");
    let delivered = app.channel.take();
    if app.bot.store.single_instance() {
        assert_eq!(released, 1);
        assert_eq!(delivered.len(), 1, "retried at once, not after the lease");
        assert_eq!(
            delivered[0].2, claimed[0].key,
            "with the same idempotency key"
        );
        let attempts = app
            .count("SELECT COUNT(*) FROM outbox WHERE attempts = 2 AND status = 'sent'")
            .await;
        assert_eq!(attempts, 1, "the stopped run's try counts as an attempt");
    } else {
        assert_eq!(released, 0);
        assert!(delivered.is_empty(), "another instance may be sending it");
    }
}

/// Giving claims back touches only claims: not a message waiting out a retry's backoff, and
/// not another address's message.
pub async fn giving_back_claims_leaves_backoffs_and_other_addresses_alone(app: TestApp) {
    app.handle(&inbound("ava", "e1", "help")).await;
    app.handle(&inbound("ben", "e2", "help")).await;
    let now = app.clock.now_ms();
    let store = &app.bot.store;
    let claimed = claim_for_a_minute(&app, now).await;
    assert_eq!(claimed.len(), 2);
    let (ava, ben) = if claimed[0].address == "ava" {
        (&claimed[0], &claimed[1])
    } else {
        (&claimed[1], &claimed[0])
    };
    store
        .outbox_failed(ben.id, Some(now + 30_000), "the platform was down")
        .await
        .expect("failed");
    assert_eq!(
        store
            .release_claims(PLATFORM, Some("someone-else"), now)
            .await
            .expect("release"),
        0
    );
    assert_eq!(
        store
            .release_claims(PLATFORM, None, now)
            .await
            .expect("release"),
        1
    );
    let again = claim_for_a_minute(&app, now).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].id, ava.id, "ben's backoff still runs");
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
        counts
            .iter()
            .any(|c| c.status == carebot_store::outbox::OutboxStatus::Dead && c.count == 1),
        "{counts:?}"
    );
}

pub async fn alerts_reach_only_the_residents_own_keyworkers(app: TestApp) {
    let out = app.say("ava", "I need help now").await;
    let recipients: Vec<&str> = out.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(
        recipients,
        ["kim", "maria", "ava"],
        "urgent: her keyworker and the manager at once; not sam (family) or zed (not her keyworker)"
    );
    // Telling Kim and Maria is a disclosure of Ava's words: audited, naming who was told and
    // why, and holding no words.
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    let sent: Vec<_> = audit.iter().filter(|(a, _, _)| a == "alert.sent").collect();
    assert_eq!(sent.len(), 1, "{audit:?}");
    let detail = &sent[0].2;
    assert_eq!(
        detail["to"],
        serde_json::json!([app.id("kim").0, app.id("maria").0])
    );
    assert_eq!(detail["target"], "keyworker");
    assert_eq!(detail["manager_too"], true);
    assert_eq!(detail["reason"], "urgent: may mean a call for help");
    assert!(!detail.to_string().contains("help now"), "{detail}");
    assert_eq!(
        app.bot.store.verify_audit().await.expect("verify"),
        carebot_store::audit::ChainCheck::Intact {
            rows: audit_rows(&app).await
        }
    );
}

/// Closing the loop: when staff acknowledge, a resident who told us something hears who has
/// seen it, once however many of their alerts the acknowledgement covers; an alert with no
/// words of theirs (a missed check-in) tells nobody; each acknowledgement is audited.
pub async fn an_acknowledged_alert_tells_the_resident_who_saw_it_once(app: TestApp) {
    app.say("ava", "I want to make a complaint").await;
    app.say("ava", "I need help now").await;
    app.raw_sql(&format!(
        "INSERT INTO alerts (person_id, target, reason, words, created_ms) VALUES ({}, 'keyworker', 'has missed 3 check-ins in a row', NULL, {})",
        app.id("ben").0,
        app.clock.now_ms()
    ))
    .await;
    let out = app.say("kim", "ack").await;
    assert_eq!(
        out,
        [
            (
                "kim".to_string(),
                "Thank you. I've noted that you've seen it.".to_string()
            ),
            (
                "ava".to_string(),
                "Kim Patel has seen your message and will talk with you about it.".to_string()
            ),
        ],
        "Ava once for both of her alerts; Ben said nothing, so is told nothing"
    );
    let told = |who: &str| {
        let who = app.id(who);
        let app = &app;
        async move {
            let audit = app.bot.store.audit_of(who).await.expect("audit");
            audit
                .into_iter()
                .filter(|(a, _, _)| a == "alert.acknowledged")
                .map(|(_, _, d)| {
                    (
                        d["alerts"].as_array().map_or(0, Vec::len),
                        d["resident_told"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(told("ava").await, [(2, serde_json::json!(true))]);
    assert_eq!(told("ben").await, [(1, serde_json::json!(false))]);
    // Nothing left to acknowledge: nothing recorded, nobody told again.
    let again = app.say("maria", "ack").await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].0, "maria");
    assert_eq!(
        app.bot.store.verify_audit().await.expect("verify"),
        carebot_store::audit::ChainCheck::Intact {
            rows: audit_rows(&app).await
        }
    );
}

/// Who may be reached is one query (`reachable_staff!`) for alerts, the ladder and review
/// reminders. Erasure deletes a person's relations and accounts; should a row survive (a
/// restore from an old backup, a hand edit), a person marked erased is still never reached.
pub async fn a_person_marked_erased_is_never_reached_even_with_rows_left_behind(app: TestApp) {
    app.raw_sql(&format!(
        "UPDATE people SET erased_ms = 1 WHERE id = {}",
        app.id("maria").0
    ))
    .await;
    let out = app.say("ava", "I need help now").await;
    let recipients: Vec<&str> = out.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(recipients, ["kim", "ava"], "not maria, marked erased");
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    let sent: Vec<_> = audit.iter().filter(|(a, _, _)| a == "alert.sent").collect();
    assert_eq!(sent.len(), 1, "{audit:?}");
    assert_eq!(sent[0].2["to"], serde_json::json!([app.id("kim").0]));
}

/// How many rows the whole audit log has.
async fn audit_rows(app: &TestApp) -> usize {
    app.count("SELECT COUNT(*) FROM audit_log").await as usize
}

pub async fn two_instances_ticking_at_once_start_each_checkin_once(app: TestApp) {
    // Enough residents for several batches, which PostgreSQL runs several at a time.
    app.add_residents(1000).await;
    app.clock.advance(Duration::minutes(30)); // 09:30: Ava's time too.
    let other = app.restart(None).await;
    let (a, b) = tokio::join!(app.bot.tick(), other.tick());
    let started = a.expect("tick").started + b.expect("tick").started;
    assert_eq!(
        started, 1001,
        "1,000 residents at 09:00 and Ava at 09:30, each once"
    );
    let counts = app.bot.store.outbox_counts().await.expect("counts");
    // 1,001 prompts, plus Kim's 08:00 digest: both instances ran the morning jobs, once.
    assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 1002);
}

/// `carebot status` and the metrics endpoint read this: every count an operator is promised,
/// each from a known state (waiting, sent, dead letters, last delivery, unacknowledged alerts,
/// overdue reviews, the scheduler's last run).
pub async fn the_status_counts_what_an_operator_needs(app: TestApp) {
    let store = &app.bot.store;
    let today = "2026-11-23";
    let empty = store.status(today).await.expect("status");
    assert_eq!(empty, carebot_store::status::Status::default());

    app.say("ava", "help").await; // delivered at once
    let delivered_at = app.clock.now_ms();
    app.clock.advance(Duration::minutes(1));
    app.handle(&inbound("ben", "b1", "help")).await;
    app.channel.fail_next(
        1,
        DeliveryError::Permanent {
            reason: "HTTP 403".into(),
        },
    );
    dispatch_due(&app.bot, &app.channel, &app.policy)
        .await
        .expect("dispatch");
    // Not delivered yet: the urgent alert to Kim and to Maria (the manager), and the reply.
    app.handle(&inbound("ava", "a9", "I need help now")).await;
    store
        .set_review(app.id("ava"), 28, "2026-11-01")
        .await
        .expect("review");
    store
        .set_review(app.id("ben"), 28, "2027-01-01")
        .await
        .expect("review");

    let status = store.status(today).await.expect("status");
    assert_eq!(
        status.channels,
        [(PLATFORM.to_string(), 3, 1, 1, 0, Some(delivered_at))],
        "(platform, waiting, sent, dead, withdrawn, last delivered)"
    );
    assert_eq!(status.unacknowledged_alerts, 1);
    assert_eq!(status.overdue_reviews, 1, "Ava's, not Ben's");
    assert_eq!(status.last_tick_ms, None);
    app.bot.tick().await.expect("tick");
    let status = store.status(today).await.expect("status");
    assert_eq!(status.last_tick_ms, Some(app.clock.now_ms()));
}

/// A request comes back: staff close it with what was done, the resident is told in their
/// words, once, and can read it back; only their own staff can close it, only once; closing
/// is audited without the words; a request still open at its reply date comes back to staff
/// once, and erasing the resident takes the outcome and the reminders with it.
pub async fn a_request_is_closed_with_staff_words_and_comes_back_once_when_overdue(app: TestApp) {
    app.say("ava", "I want to make a complaint about the food")
        .await;
    app.say("ava", "I want an advocate").await;
    let numbers = |who: &'static str| {
        let app = &app;
        async move {
            let sql = format!(
                "SELECT COUNT(*) FROM alerts WHERE person_id = {} AND request IS NOT NULL AND closed_ms IS NULL",
                app.id(who).0
            );
            app.count(&sql).await
        }
    };
    assert_eq!(numbers("ava").await, 2);
    // Not Ava's staff (Ben's resident has no request 1): nothing closes.
    let ben = app.say("ben", "close 1 done").await;
    assert!(!ben.iter().any(|(to, _)| to == "ava"), "{ben:?}");
    let words = "Spoke to the cook; a second choice at lunch from Monday.";
    let out = app.say("maria", &format!("close 1 {words}")).await;
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[1].0, "ava");
    assert!(
        out[1].1.contains(words),
        "Ava is told in Maria's words: {out:?}"
    );
    assert!(out[1]
        .1
        .starts_with("Maria Lopez has replied to your complaint"));
    let again = app.say("maria", &format!("close 1 {words}")).await;
    assert_eq!(again.len(), 1, "closed once: {again:?}");
    assert_eq!(numbers("ava").await, 1);
    let audit = app.bot.store.audit_of(app.id("ava")).await.expect("audit");
    let closed: Vec<_> = audit
        .iter()
        .filter(|(a, _, _)| a == "request.closed")
        .collect();
    assert_eq!(closed.len(), 1, "{audit:?}");
    assert_eq!(closed[0].2["resident_told"], true);
    assert!(
        !closed[0].2.to_string().contains("cook"),
        "no words in the audit"
    );
    // Ava reads both back, newest first.
    let mine = app.say("ava", "what have I asked for").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let list = &mine[0].1;
    let (advocate, complaint) = (
        list.find("Your request for an advocate")
            .expect("advocate listed"),
        list.find("Your complaint").expect("complaint listed"),
    );
    assert!(advocate < complaint, "{list}");
    assert!(
        list.contains("waiting to be seen") && list.contains(words),
        "{list}"
    );
    // The advocate request (a week to reply) is still open a week later: Kim and Maria hear,
    // once.
    app.clock.advance(Duration::days(7));
    app.bot.tick().await.expect("tick");
    let due = app.deliver().await;
    let mut reminded: Vec<&str> = due
        .iter()
        .filter(|(_, t)| t.contains("is still open after 7 days"))
        .map(|(to, _)| to.as_str())
        .collect();
    reminded.sort_unstable();
    assert_eq!(reminded, ["kim", "maria"], "{due:?}");
    app.clock.advance(Duration::days(1));
    app.bot.tick().await.expect("tick");
    let later = app.deliver().await;
    assert!(
        !later.iter().any(|(_, t)| t.contains("still open")),
        "once: {later:?}"
    );
    // Erasing Ava takes her requests, staff's words about them and the reminders.
    app.bot
        .store
        .erase_person(app.id("ava"), "test", app.clock.now_ms())
        .await
        .expect("erase");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM alerts WHERE outcome IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE idem_key LIKE 'due.%' OR idem_key LIKE 'request-closed.%'").await,
        0
    );
}

/// "requests" and "reviews due" for staff: the profile the engine answers from holds the open
/// requests and review dates of the residents this member of staff looks after, and nobody
/// else's; a closed request leaves the list; an erased resident's review is not listed.
pub async fn staff_see_only_their_own_residents_open_requests_and_reviews(app: TestApp) {
    app.say("ava", "I want to make a complaint about the food")
        .await;
    app.say("ava", "I want an advocate").await;
    for (who, due) in [("ava", "2026-12-01"), ("ben", "2026-11-30")] {
        app.raw_sql(&format!(
            "INSERT INTO reviews (person_id, interval_days, next_due) VALUES ({}, 180, '{due}')",
            app.id(who).0
        ))
        .await;
    }
    let store = &app.bot.store;
    let kim = store.profile(app.id("kim")).await.expect("kim");
    let kinds: Vec<(i64, &str, carebot_engine::ids::PersonId)> = kim
        .open_requests
        .iter()
        .map(|r| (r.number, r.kind.as_str(), r.resident))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, "complaint", app.id("ava")),
            (2, "advocate", app.id("ava"))
        ]
    );
    assert_eq!(kim.open_requests[1].reason, "would like an advocate");
    assert_eq!(
        kim.reviews_due,
        [
            (app.id("ben"), "2026-11-30".to_string()),
            (app.id("ava"), "2026-12-01".to_string())
        ],
        "soonest first"
    );
    let zed = store.profile(app.id("zed")).await.expect("zed");
    assert!(
        zed.open_requests.is_empty() && zed.reviews_due.is_empty(),
        "{zed:?}"
    );
    let ava = store.profile(app.id("ava")).await.expect("ava");
    assert!(
        ava.open_requests.is_empty() && ava.reviews_due.is_empty(),
        "a resident holds no staff lists"
    );

    app.say("maria", "close 1 Spoke to the cook.").await;
    app.raw_sql(&format!(
        "UPDATE people SET erased_ms = {} WHERE id = {}",
        app.clock.now_ms(),
        app.id("ben").0
    ))
    .await;
    let kim = store.profile(app.id("kim")).await.expect("kim");
    let open: Vec<i64> = kim.open_requests.iter().map(|r| r.number).collect();
    assert_eq!(open, [2]);
    assert_eq!(kim.reviews_due, [(app.id("ava"), "2026-12-01".to_string())]);
}
