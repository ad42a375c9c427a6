//! What goes out: rate limits honoured, a resident's words shown as written and pinging
//! nobody, charts attached.

use super::{Rig, Setup, AVA, KIM};
use std::time::Duration;

const PRIVACY: &str = "Your information belongs to you, Ava. Staff who care for you can see your check-ins. Your family only hear what you say they can.\nWould you like to choose what your family can hear?";

fn message_sends(rig: &Rig) -> Vec<u16> {
    rig.fake
        .calls()
        .into_iter()
        .filter(|c| c.route.ends_with("/messages"))
        .map(|c| c.status)
        .collect()
}

#[tokio::test]
async fn a_429_is_retried_only_after_its_retry_after() {
    let rig = Rig::start(Setup::default()).await;
    rig.fake.rate_limit_next(1, 2.0, false);
    rig.fake.dm(AVA, "ava", "privacy");
    rig.fake
        .wait_until("the 429", |v| v.calls().iter().any(|c| c.status == 429))
        .await;
    // The outbox loop keeps running, but the message waits for the clock to pass 2 seconds:
    // once the 429 is stored with its retry time, a delivery pass (run here, at the test's
    // time) sends nothing.
    until_stored(&rig, "the 429's retry time", FAILED, 1).await;
    rig.service.flush().await;
    assert_eq!(message_sends(&rig), [429]);
    rig.app.clock.advance(chrono::Duration::milliseconds(1500));
    rig.service.flush().await;
    assert_eq!(message_sends(&rig), [429], "1.5 s is not yet 2 s");
    rig.app.clock.advance(chrono::Duration::milliseconds(600));
    rig.next(AVA, PRIVACY).await;
    assert_eq!(message_sends(&rig), [429, 200]);
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_retry_after_a_lost_response_sends_the_same_nonce_and_makes_no_second_message() {
    let rig = Rig::start(Setup::default()).await;
    rig.fake.lose_next_responses(1);
    rig.fake.dm(AVA, "ava", "privacy");
    rig.fake
        .wait_until("the lost response", |v| {
            v.calls().iter().any(|c| c.status == 502)
        })
        .await;
    assert_eq!(rig.fake.messages().len(), 1, "Discord made the message");
    // The outbox backs off (2 s for a first failure, from when it hears of it), then tries again.
    until_stored(&rig, "the failed delivery", FAILED, 1).await;
    rig.app.clock.advance(chrono::Duration::seconds(3));
    rig.fake
        .wait_until("the retry", |v| {
            v.calls()
                .iter()
                .any(|c| c.status == 200 && c.route.ends_with("/messages"))
        })
        .await;
    let sends: Vec<_> = rig
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.route.ends_with("/messages"))
        .collect();
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].body["nonce"], sends[1].body["nonce"]);
    rig.next(AVA, PRIVACY).await;
    rig.quiet().await;
    rig.stop().await;
}

