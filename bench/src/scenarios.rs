//! The scenarios. Each makes its own fresh database, runs the real engine, real store and
//! runtime, with a channel that does no network I/O (replies stay in the outbox, where
//! latency is measured to: message in, answer and reply committed).

use crate::db::{BenchDb, PLATFORM};
use crate::report::{peak_rss, rss, Row};
use anyhow::{ensure, Result};
use carebot_engine::engine::Settings;
use carebot_engine::flow::load_dir;
use carebot_runtime::clock::{Clock, ManualClock, SystemClock};
use carebot_runtime::{Carebot, Inbound};
use chrono::{TimeZone, Utc};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A check-in by a resident with no goals: mood, anything else, read-back.
pub const CHECKIN: [&str; 4] = ["check in", "4", "no", "yes"];

async fn carebot(db: &BenchDb, dialogs: &Path, clock: Arc<dyn Clock>) -> Result<Carebot> {
    let dialogs = Arc::new(load_dir(dialogs).map_err(|p| anyhow::anyhow!("dialogs: {p:?}"))?);
    let store = carebot_store::Store::open(&db.url).await?;
    let mut bot = Carebot::new(store, dialogs, clock, Settings::default()).await?;
    bot.schedule.digest = false;
    Ok(bot)
}

/// `residents` residents check in concurrently (`concurrency` at a time), each turn a
/// durable transaction; at most `seconds` long; paced to `rate` turns/s when given.
pub async fn turns(
    db: &BenchDb,
    dialogs: &Path,
    residents: usize,
    concurrency: usize,
    seconds: u64,
    rate: Option<f64>,
) -> Result<Row> {
    db.fill(residents).await?;
    let bot = Arc::new(carebot(db, dialogs, Arc::new(SystemClock)).await?);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let bot = bot.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let per_task_interval = rate.map(|r| Duration::from_secs_f64(concurrency as f64 / r));
            // Tasks are staggered so arrivals are even (one every 1/rate s), not a burst of
            // `concurrency` turns at each interval.
            let offset = rate.map_or(Duration::ZERO, |r| Duration::from_secs_f64(task as f64 / r));
            let mut n = 0u32;
            'people: for resident in (task..residents).step_by(concurrency) {
                for (j, text) in CHECKIN.iter().enumerate() {
                    if let Some(every) = per_task_interval {
                        tokio::time::sleep_until((start + offset + every * n).into()).await;
                    }
                    n += 1;
                    if Instant::now() > deadline {
                        break 'people;
                    }
                    let msg = Inbound {
                        pressed: None,
                        platform: PLATFORM.into(),
                        sender: format!("r{}", resident + 1),
                        event_id: format!("{resident}.{j}"),
                        text: (*text).into(),
                    };
                    let t0 = Instant::now();
                    bot.handle(&msg).await?;
                    latencies.push(t0.elapsed());
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let done = latencies.len();
    let name = if rate.is_some() { "latency" } else { "turns" };
    bot.store.close().await;
    Ok(Row {
        scenario: name.into(),
        backend: db.backend(),
        throughput: format!("{:.0} turns/s", done as f64 / elapsed),
        per_second: Some(done as f64 / elapsed),
        latencies,
        peak_rss: peak_rss(),
        params: format!(
            "{residents} residents, {concurrency} at once, {done} turns in {elapsed:.1} s{}",
            rate.map(|r| format!(", paced at {r} turns/s"))
                .unwrap_or_default()
        ),
    })
}

/// The 09:00 tick for `residents` residents: time until every prompt is durably queued once.
pub async fn fanout(db: &BenchDb, dialogs: &Path, residents: usize) -> Result<Row> {
    db.fill(residents).await?;
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 30)
            .single()
            .expect("valid"),
    );
    let bot = carebot(db, dialogs, Arc::new(clock)).await?;
    let t0 = Instant::now();
    let report = bot.tick().await?;
    let took = t0.elapsed();
    let queued: i64 = bot
        .store
        .outbox_counts()
        .await?
        .iter()
        .map(|c| c.count)
        .sum();
    ensure!(
        report.started == residents && queued == residents as i64,
        "fan-out queued {queued} prompts for {residents} residents"
    );
    bot.store.close().await;
    Ok(Row {
        scenario: "fanout".into(),
        backend: db.backend(),
        throughput: format!("{:.0} prompts/s", residents as f64 / took.as_secs_f64()),
        per_second: None,
        latencies: vec![took],
        peak_rss: peak_rss(),
        params: format!(
            "{residents} residents, all prompts queued once in {:.2} s",
            took.as_secs_f64()
        ),
    })
}

