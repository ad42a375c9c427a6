//! Fuzzing the whole inbound path, `Carebot::handle` through the store to the channel: random
//! unicode, huge, empty, control-character and template-looking messages from residents,
//! staff, family and strangers. Carebot never fails or panics, answers the sender kindly (a
//! message, never an error text), and sends nothing to anyone the sender has no business
//! reaching. SQLite, with a modest case count so it runs in every test run.

use carebot_runtime::{Handled, Inbound, RateLimit, RateLimiter};
use carebot_tests::app::{spawn_app, Backend, TestApp, PLATFORM};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// One Carebot for every case (a fresh database per case would make this slow), on its own
/// runtime: its connection pools belong to that runtime.
fn app() -> &'static (tokio::runtime::Runtime, TestApp) {
    static APP: OnceLock<(tokio::runtime::Runtime, TestApp)> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut app = rt.block_on(spawn_app(Backend::Sqlite)).expect("sqlite");
        // The limiter has its own test; here every message must reach the engine.
        app.bot.limiter = RateLimiter::new(RateLimit {
            burst: u32::MAX,
            per_minute: u32::MAX,
        });
        (rt, app)
    })
}

fn message() -> impl Strategy<Value = String> {
    let phrases = prop::sample::select(vec![
        "check in",
        "ack",
        "ack 99999999999999999999",
        "ack -1",
        "review done",
        "review done Ava",
        "link ABCD-EFGH",
        "link",
        "any news",
        "stop",
        "start",
        "skip today",
        "remind me at 25:99",
        "I need help now",
        "privacy",
        "rights",
        "yes",
        "no",
        "5",
        "0",
        "NaN",
        "1e309",
        "help",
        "what do you know about me?",
        "stop sharing my mood with Sam",
        "daily updates",
    ]);
    let odd_char = prop_oneof![
        Just('\u{0}'),
        Just('\u{202E}'),
        Just('\u{FEFF}'),
        Just('\u{200B}'),
        Just('\n'),
        Just('\r'),
        Just('\t'),
        Just('{'),
        Just('}'),
        Just('%'),
        Just('#'),
        Just('"'),
        Just('\\'),
        Just('🙂'),
        Just('é'),
        Just('ß'),
        any::<char>(),
    ];
    prop_oneof![
        any::<String>(),
        "\\PC{0,80}",
        prop::collection::vec(odd_char, 0..64).prop_map(|v| v.into_iter().collect()),
        (any::<char>(), 2_000..120_000usize).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        Just("{{ 7*7 }} {% for x in range(99999999) %}x{% endfor %} {{ person.name }}".to_string()),
        Just(String::new()),
        Just("   ".to_string()),
        (phrases.clone(), "\\PC{0,20}").prop_map(|(p, s)| format!("{p}{s}")),
        (phrases.clone(), phrases).prop_map(|(a, b)| format!("{a} {b}")),
    ]
}

fn sender() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "ava",
        "ben",
        "kim",
        "maria",
        "sam",
        "zed",
        "@stranger:example.org",
    ])
}

static EVENT: AtomicU64 = AtomicU64::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_message_from_anyone_gets_a_kind_reply_and_reaches_no_one_else(
        who in sender(),
        text in message(),
    ) {
        let (rt, app) = app();
        let n = EVENT.fetch_add(1, Ordering::SeqCst);
        let inbound = Inbound {
            pressed: None,
            platform: PLATFORM.into(),
            sender: who.into(),
            event_id: format!("fuzz{n}"),
            text: text.clone(),
        };
        let (handled, out) = rt.block_on(async {
            let handled = app.bot.handle(&inbound).await.expect("never an error");
            (handled, app.deliver().await)
        });
        prop_assert!(matches!(handled, Handled::Done | Handled::UnknownAccount | Handled::Linked), "{handled:?}");
        // A blank message (an image caption, a stray Enter) is deliberately left unanswered.
        let blank = text.trim().is_empty() && handled == Handled::Done;
        prop_assert!(blank || out.iter().any(|(to, _)| to == who), "the sender is answered: {out:?}");
        // Alerts go to the resident's own staff; a resident's own staff acknowledging tells
        // the resident who saw it, and only that; nothing else leaves the conversation.
        let allowed: &[&str] = match who {
            "ava" | "ben" => &["kim", "maria"],
            "kim" | "maria" => &["ava", "ben"],
            _ => &[],
        };
        for (to, reply) in &out {
            prop_assert!(to == who || allowed.contains(&to.as_str()), "{who} reached {to}");
            if to != who && matches!(who, "kim" | "maria") {
                prop_assert!(
                    reply.ends_with("has seen your message and will talk with you about it."),
                    "{who} told {to} more than that it was seen: {reply}"
                );
            }
            prop_assert!(!reply.trim().is_empty(), "no empty message");
            prop_assert!(reply.chars().count() <= 4_000, "messages are split or refused");
            prop_assert!(!reply.contains("database error") && !reply.contains("StoreError"));
            if to == who && handled == Handled::UnknownAccount {
                prop_assert!(!reply.contains("Ava") && !reply.contains("Ben"), "{reply}");
            }
        }
    }
}