#[tokio::test]
async fn a_residents_everyone_and_markdown_reach_discord_as_plain_text_that_pings_nobody() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    rig.fake.dm(AVA, "ava", "check in");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", "4");
    rig.next_to(AVA).await;
    rig.fake
        .dm(AVA, "ava", "@everyone come and see my *garden* @here");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", "Not yet");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", "no");
    let read_back = rig.next_to(AVA).await;
    assert!(
        read_back
            .content
            .contains("@\u{200b}everyone come and see my \\*garden\\* @\u{200b}here"),
        "{}",
        read_back.content
    );
    assert!(!read_back.content.contains("@everyone") && !read_back.content.contains("@here"));
    assert_eq!(
        read_back.payload["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    rig.quiet().await;
    // `stop` checks that every message went with mentions off.
    rig.stop().await;
}

#[tokio::test]
async fn a_keyworkers_digest_arrives_with_its_mood_chart_attached() {
    let rig = Rig::start(Setup {
        health: true,
        digest: true,
        ..Setup::default()
    })
    .await;
    rig.fake.dm(AVA, "ava", "check in");
    rig.fake
        .wait_until("the first question", |v| {
            v.messages().iter().any(|m| m.to == AVA)
        })
        .await;
    rig.fake.dm(AVA, "ava", "3");
    rig.fake
        .wait_until("the second question", |v| {
            v.messages().iter().filter(|m| m.to == AVA).count() >= 2
        })
        .await;
    rig.tick_at("2026-11-24T08:00:00Z").await;
    rig.fake
        .wait_until("Kim's digest with a chart", |v| {
            v.messages()
                .iter()
                .any(|m| m.to == KIM && !m.files.is_empty())
        })
        .await;
    let digest = rig
        .fake
        .messages()
        .into_iter()
        .find(|m| m.to == KIM && !m.files.is_empty())
        .expect("digest");
    assert!(
        digest.content.starts_with("Good morning Kim"),
        "{}",
        digest.content
    );
    assert_eq!(digest.files, [("chart.png".to_string(), true)]);
    assert_eq!(digest.payload["attachments"][0]["filename"], "chart.png");
    rig.stop().await;
}

/// An answer as long as may be kept whole (1,000 characters), in sentences about `what`;
/// and how many sentences it has.
fn sentences(what: &str) -> (String, usize) {
    let mut text = String::new();
    for i in 1.. {
        let next = format!("Sentence {i} about {what} went well.");
        if text.len() + 1 + next.len() > 1000 {
            return (text, i - 1);
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&next);
    }
    unreachable!()
}

/// Ava's check-in up to its read-back, answering her two goals with `first` and `second`.
/// The read-back comes once she answers the last question ("no").
async fn to_the_read_back(rig: &Rig, first: &str, second: &str) {
    rig.fake.dm(AVA, "ava", "check in");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", "4");
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", first);
    rig.next_to(AVA).await;
    rig.fake.dm(AVA, "ava", second);
    rig.next_to(AVA).await;
}

/// A read-back longer than Discord's 2,000 characters goes as several messages, split on
/// sentences, each with its own nonce, the buttons only on the last; when the response to
/// the first part is lost, the retry sends the same nonces and Ava sees each part once.
#[tokio::test]
async fn a_long_read_back_arrives_in_parts_once_each_even_when_a_response_is_lost() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    let ((garden, g), (sister, s)) = (sentences("the garden"), sentences("my sister"));
    assert!(
        garden.len() + sister.len() > 1900,
        "the read-back needs two parts"
    );
    to_the_read_back(&rig, &garden, &sister).await;
    let before = rig.fake.messages().len();
    rig.fake.lose_next_responses(1);
    rig.fake.dm(AVA, "ava", "no");
    rig.fake
        .wait_until("the lost response", |v| {
            v.calls().iter().any(|c| c.status == 502)
        })
        .await;
    until_stored(&rig, "the failed delivery", FAILED, 1).await;
    rig.app.clock.advance(chrono::Duration::seconds(3));
    rig.fake
        .wait_until("every part", |v| {
            v.messages()[before..]
                .iter()
                .any(|m| !m.buttons().is_empty())
        })
        .await;
    let parts: Vec<_> = rig.fake.messages()[before..].to_vec();
    assert!(parts.len() >= 2, "{} part(s)", parts.len());
    let nonces: std::collections::HashSet<_> =
        parts.iter().map(|m| m.payload["nonce"].clone()).collect();
    assert_eq!(
        nonces.len(),
        parts.len(),
        "each part once, with its own nonce"
    );
    for (i, m) in parts.iter().enumerate() {
        assert_eq!(m.to, AVA);
        assert!(
            m.content.chars().count() <= 2000,
            "part {i}: {}",
            m.content.len()
        );
        let last = i == parts.len() - 1;
        assert_eq!(
            !m.buttons().is_empty(),
            last,
            "buttons only on the last part"
        );
        if !last {
            assert!(
                m.content.ends_with('.'),
                "split on a sentence: {:?}",
                &m.content[m.content.len() - 20..]
            );
        }
    }
    let whole: String = parts
        .iter()
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for (what, n) in [("the garden", g), ("my sister", s)] {
        for i in [1, n / 2, n] {
            let sentence = format!("Sentence {i} about {what} went well.");
            assert!(whole.contains(&sentence), "{sentence:?} missing");
        }
    }
    // Each part was looked at above; nothing else follows.
    for _ in &parts {
        rig.next_to(AVA).await;
    }
    rig.quiet().await;
    rig.stop().await;
}

