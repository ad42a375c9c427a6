//! Turning configuration into a running [`Carebot`]: load the dialogs, open the store,
//! record flow versions. Every failure here names what to fix.

use crate::config::Config;
use anyhow::{Context, Result};
use carebot_engine::flow::{load_dir, Dialogs};
use carebot_runtime::clock::SystemClock;
use carebot_runtime::Carebot;
use carebot_store::{redact, Store};
use std::path::Path;
use std::sync::Arc;

/// Loads and checks the dialogs folder, listing every problem; when the default folder
/// (`dialogs`) is not there, the copy built into this binary.
pub fn dialogs(dir: &Path) -> Result<Dialogs> {
    if dir == Path::new(DEFAULT_DIALOGS) && !dir.exists() {
        tracing::info!(
            "no dialogs folder here: using the dialogs built into this carebot (`carebot dialogs export dialogs` writes a copy to edit)"
        );
        return crate::shipped::load();
    }
    dialogs_in(dir)
}

/// The folder a configuration names when it names none.
const DEFAULT_DIALOGS: &str = "dialogs";

/// Loads and checks the dialogs in `dir`, naming every problem.
pub fn dialogs_in(dir: &Path) -> Result<Dialogs> {
    load_dir(dir).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::anyhow!(
            "the dialogs in {} have {} problem(s):\n{}\n(run `carebot dialogs check {}` after fixing them)",
            dir.display(),
            problems.len(),
            list.join("\n"),
            dir.display()
        )
    })
}

/// Opens the database and migrates it.
pub async fn store(url: &str) -> Result<Store> {
    Store::open(url)
        .await
        .with_context(|| format!("opening the database {}", redact(url)))
}

/// A runtime on the real clock.
pub async fn carebot(config: &Config) -> Result<Carebot> {
    // Everything that can be checked is checked before the database is touched.
    let settings = config.settings().map_err(|p| anyhow::anyhow!("{p}"))?;
    let schedule = config.schedule().map_err(|p| anyhow::anyhow!("{p}"))?;
    let dialogs = Arc::new(dialogs(&config.dialogs.dir)?);
    let store = store(config.database_url()).await?;
    let mut bot = Carebot::new(store, dialogs, Arc::new(SystemClock), settings)
        .await
        .context("recording the current flow versions")?;
    bot.schedule = schedule;
    bot.limiter = carebot_runtime::RateLimiter::new(config.rate_limit());
    Ok(bot)
}

/// Refuses to serve people while a home has no phone number: a resident asking for urgent
/// help is told to ring it, and a blank would leave them with nothing.
pub async fn ready_to_serve(bot: &Carebot) -> Result<()> {
    let homes = bot.store.homes_without_phone().await?;
    if let Some(home) = homes.first() {
        anyhow::bail!(
            "the home '{home}' has no phone number, and residents asking for urgent help are told to ring it: set one with `carebot home-phone \"01632 960000\" --name \"{home}\"` (the number that reaches someone at the home day and night), then start again"
        );
    }
    Ok(())
}
