//! The demo care home (see `carebot_runtime::demo`). Seeding happens once; rerunning the demo
//! reopens the same file and carries on.

use anyhow::Result;
use carebot_runtime::Carebot;

/// Where the demo lives.
pub const DEMO_DB: &str = "sqlite://carebot-demo.db";

/// Creates the demo home unless it is already there.
pub async fn seed(bot: &Carebot) -> Result<()> {
    let store = &bot.store;
    if store.first_home().await?.is_some() {
        return Ok(());
    }
    let now = bot.clock.now().timestamp_millis();
    carebot_runtime::demo::seed(store, carebot_console::PLATFORM, now).await?;
    Ok(())
}
