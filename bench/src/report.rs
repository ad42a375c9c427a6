//! Measuring and printing: latency percentiles, peak memory, the results table.

use std::time::Duration;

/// One row of the results table.
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Backend.
    pub backend: &'static str,
    /// What was counted per second, with its unit ("3120 turns/s").
    pub throughput: String,
    /// Turns per second, for rows that count turns (the Carebot/peer ratio is taken from these).
    pub per_second: Option<f64>,
    /// Latencies of the individual operations, if any.
    pub latencies: Vec<Duration>,
    /// Peak resident memory of this process so far, in bytes.
    pub peak_rss: u64,
    /// What was run.
    pub params: String,
}

/// Peak resident set size of this process (Linux `VmHWM`), in bytes.
pub fn peak_rss() -> u64 {
    field_kb("VmHWM:") * 1024
}

/// Current resident set size (Linux `VmRSS`), in bytes.
pub fn rss() -> u64 {
    field_kb("VmRSS:") * 1024
}

/// Peak resident set size of process `pid` (the Python peer), in bytes.
pub fn peak_rss_of(pid: u32) -> u64 {
    field_kb_in(&format!("/proc/{pid}/status"), "VmHWM:") * 1024
}

/// Starts a new peak: Linux resets `VmHWM` to the current RSS when "5" is written to
/// `clear_refs`, so each scenario's row shows its own peak, not the largest run before it.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn field_kb(name: &str) -> u64 {
    field_kb_in("/proc/self/status", name)
}

fn field_kb_in(path: &str, name: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(i).copied()
}

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.2}", d.as_secs_f64() * 1000.0))
        .unwrap_or_else(|| "-".into())
}

/// Prints the table.
pub fn print(rows: &mut [Row]) {
    println!("| scenario | backend | throughput | p50 ms | p99 ms | p99.9 ms | max ms | peak RSS | parameters |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows.iter_mut() {
        r.latencies.sort();
        let l = &r.latencies;
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} MiB | {} |",
            r.scenario,
            r.backend,
            r.throughput,
            ms(percentile(l, 50.0)),
            ms(percentile(l, 99.0)),
            ms(percentile(l, 99.9)),
            ms(l.last().copied()),
            r.peak_rss as f64 / (1024.0 * 1024.0),
            r.params
        );
    }
    // Carebot against the Python peer, on the same load and the same durability (SQLite).
    let rate = |scenario: &str| {
        rows.iter()
            .find(|r| r.backend == "SQLite" && r.scenario.starts_with(scenario))
            .and_then(|r| r.per_second)
    };
    if let (Some(carebot), Some(peer)) = (rate("turns"), rate("peer")) {
        println!(
            "\nCarebot/peer throughput (SQLite, same load): {:.1}× ({carebot:.0} vs {peer:.0} turns/s)",
            carebot / peer
        );
    }
}
