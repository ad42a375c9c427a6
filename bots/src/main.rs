//! `carebot`: the admin command line, the console channel and the demo. Care logic lives in
//! the core crates; this program wires them up. `carebot matrix` and `carebot discord` hand
//! over to the adapter programs `carebot-matrix` and `carebot-discord` (see [`adapter`]).

mod adapter;
mod admin;
mod cli;
mod demo;
mod dialogs_test;
mod export;
mod status;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    carebot::process::run(cli.log_level(), cli.run())
}
