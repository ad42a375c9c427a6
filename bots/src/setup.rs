//! Turning configuration into a running [`Carebot`]: load the dialogs, open the store,
//! record flow versions. Every failure here names what to fix.

use anyhow::{Context, Result};
use carebot_core::clock::SystemClock;
use carebot_core::config::Config;
use carebot_core::flow::{load_dir, Dialogs};
use carebot_core::runtime::Carebot;
use carebot_core::store::{redact, Store};
use std::path::Path;
use std::sync::Arc;

/// Loads and checks the dialogs folder, listing every problem.
pub fn dialogs(dir: &Path) -> Result<Dialogs> {
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
    let settings = config.settings().map_err(|p| anyhow::anyhow!("{p}"))?;
    let dialogs = Arc::new(dialogs(&config.dialogs.dir)?);
    let store = store(config.database_url()).await?;
    let schedule = config.schedule().map_err(|p| anyhow::anyhow!("{p}"))?;
    let mut bot = Carebot::new(store, dialogs, Arc::new(SystemClock), settings)
        .await
        .context("recording the current flow versions")?;
    bot.schedule = schedule;
    bot.limiter = carebot_core::runtime::RateLimiter::new(config.rate_limit());
    Ok(bot)
}
