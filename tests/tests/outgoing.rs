//! The one outgoing policy, on both backends. A channel says what its platform can read
//! (`Channel::carries`, which has no default); the runtime decides from that what may go
//! (`carebot_runtime::outgoing`, applied by `dispatch_due` to every row). The channel here
//! is a new one with no check of its own, as a careless adapter would be: health text still
//! never reaches a platform that can read it unless the home opted in.

carebot_tests::for_each_backend!(
    a_new_channel_without_checks_never_carries_health_text_to_a_readable_platform,
    a_home_that_opted_in_gets_health_text_on_that_platform,
);

mod suite {
    use carebot_engine::engine::OutMessage;
    use carebot_runtime::{dispatch_due, Carries, Channel, DeliveryError, Inbound, Withheld};
    use carebot_store::outbox::OutboxRow;
    use carebot_tests::app::{TestApp, PLATFORM};
    use std::sync::Mutex;

    /// A platform that can read everything, delivering whatever it is handed.
    struct Careless {
        opted_in: bool,
        delivered: Mutex<Vec<(String, OutMessage)>>,
    }

    impl Channel for Careless {
        fn platform(&self) -> &str {
            PLATFORM
        }

        fn carries(&self) -> Carries {
            Carries::Readable {
                platform: "Example Chat",
                home_opted_in: self.opted_in,
            }
        }

        async fn deliver(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
            self.delivered
                .lock()
                .expect("lock")
                .push((row.address.clone(), row.message.clone()));
            Ok(())
        }
    }

    /// Ava says she needs help now (an alert to Kim and Maria quoting her, which is health
    /// text); returns what `channel` was handed, by address.
    async fn alert_through(app: &TestApp, channel: &Careless) -> Vec<(String, OutMessage)> {
        app.handle(&Inbound {
            pressed: None,
            platform: PLATFORM.into(),
            sender: "ava".into(),
            event_id: "outgoing-1".into(),
            text: "I need help now, I have fallen".into(),
        })
        .await;
        dispatch_due(&app.bot, channel, &app.policy)
            .await
            .expect("dispatch");
        std::mem::take(&mut *channel.delivered.lock().expect("lock"))
    }

    pub async fn a_new_channel_without_checks_never_carries_health_text_to_a_readable_platform(
        app: TestApp,
    ) {
        let channel = Careless {
            opted_in: false,
            delivered: Mutex::new(Vec::new()),
        };
        let delivered = alert_through(&app, &channel).await;
        let notice = app.bot.withheld_notice(Withheld::Platform("Example Chat"));
        let to_kim: Vec<_> = delivered.iter().filter(|(to, _)| to == "kim").collect();
        assert_eq!(to_kim.len(), 1, "{delivered:?}");
        assert_eq!(to_kim[0].1.text, notice, "the notice, not the alert");
        assert!(!to_kim[0].1.sensitive);
        for (to, m) in &delivered {
            assert!(
                !m.text.contains("fallen"),
                "Ava's words went to {to}: {m:?}"
            );
            assert!(!m.sensitive, "health text went to {to}: {m:?}");
        }
        // What is not health text goes as it is: Ava is told who is coming.
        let to_ava: Vec<_> = delivered.iter().filter(|(to, _)| to == "ava").collect();
        assert!(!to_ava.is_empty(), "{delivered:?}");
        assert!(to_ava.iter().all(|(_, m)| m.text != notice), "{to_ava:?}");
    }

    pub async fn a_home_that_opted_in_gets_health_text_on_that_platform(app: TestApp) {
        let channel = Careless {
            opted_in: true,
            delivered: Mutex::new(Vec::new()),
        };
        let delivered = alert_through(&app, &channel).await;
        let to_kim: Vec<_> = delivered.iter().filter(|(to, _)| to == "kim").collect();
        assert_eq!(to_kim.len(), 1, "{delivered:?}");
        assert!(to_kim[0].1.sensitive);
        assert!(
            to_kim[0].1.text.contains("fallen"),
            "the alert quotes Ava: {:?}",
            to_kim[0].1
        );
    }
}
