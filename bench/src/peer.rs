//! The Python peer: the same check-in, written as an errbot plugin (`bench/peer/`), driven by
//! the same load as the `turns` scenario, so the table can say how Carebot compares with a
//! popular framework. It is a measuring stick, not part of Carebot.
//!
//! The peer runs as a subprocess speaking a line protocol (`sender\ttext` in,
//! `R\tsender\ttext` out, see `bench/peer/backends/bench_backend.py`). Latency is from
//! writing a resident's line to reading the reply, which the plugin sends only after the
//! answer's SQLite transaction (WAL, `synchronous=FULL`) has committed.

use crate::report::{peak_rss_of, Row};
use crate::scenarios::CHECKIN;
use anyhow::{bail, ensure, Context, Result};
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::oneshot;

/// Replies awaited, by sender (each resident waits for one reply at a time).
type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<String>>>>;

/// The errbot command of the peer's virtualenv (see `bench/peer/README.md`).
pub fn default_errbot() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    format!("{home}/.cache/carebot-peer/bin/errbot")
}

/// Runs the peer with `residents` residents, `concurrency` of them checking in at once, for at
/// most `seconds`. `None` when errbot is not installed (the table then says so).
pub async fn peer(
    errbot: &str,
    residents: usize,
    concurrency: usize,
    seconds: u64,
) -> Result<Option<Row>> {
    if !Path::new(errbot).exists() {
        eprintln!("peer: {errbot} not found; see bench/peer/README.md to install it (skipped)");
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("peer.db");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/peer/config.py");
    let mut child = Command::new(errbot)
        .args(["-c", config])
        .env("PEER_DATA", dir.path())
        .env("PEER_DB", &db)
        .env("PEER_RESIDENTS", residents.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {errbot}"))?;
    let stdin = Arc::new(tokio::sync::Mutex::new(
        child.stdin.take().context("stdin")?,
    ));
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let waiting: Waiting = Arc::default();
    let router = waiting.clone();
    let reader = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let mut parts = line.splitn(3, '\t');
            if let (Some("R"), Some(to), Some(text)) = (parts.next(), parts.next(), parts.next()) {
                if let Some(reply) = router.lock().expect("not poisoned").remove(to) {
                    let _ = reply.send(text.to_string());
                }
            }
        }
    });
    // Ready when it answers an unknown account (startup, plugin and residents included).
    tokio::time::timeout(
        Duration::from_secs(60),
        say(&stdin, &waiting, "probe", "hello"),
    )
    .await
    .context("the peer did not start within 60 s")??;

    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let (stdin, waiting) = (stdin.clone(), waiting.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            'people: for resident in (task..residents).step_by(concurrency) {
                for text in CHECKIN {
                    if Instant::now() > deadline {
                        break 'people;
                    }
                    let t0 = Instant::now();
                    say(&stdin, &waiting, &format!("r{}", resident + 1), text).await?;
                    latencies.push(t0.elapsed());
                }
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    // The peer's own peak memory (the harness's is not the peer's).
    let peak_rss = child.id().map_or(0, peak_rss_of);
    drop(stdin);
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    let _ = child.kill().await;
    reader.abort();

    // What the peer stored durably, read back from its database.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answers")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    let done = latencies.len();
    ensure!(stored > 0, "the peer stored no answers");
    let per_second = done as f64 / elapsed;
    Ok(Some(Row {
        scenario: "peer (errbot, Python)".into(),
        backend: "SQLite",
        throughput: format!("{per_second:.0} turns/s"),
        per_second: Some(per_second),
        latencies,
        peak_rss,
        params: format!(
            "{residents} residents, {concurrency} at once, {done} turns in {elapsed:.1} s, {stored} answers stored; errbot {}",
            errbot_version(errbot)
        ),
    }))
}

/// Sends `text` from `sender` and waits for the reply.
async fn say(
    stdin: &tokio::sync::Mutex<ChildStdin>,
    waiting: &Waiting,
    sender: &str,
    text: &str,
) -> Result<String> {
    let (tx, rx) = oneshot::channel();
    waiting
        .lock()
        .expect("not poisoned")
        .insert(sender.to_string(), tx);
    stdin
        .lock()
        .await
        .write_all(format!("{sender}\t{text}\n").as_bytes())
        .await?;
    match rx.await {
        Ok(reply) => Ok(reply),
        Err(_) => bail!("the peer exited without replying to {sender}"),
    }
}

/// errbot's version, as its virtualenv's pip reports it.
fn errbot_version(errbot: &str) -> String {
    let pip = Path::new(errbot).with_file_name("pip");
    std::process::Command::new(pip)
        .args(["show", "errbot"])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("Version: ").map(str::to_string))
        })
        .unwrap_or_else(|| "?".into())
}
