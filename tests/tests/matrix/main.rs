//! The Matrix adapter against a real Synapse (installed from PyPI and started by these tests),
//! with real matrix-sdk clients, end-to-end encrypted, playing the resident, the family
//! member and the keyworker.

mod flows;
mod identity;
mod recovery;

use carebot_matrix::{Options, PLATFORM};
use carebot_runtime::{Carebot, RetryPolicy};
use carebot_store::people::Identity;
use carebot_tests::app::{spawn_app, Backend, NowMs, TestApp};
use carebot_tests::matrix::bot::{BotAccount, InProcess};
use carebot_tests::matrix::{synapse, Person};
use std::sync::Arc;
use std::time::Duration;

/// Fast retries and ticks for tests.
fn options() -> Options {
    Options {
        policy: RetryPolicy {
            base: Duration::from_millis(500),
            max: Duration::from_secs(5),
            max_attempts: 100,
            ..RetryPolicy::default()
        },
        tick_every: Duration::from_millis(200),
    }
}

/// A fresh app (SQLite), a fresh bot account, and the adapter running.
async fn start(name: &str) -> (TestApp, Arc<Carebot>, BotAccount, InProcess) {
    let app = spawn_app(Backend::Sqlite)
        .await
        .expect("sqlite always runs");
    let account = BotAccount::register(synapse::shared(), &format!("carebot-{name}")).await;
    let bot = Arc::new(app.restart(None).await);
    let running = InProcess::start(bot.clone(), &account, options());
    (app, bot, account, running)
}

/// Binds a Matrix account to a seeded person, as a staff-issued link code would.
async fn bind(app: &TestApp, handle: &str, person: &Person) {
    app.clock.advance(chrono::Duration::seconds(1));
    let id = Identity {
        platform: PLATFORM.into(),
        address: person.user_id.to_string(),
    };
    app.bot
        .store
        .bind_identity(&id, app.id(handle), app.clock.now_ms())
        .await
        .expect("bind");
}

/// How many of the messages seen contain `part`.
fn count(seen: &[carebot_tests::matrix::Seen], part: &str) -> usize {
    seen.iter().filter(|m| m.body.contains(part)).count()
}

/// Accepts invites for `person` until one is accepted (a chat the bot opened).
async fn accept_one_invite(person: &Person) {
    let deadline = std::time::Instant::now() + carebot_tests::matrix::PATIENCE;
    while std::time::Instant::now() < deadline {
        if !person.accept_invites().await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} was never invited", person.user_id);
}
