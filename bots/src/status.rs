//! `carebot status`, as text for an operator.

use carebot_store::status::Status;
use chrono::DateTime;

/// The status as lines of text.
pub fn render(s: &Status) -> String {
    let when = |ms: Option<i64>| {
        ms.and_then(DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "never".into())
    };
    let mut out = String::from("Deliveries by channel:\n");
    if s.channels.is_empty() {
        out.push_str("  (nothing sent yet)\n");
    }
    for (platform, pending, sent, dead, withdrawn, last) in &s.channels {
        out.push_str(&format!(
            "  {platform:<10} waiting {pending}, sent {sent}, dead letters {dead}, withdrawn {withdrawn}; last delivered {}\n",
            when(*last)
        ));
    }
    out.push_str(&format!(
        "Alerts not yet acknowledged: {}\n",
        s.unacknowledged_alerts
    ));
    out.push_str(&format!(
        "Care-plan reviews overdue: {}\n",
        s.overdue_reviews
    ));
    for (platform, n) in &s.unreadable {
        out.push_str(&format!(
            "Messages that could not be read on {platform}: {n} (the senders were told; see README 'Matrix: unreadable messages')\n"
        ));
    }
    out.push_str(&format!("Scheduler last ran: {}\n", when(s.last_tick_ms)));
    out
}
