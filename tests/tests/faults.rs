//! Delivery faults, on both backends: a platform that fails for a while (5xx, timeouts, 429
//! with Retry-After, one account's server down for ten minutes) and then recovers. Every
//! queued message is delivered exactly once, in order per person, and a 429's wait is
//! honoured. (`store_suite::delivery_is_in_order_per_recipient_across_retries` covers a single
//! failure; this is the long outage with every kind of failure at once.)

carebot_tests::for_each_backend!(
    an_outage_of_every_kind_ends_with_each_message_delivered_once_in_order,
    a_429_retry_after_is_honoured,
);

mod suite {
    use carebot_runtime::{dispatch_due, DeliveryError, Inbound};
    use carebot_tests::app::TestApp;
    use carebot_tests::app::PLATFORM;
    use chrono::Duration;
    use std::collections::{HashMap, HashSet};

    fn retry(reason: &str, after: Option<u64>) -> DeliveryError {
        DeliveryError::Retry {
            after: after.map(std::time::Duration::from_secs),
            reason: reason.into(),
        }
    }

    /// `(turn, n)` from a reply key `person.turn.n`: the order the bot said things in.
    fn order(key: &str) -> (i64, i64) {
        let parts: Vec<i64> = key.split('.').filter_map(|p| p.parse().ok()).collect();
        (parts[1], parts[2])
    }

    pub async fn an_outage_of_every_kind_ends_with_each_message_delivered_once_in_order(
        app: TestApp,
    ) {
        app.bot
            .store
            .set_checkin_time(app.id("ava"), None)
            .await
            .expect("quiet");
        // The platform is failing before anyone speaks: everything queues.
        app.channel.fail_next(6, retry("HTTP 503", None));
        app.channel
            .fail_next(6, retry("timed out after 30 s", None));
        app.channel.fail_next(6, retry("HTTP 429", Some(20)));
        app.channel
            .down("ben", retry("HTTP 502 from ben's server", None));
        let script: &[(&str, &str)] = &[
            ("ava", "check in"),
            ("ben", "check in"),
            ("ava", "4"),
            ("sam", "rights"),
            ("ben", "2"),
            ("ava", "help"),
            ("ben", "no"),
            ("ava", "yes"),
            ("sam", "help"),
            ("ben", "yes"),
            ("ava", "walked a bit"),
        ];
        // Delivered (address, key), keeping the keys `TestApp::deliver` drops.
        let mut delivered = Vec::new();
        let dispatch = || async {
            dispatch_due(&app.bot, &app.channel, &app.policy)
                .await
                .expect("dispatch");
            app.channel.take()
        };
        for (n, (who, text)) in script.iter().enumerate() {
            app.handle(&Inbound {
                pressed: None,
                platform: PLATFORM.into(),
                sender: (*who).into(),
                event_id: format!("e{n}"),
                text: (*text).into(),
            })
            .await;
            delivered.extend(dispatch().await);
            app.clock.advance(Duration::seconds(5));
        }
        for minute in 0..40 {
            if minute == 10 {
                app.channel.up("ben");
            }
            app.clock.advance(Duration::minutes(1));
            delivered.extend(dispatch().await);
        }
        let queued = app.count("SELECT COUNT(*) FROM outbox").await;
        assert_eq!(
            app.count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
                .await,
            queued,
            "everything was delivered in the end"
        );
        assert_eq!(delivered.len() as i64, queued, "each message once");
        assert!(
            app.count("SELECT COUNT(*) FROM outbox WHERE attempts > 2")
                .await
                >= 3,
            "the outage really made messages wait and retry"
        );
        let keys: HashSet<&str> = delivered.iter().map(|(_, _, k)| k.as_str()).collect();
        assert_eq!(keys.len(), delivered.len(), "no key delivered twice");
        let mut last: HashMap<&str, (i64, i64)> = HashMap::new();
        for (to, _, key) in &delivered {
            let at = order(key);
            if let Some(before) = last.insert(to.as_str(), at) {
                assert!(before < at, "{to}: {key} came after {before:?}");
            }
        }
        for who in ["ava", "ben", "sam"] {
            assert!(last.contains_key(who), "{who} heard back");
        }
    }

    pub async fn a_429_retry_after_is_honoured(app: TestApp) {
        app.channel.fail_next(1, retry("HTTP 429", Some(120)));
        assert!(app.say("ava", "help").await.is_empty());
        app.clock.advance(Duration::seconds(60));
        assert!(app.deliver().await.is_empty(), "not before Retry-After");
        app.clock.advance(Duration::seconds(61));
        let out = app.deliver().await;
        assert_eq!(out.len(), 1);
        assert!(out[0].1.starts_with("Here's what you can say"));
    }
}
