//! `carebot-discord`: direct messages with linked people and staff commands in server
//! channels, until Ctrl-C or SIGTERM. Needs a bot token (`CAREBOT_DISCORD_TOKEN` or
//! `[discord] token`). `carebot discord` runs this program.

use anyhow::Result;
use carebot::globals::Globals;
use carebot::setup;
use clap::Parser;
use std::process::ExitCode;

/// Carebot over Discord. Stops cleanly on Ctrl-C or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "carebot-discord", version, about)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    carebot::process::run(cli.globals.log_level(), serve(cli.globals))
}

async fn serve(globals: Globals) -> Result<ExitCode> {
    // Listening first: a stop asked for while starting up is a clean stop too.
    let shutdown = carebot::serve::shutdown_on_signals();
    let config = globals.config()?;
    // The token is checked before anything is opened.
    let options = carebot_discord::Options::from_config(&config.discord)?;
    let bot = setup::carebot(&config).await?;
    setup::ready_to_serve(&bot).await?;
    carebot_discord::serve(bot, options, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