/// Memory per idle conversation, measured at the margin: the 09:00 tick opens a check-in for
/// every one of `residents` residents, and every one of them answers the first question, so
/// each has a conversation mid-flow and each account has spoken (rate-limiter state and all).
/// Resident memory is read after the first tenth have answered (the runtime warmed up) and
/// after the rest: the growth, divided by the conversations added in between, is what one
/// more open conversation costs the process.
pub async fn idle(db: &BenchDb, dialogs: &Path, residents: usize) -> Result<Row> {
    db.fill(residents).await?;
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 30)
            .single()
            .expect("valid"),
    );
    let bot = Arc::new(carebot(db, dialogs, Arc::new(clock)).await?);
    let opened = bot.tick().await?.started;
    ensure!(
        opened == residents,
        "the tick opened {opened} of {residents} check-ins"
    );
    let warm = (residents / 10).max(1);
    answer_mood(&bot, 1..=warm).await?;
    let before = rss();
    answer_mood(&bot, warm + 1..=residents).await?;
    let after = rss();
    let mid_flow = db
        .count("SELECT COUNT(*) FROM checkins WHERE status = 'started'")
        .await?;
    bot.store.close().await;
    let added = residents.saturating_sub(warm).max(1);
    let per = after.saturating_sub(before) as f64 / added as f64;
    // The allocator may hand memory from the fan-out back meanwhile: then the growth is lost
    // in that, and the row says so rather than claiming zero.
    let throughput = if after < before {
        format!(
            "below noise (RSS fell {:.1} MiB)",
            (before - after) as f64 / 1048576.0
        )
    } else {
        format!("{per:.1} bytes/conversation")
    };
    Ok(Row {
        scenario: "idle".into(),
        backend: db.backend(),
        throughput,
        per_second: None,
        latencies: Vec::new(),
        peak_rss: peak_rss(),
        params: format!(
            "{residents} check-ins open and answered once ({mid_flow} mid-flow in the store); RSS {:.1} MiB after {warm}, {:.1} MiB after all",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0
        ),
    })
}

/// Residents `who` (r1, r2, ...) each answer the mood question, 64 at a time.
async fn answer_mood(bot: &Arc<Carebot>, who: std::ops::RangeInclusive<usize>) -> Result<()> {
    let who: Arc<Vec<usize>> = Arc::new(who.collect());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (bot, who, next) = (bot.clone(), who.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(r) = who.get(i) else {
                    return anyhow::Ok(());
                };
                let msg = Inbound {
                    pressed: None,
                    platform: PLATFORM.into(),
                    sender: format!("r{r}"),
                    event_id: format!("idle.{r}"),
                    text: "4".into(),
                };
                bot.handle(&msg).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Process start to ready-to-serve (store open and migrated, dialogs loaded and checked, flow
/// versions recorded) with `residents` residents, as a fresh process.
pub async fn cold_start(db: &BenchDb, dialogs: &Path, residents: usize) -> Result<Row> {
    db.fill(residents).await?;
    let exe = std::env::current_exe()?;
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let status = std::process::Command::new(&exe)
            .args([
                "probe",
                "--db",
                &db.url,
                "--dialogs",
                &dialogs.display().to_string(),
            ])
            .status()?;
        ensure!(status.success(), "the cold-start probe failed");
        runs.push(t0.elapsed());
    }
    runs.sort();
    Ok(Row {
        scenario: "cold-start".into(),
        backend: db.backend(),
        throughput: format!("{:.0} ms (median of 5)", runs[2].as_secs_f64() * 1000.0),
        per_second: None,
        latencies: runs,
        peak_rss: peak_rss(),
        params: format!("{residents} residents; a fresh process until ready"),
    })
}

/// What the cold-start probe process does: get ready to serve, then exit.
pub async fn probe(url: &str, dialogs: &Path) -> Result<()> {
    let dialogs = Arc::new(load_dir(dialogs).map_err(|p| anyhow::anyhow!("dialogs: {p:?}"))?);
    let store = carebot_store::Store::open(url).await?;
    let bot = Carebot::new(store, dialogs, Arc::new(SystemClock), Settings::default()).await?;
    bot.store.close().await;
    Ok(())
}
