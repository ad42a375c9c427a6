//! Per-sender rate limiting: a flood of 1,000 messages from one account is cut off after the
//! burst, changes nothing, earns one kind note, does not hold up anyone else, and never stops
//! a call for help.

carebot_tests::for_each_backend!(
    a_flood_from_one_account_is_refused_told_once_and_changes_nothing,
    a_call_for_help_in_a_flood_still_reaches_the_keyworker,
    a_flood_in_flight_beside_a_checkin_takes_none_of_its_turns,
);

mod suite {
    use carebot_runtime::{Handled, Inbound, RateLimit, RateLimiter};
    use carebot_tests::app::{TestApp, PLATFORM};
    use chrono::Duration;

    fn msg(who: &str, n: usize, text: &str) -> Inbound {
        Inbound {
            pressed: None,
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

    /// The flood and Ava's check-in are in flight at the same moment (1,000 of Ben's
    /// messages, 50 at a time, while Ava answers each question): Ava is never refused, her
    /// every answer is stored, and the store sees no more of Ben than his burst, so his flood
    /// never queues ahead of her at the writer. (Refusal comes before the store is touched;
    /// speed itself is the benchmark's to measure, not a test's.)
    pub async fn a_flood_in_flight_beside_a_checkin_takes_none_of_its_turns(mut app: TestApp) {
        // A burst of 8: enough for Ava's whole check-in (six messages) on a clock that
        // stands still, so anything refused to her would be the flood's doing.
        app.bot.limiter = RateLimiter::new(RateLimit {
            burst: 8,
            per_minute: 10,
        });
        let app = &app;
        let flood = async {
            let mut refused = 0;
            for chunk in (0..1000).collect::<Vec<usize>>().chunks(50) {
                let msgs: Vec<Inbound> = chunk
                    .iter()
                    .map(|&n| msg("ben", n, "weird text from a stuck client"))
                    .collect();
                let turns = msgs.iter().map(|m| app.handle(m));
                for got in futures::future::join_all(turns).await {
                    if got == Handled::RateLimited {
                        refused += 1;
                    }
                }
            }
            refused
        };
        let checkin = async {
            let mut handled = Vec::new();
            for (n, text) in ["check in", "4", "walked there", "rang her", "no", "yes"]
                .iter()
                .enumerate()
            {
                handled.push(app.handle(&msg("ava", n, text)).await);
                tokio::task::yield_now().await;
            }
            handled
        };
        let (refused, handled) = tokio::join!(flood, checkin);
        assert!(
            handled.iter().all(|h| *h == Handled::Done),
            "Ava is never refused: {handled:?}"
        );
        assert_eq!(refused, 1000 - 8, "only Ben's burst got through");
        let answers = app
            .bot
            .store
            .answers_of(app.id("ava"))
            .await
            .expect("answers");
        for said in ["walked there", "rang her"] {
            assert_eq!(
                answers.iter().filter(|a| a.raw == said).count(),
                1,
                "{said}"
            );
        }
        let bens = app
            .count("SELECT COUNT(*) FROM inbound_events WHERE event_id LIKE 'ben-%'")
            .await;
        assert_eq!(
            bens,
            8 + 1,
            "the store saw only Ben's burst and the note to slow down"
        );
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
