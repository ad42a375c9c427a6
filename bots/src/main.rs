//! `carebot`: the admin command line, the console channel, and (in later issues) the
//! Matrix and Discord adapters. Care logic lives in `carebot-core`; this crate wires it up
//! and translates between people's terminals or chat platforms and the core.

mod admin;
mod cli;
mod console;
mod demo;
mod dialogs_test;
mod export;
mod setup;
mod status;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    telemetry::init(cli.log_level(), std::io::stderr);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` prints the context chain on one line: what we were doing, then why.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
