//! Logging. The sink is passed in (stderr in the binary, a buffer in tests). Message bodies
//! are health data: no log line anywhere in Carebot carries one, and `#[instrument]` is
//! always used with `skip_all`.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides `default_level`.
pub fn init<W>(default_level: &str, sink: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // The chat libraries are chatty at info (sync settings, display names); Carebot's own
    // lines are what an operator needs, so theirs start at warn.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{default_level},matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn,matrix_sdk_sqlite=warn,serenity=warn"
        ))
    });
    // A second init (e.g. in tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        .with_target(false)
        .with_ansi(false)
        .try_init();
}
