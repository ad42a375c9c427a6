//! The scheduler at a care group's scale: every resident's check-in prompt is queued exactly
//! once for the day, however often the scheduler ticks, and however many instances tick.

use carebot_tests::app::{spawn_app, Backend, TestApp};
use chrono::{Duration, TimeZone, Utc};
use std::time::Instant;

async fn pending_prompts(app: &TestApp) -> (i64, i64) {
    let counts = app.bot.store.outbox_counts().await.expect("counts");
    let pending = counts
        .iter()
        .filter(|c| c.status == carebot_store::outbox::OutboxStatus::Pending)
        .map(|c| c.count)
        .sum();
    (pending, counts.iter().map(|c| c.count).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_residents_each_get_exactly_one_checkin_prompt() {
    let mut app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    app.bot.schedule.digest = false; // only check-in prompts are counted here
    app.add_residents(10_000).await;
    app.clock.set(
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 59, 0)
            .single()
            .expect("time"),
    );
    assert_eq!(
        app.bot.tick().await.expect("tick").started,
        0,
        "nothing before 09:00"
    );
    app.clock.advance(Duration::minutes(1));
    let started = Instant::now();
    let report = app.bot.tick().await.expect("tick");
    eprintln!(
        "scheduler: 10,000 check-ins started in {:?} (debug build, SQLite FULL)",
        started.elapsed()
    );
    assert_eq!(report.started, 10_000);
    assert_eq!(pending_prompts(&app).await, (10_000, 10_000));
    // Ticking again, and after a restart, adds nothing.
    app.clock.advance(Duration::seconds(30));
    assert_eq!(app.bot.tick().await.expect("tick").started, 0);
    let restarted = app.restart(None).await;
    assert_eq!(restarted.tick().await.expect("tick").started, 0);
    assert_eq!(pending_prompts(&app).await, (10_000, 10_000));
}
