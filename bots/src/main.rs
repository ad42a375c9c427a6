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
mod shipped;
mod status;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_when_the_reader_goes();
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

/// `carebot people | head`: when whatever reads Carebot's output stops reading, Unix tools
/// stop quietly. Rust's `println!` panics instead ("failed printing to stdout: Broken pipe");
/// this turns exactly that panic into a quiet, successful exit, and leaves every other panic
/// to the default report.
fn quiet_when_the_reader_goes() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
}
