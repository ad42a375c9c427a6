//! A Carebot program's `main`: logs to stderr, a multi-threaded async runtime, and errors
//! printed as one plain line (what was being done, then why), never a stack trace.

use anyhow::Result;
use std::future::Future;
use std::process::ExitCode;

/// Runs `program` to its end and turns what it returned into the exit status.
pub fn run<F>(log_level: &str, program: F) -> ExitCode
where
    F: Future<Output = Result<ExitCode>>,
{
    quiet_when_the_reader_goes();
    crate::telemetry::init(log_level, std::io::stderr);
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
    match runtime.block_on(program) {
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
