//! `carebot-matrix`: serves residents, families and staff over Matrix (end-to-end encrypted)
//! with the `[matrix]` settings, until Ctrl-C or SIGTERM. `carebot matrix` runs this program.

use anyhow::Result;
use carebot::globals::Globals;
use carebot::setup;
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

/// Carebot over Matrix, end-to-end encrypted. Stops gracefully on Ctrl-C or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "carebot-matrix", version, about)]
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
    let bot = Arc::new(setup::carebot(&config).await?);
    setup::ready_to_serve(&bot).await?;
    carebot_matrix::run(
        bot.clone(),
        &config.matrix,
        carebot_matrix::Options::default(),
        shutdown,
    )
    .await?;
    bot.store.close().await;
    Ok(ExitCode::SUCCESS)
}
