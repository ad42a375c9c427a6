//! An optional Prometheus endpoint (`carebot metrics --listen 127.0.0.1:9464`): counts an
//! operator can alert on (messages waiting or dead-lettered per platform, unacknowledged
//! alerts, overdue reviews, when the scheduler last ran). Counts only: the only label is the
//! platform name, so nothing personal can reach a metrics system. It reads the same
//! [`Status`] as `carebot status`, from the database, so it can run beside any adapter.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use carebot_store::status::Status;
use carebot_store::Store;
use std::fmt::Write;

/// The router: `GET /metrics`.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(store)
}

async fn metrics(State(store): State<Store>) -> impl IntoResponse {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    match store.status(&today).await {
        Ok(status) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            render(&status),
        ),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not read the database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                "# the database could not be read\n".to_string(),
            )
        }
    }
}

/// A platform name as a label value (they are plain words, but a label must never break).
fn label(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect()
}

/// The Prometheus text format of `status`.
pub fn render(status: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# HELP carebot_outbox_messages Outgoing messages by platform and status.\n# TYPE carebot_outbox_messages gauge");
    for (platform, pending, sent, dead, withdrawn, _) in &status.channels {
        for (name, n) in [
            ("pending", pending),
            ("sent", sent),
            ("dead", dead),
            ("withdrawn", withdrawn),
        ] {
            let _ = writeln!(
                out,
                "carebot_outbox_messages{{platform=\"{}\",status=\"{name}\"}} {n}",
                label(platform)
            );
        }
    }
    let _ = writeln!(out, "# HELP carebot_outbox_last_delivery_timestamp_seconds When a message was last delivered, per platform.\n# TYPE carebot_outbox_last_delivery_timestamp_seconds gauge");
    for (platform, .., last) in &status.channels {
        if let Some(ms) = last {
            let _ = writeln!(
                out,
                "carebot_outbox_last_delivery_timestamp_seconds{{platform=\"{}\"}} {}",
                label(platform),
                ms / 1000
            );
        }
    }
    let _ = writeln!(out, "# HELP carebot_alerts_unacknowledged Alerts to staff nobody has acknowledged.\n# TYPE carebot_alerts_unacknowledged gauge\ncarebot_alerts_unacknowledged {}", status.unacknowledged_alerts);
    let _ = writeln!(out, "# HELP carebot_reviews_overdue Care-plan reviews past their due date.\n# TYPE carebot_reviews_overdue gauge\ncarebot_reviews_overdue {}", status.overdue_reviews);
    if let Some(ms) = status.last_tick_ms {
        let _ = writeln!(out, "# HELP carebot_scheduler_last_run_timestamp_seconds When the scheduler last ran.\n# TYPE carebot_scheduler_last_run_timestamp_seconds gauge\ncarebot_scheduler_last_run_timestamp_seconds {}", ms / 1000);
    }
    out
}

/// Serves the endpoint on `listener` until `shutdown` resolves.
pub async fn serve(
    store: Store,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
}