/// Waits (up to 10 s) until `sql`, a count over the test database, is at least `n`.
async fn until_stored(rig: &Rig, what: &str, sql: &str, n: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rig.app.count(sql).await < n {
        assert!(std::time::Instant::now() < deadline, "never stored: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A failed delivery stored with its retry time.
const FAILED: &str =
    "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND last_error IS NOT NULL";

/// A connection that never answers is given up on after the REST timeout, and the message
/// goes on the next attempt: one stuck call holds nothing up for good.
#[tokio::test]
async fn a_hung_request_times_out_and_the_message_is_delivered_later() {
    let rig = Rig::start(Setup {
        rest_timeout: Some(Duration::from_secs(1)),
        ..Setup::default()
    })
    .await;
    rig.fake.hang_next_sends(1);
    rig.fake.dm(AVA, "ava", "privacy");
    until_stored(&rig, "the failed delivery", FAILED, 1).await;
    assert_eq!(message_sends(&rig), [599], "one send, left hanging");
    rig.app.clock.advance(chrono::Duration::seconds(3));
    rig.service.wake();
    rig.next(AVA, PRIVACY).await;
    assert_eq!(message_sends(&rig), [599, 200]);
    rig.quiet().await;
    rig.stop().await;
}

/// After Discord rejects the token, no call is made at all for the pause (not one 401 per
/// waiting message, which would get the bot's address banned): only the calls already in
/// flight get a 401 (here at most two, one per person). With the token good again,
/// everything waiting goes, with no other 401.
#[tokio::test]
async fn a_rejected_token_pauses_all_sending_after_one_request() {
    let rig = Rig::start(Setup {
        token_pause: Some(Duration::from_secs(5)),
        ..Setup::default()
    })
    .await;
    rig.fake.accept_only_token("a-newer-token");
    rig.fake.dm(AVA, "ava", "privacy");
    rig.fake.dm(KIM, "kim", "help");
    rig.fake
        .wait_until("the 401", |v| v.calls().iter().any(|c| c.status == 401))
        .await;
    // Both messages are stored and waiting; the first call's 401 holds every other back.
    until_stored(
        &rig,
        "both replies",
        "SELECT COUNT(*) FROM outbox WHERE platform = 'discord' AND status = 'pending'",
        2,
    )
    .await;
    let refused = |rig: &Rig| {
        rig.fake
            .calls()
            .into_iter()
            .filter(|c| c.status == 401)
            .count()
    };
    let first = refused(&rig);
    assert!((1..=2).contains(&first), "{first} rejected calls");
    // The token is put right (in Discord, as after a restart with the new token).
    rig.fake
        .accept_only_token(carebot_tests::fake_discord::TOKEN);
    rig.app.clock.advance(chrono::Duration::seconds(600));
    rig.service.wake();
    // Each person's message arrives (in which order depends on the pause, not on them).
    let sent = rig.fake.wait_for_messages(2).await;
    let mut to: Vec<u64> = sent.iter().map(|m| m.to).collect();
    to.sort_unstable();
    assert_eq!(to, [AVA, KIM]);
    assert!(sent
        .iter()
        .any(|m| m.to == AVA && m.content == carebot_discord::escape(PRIVACY)));
    assert_eq!(refused(&rig), first, "no rejected call after the first");
    rig.stop().await;
}

/// Discord honours a nonce for a few minutes only. Escaping Ava's Markdown makes one outbox
/// message longer than Discord's 2,000 characters, so it goes in two parts: the first is
/// accepted, the second fails (500) and is retried after the nonce window has passed. The
/// first part is not posted again, because the adapter noted that Discord had it.
#[tokio::test]
async fn a_part_accepted_before_a_failure_is_not_posted_again_after_the_nonce_window() {
    let rig = Rig::start(Setup {
        health: true,
        ..Setup::default()
    })
    .await;
    // 999 characters, nearly all Markdown: escaped for Discord, the one outbox message the
    // read-back is becomes longer than 2,000 characters.
    let stars = vec!["*".repeat(99); 10].join(" ");
    to_the_read_back(&rig, &stars, "fine").await;
    let before = rig.fake.messages().len();
    rig.fake.fail_send_number(2);
    rig.fake.dm(AVA, "ava", "no");
    rig.fake
        .wait_until("the failed part", |v| {
            v.calls().iter().any(|c| c.status == 500)
        })
        .await;
    // Its retry time is set once the failure is stored.
    until_stored(&rig, "the failed part", FAILED, 1).await;
    assert_eq!(rig.fake.messages().len(), before + 1, "the first part only");
    rig.fake.forget_nonces();
    rig.app.clock.advance(chrono::Duration::minutes(20));
    rig.service.wake();
    rig.fake
        .wait_until("the last part", |v| {
            v.messages()[before..]
                .iter()
                .any(|m| !m.buttons().is_empty())
        })
        .await;
    let parts: Vec<String> = rig.fake.messages()[before..]
        .iter()
        .map(|m| m.content.clone())
        .collect();
    let sizes: Vec<usize> = parts.iter().map(|p| p.chars().count()).collect();
    assert!(
        parts.len() >= 3,
        "the read-back came in parts of {sizes:?}: {parts:#?}"
    );
    let distinct: std::collections::HashSet<&String> = parts.iter().collect();
    assert_eq!(distinct.len(), parts.len(), "each part once: {parts:#?}");
    rig.stop().await;
}
