//! Per-sender rate limiting: a flood of 1,000 messages from one account is cut off after the
//! burst, changes nothing, earns one kind note, does not hold up anyone else, and never stops
//! a call for help.

carebot_tests::for_each_backend!(
    a_flood_from_one_account_is_refused_told_once_and_changes_nothing,
    a_call_for_help_in_a_flood_still_reaches_the_keyworker,
);

mod suite {
    use carebot_core::runtime::{Handled, Inbound, RateLimit, RateLimiter};
    use carebot_tests::app::{TestApp, PLATFORM};
    use chrono::Duration;

    fn msg(who: &str, n: usize, text: &str) -> Inbound {
        Inbound {
            platform: PLATFORM.into(),
            sender: who.into(),
            event_id: format!("{who}-{n}"),
            text: text.into(),
        }
    }

    fn limited(app: &mut TestApp) {
        app.bot.limiter = RateLimiter::new(RateLimit {
            burst: 5,
            per_minute: 10,
        });
    }

    pub async fn a_flood_from_one_account_is_refused_told_once_and_changes_nothing(
        mut app: TestApp,
    ) {
        limited(&mut app);
        let events_before = app.count("SELECT COUNT(*) FROM inbound_events").await;
        let mut refused = 0;
        let mut ava_done = 0;
        for n in 0..1000 {
            // Ben's client is stuck, sending the same odd line; Ava talks now and then.
            match app
                .handle(&msg("ben", n, "weird text from a stuck client"))
                .await
            {
                Handled::RateLimited => refused += 1,
                other => assert_eq!(other, Handled::Done),
            }
            if n % 200 == 0 {
                app.clock.advance(Duration::seconds(1));
                let got = app.handle(&msg("ava", n, "help")).await;
                assert_eq!(got, Handled::Done, "Ava is never held up by Ben");
                ava_done += 1;
            }
        }
        assert_eq!(ava_done, 5);
        assert_eq!(
            refused,
            1000 - 5,
            "the burst is 5 and the clock barely moved"
        );
        let out = app.deliver().await;
        let to_ben: Vec<&str> = out
            .iter()
            .filter(|(to, _)| to == "ben")
            .map(|(_, t)| t.as_str())
            .collect();
        let notes = to_ben
            .iter()
            .filter(|t| t.contains("faster than I can read"))
            .count();
        assert_eq!(notes, 1, "told once: {to_ben:?}");
        assert_eq!(to_ben.len(), 5 + 1, "five replies and the note");
        assert_eq!(out.iter().filter(|(to, _)| to == "ava").count(), 5);
        // Refused messages changed nothing: five of Ben's turns, Ava's five, and the note's.
        let events = app.count("SELECT COUNT(*) FROM inbound_events").await;
        assert_eq!(events - events_before, 5 + 5 + 1);
        // A minute later Ben is heard again.
        app.clock.advance(Duration::minutes(1));
        assert_eq!(app.handle(&msg("ben", 5000, "help")).await, Handled::Done);
    }

    pub async fn a_call_for_help_in_a_flood_still_reaches_the_keyworker(mut app: TestApp) {
        limited(&mut app);
        for n in 0..50 {
            app.handle(&msg("ben", n, "aaaaaaa")).await;
        }
        app.deliver().await;
        let got = app.handle(&msg("ben", 50, "I need help now")).await;
        assert_eq!(got, Handled::Done);
        let out = app.deliver().await;
        assert!(
            out.iter()
                .any(|(to, t)| to == "kim" && t.contains("I need help now")),
            "{out:?}"
        );
    }
}
