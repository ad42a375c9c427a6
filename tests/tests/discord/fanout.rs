//! A morning's check-ins for a large home, through a Discord that enforces a global limit.

use super::{Rig, Setup};
use std::time::{Duration, Instant};

/// Residents in the fan-out (`CAREBOT_DISCORD_FANOUT` overrides, e.g. for a quick local run).
fn residents() -> usize {
    std::env::var("CAREBOT_DISCORD_FANOUT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_resident_fan_out_completes_without_a_429_storm() {
    let n = residents();
    // Paced at Discord's 50 a second, 20,000 calls take seven minutes: here the pace and the
    // fake's limit in time are lifted, and the limit is hit by count instead.
    let rig = Rig::start(Setup {
        per_second: Some(1_000_000),
        ..Setup::default()
    })
    .await;
    rig.fake.allow_per_second(None);
    add_residents(&rig, n).await;
    // Discord's global limit, hit about twenty times on the way: every 1,000th call is told
    // to wait a quarter of a second.
    rig.fake.global_limit(1_000, Duration::from_millis(250));
    let started = Instant::now();
    rig.tick_at("2026-11-24T09:00:30Z").await;
    // Messages answered 429 wait in the outbox for their Retry-After; let the clock pass it.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let sent = rig
            .fake
            .messages()
            .iter()
            .filter(|m| m.to >= 2_000_000)
            .count();
        if sent >= n {
            break;
        }
        assert!(Instant::now() < deadline, "only {sent} of {n} sent");
        rig.app.clock.advance(chrono::Duration::seconds(1));
        rig.service.wake();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (limited, storm) = rig.fake.global_limit_report();
    eprintln!(
        "fan-out: {n} residents in {:?}, {limited} global 429s",
        started.elapsed()
    );
    assert!(
        limited >= n * 2 / 1_000,
        "the limit was hit ({limited} times)"
    );
    // Calls already in flight when a 429 came (at most one fewer than the adapter's
    // concurrency, for each 429) cannot be called back; any more is a storm.
    let in_flight = limited * (carebot_discord::CONCURRENCY - 1);
    assert!(
        storm <= in_flight,
        "{storm} calls came while a global 429 held (more than the {in_flight} in flight): a 429 storm"
    );
    let messages = rig.fake.messages();
    assert_eq!(
        messages.len(),
        n,
        "one message each, none doubled; what was sent: {}",
        what_was_sent(&messages)
    );
    rig.stop().await;
}

/// A morning's check-ins for a few hundred people at Discord's real limit: paced below it,
/// the adapter meets no 429 at all, and everyone gets their message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_morning_fan_out_is_paced_under_discords_global_limit() {
    let n = 200;
    let rig = Rig::start(Setup::default()).await;
    add_residents(&rig, n).await;
    let started = Instant::now();
    rig.tick_at("2026-11-24T09:00:30Z").await;
    // Two calls each (open the DM, send): about nine seconds at 45 a second.
    rig.fake
        .wait_until_within("everyone's check-in", Duration::from_secs(60), |v| {
            v.messages().len() >= n
        })
        .await;
    eprintln!(
        "paced fan-out: {n} residents in {:?}, {} REST calls",
        started.elapsed(),
        rig.fake.calls().len()
    );
    assert_eq!(rig.fake.too_fast(), 0, "no call over Discord's 50 a second");
    let messages = rig.fake.messages();
    assert_eq!(messages.len(), n, "{}", what_was_sent(&messages));
    rig.stop().await;
}

/// A summary of a fan-out for a failure message: how many messages of each kind (first words
/// of the text), to how many people, and how many people got more than one.
fn what_was_sent(messages: &[carebot_tests::fake_discord::SentMessage]) -> String {
    use std::collections::BTreeMap;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_person: BTreeMap<u64, usize> = BTreeMap::new();
    for m in messages {
        let words: String = m.content.chars().take(40).collect();
        *kinds.entry(words).or_default() += 1;
        *per_person.entry(m.to).or_default() += 1;
    }
    let doubled = per_person.values().filter(|&&c| c > 1).count();
    format!(
        "{} people, {doubled} of them more than once; by text: {kinds:?}",
        per_person.len()
    )
}

/// Adds `n` residents who check in at 09:00, each linked to a Discord user id from 2,000,000.
async fn add_residents(rig: &Rig, n: usize) {
    carebot_runtime::demo::add_residents(&rig.app.bot.store, n, carebot_discord::PLATFORM)
        .await
        .expect("residents");
    rig.app
        .raw_sql(
            "UPDATE identities SET address = CAST(2000000 + person_id AS TEXT)
             WHERE platform = 'discord' AND address LIKE 'r%'",
        )
        .await;
}
