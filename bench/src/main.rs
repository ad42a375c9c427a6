//! `carebot-bench`: Carebot's benchmark harness. Simulates residents talking through the real
//! engine, store and runtime, and prints one table (see README, "Performance").
//!
//! ```sh
//! cargo run --release -p carebot-bench                 # everything, SQLite and PostgreSQL
//! cargo run --release -p carebot-bench -- turns --backend sqlite --residents 2000 --seconds 10
//! cargo run --release -p carebot-bench -- turns peer --backend sqlite   # against the peer
//! ```

mod db;
mod peer;
mod report;
mod scenarios;

use anyhow::Result;
use clap::{Parser, ValueEnum};
use db::BenchDb;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(about = "Carebot's benchmark harness")]
struct Args {
    /// Scenarios to run (default: all).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// Which backends (default: both).
    #[arg(long, value_enum)]
    backend: Vec<Backend>,
    /// The PostgreSQL server to make fresh databases on.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// Residents (default: 10,000 for turns, latency and fanout; 100,000 for idle and cold-start).
    #[arg(long)]
    residents: Option<usize>,
    /// Longest a timed scenario runs.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Residents talking at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Turns per second for the latency scenario.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// The dialogs folder.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../dialogs"))]
    dialogs: PathBuf,
    /// Also run fan-out with 100,000 residents.
    #[arg(long)]
    large: bool,
    /// The Python peer's errbot command (default: `~/.cache/carebot-peer/bin/errbot`, see
    /// `bench/peer/README.md`); the peer is skipped when it is not installed.
    #[arg(long)]
    peer_errbot: Option<String>,
    /// (internal) the cold-start probe: open `--db`, get ready, exit.
    #[arg(long, hide = true)]
    db: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Turns,
    Latency,
    Fanout,
    Idle,
    ColdStart,
    /// The Python peer (errbot) under the `turns` load; SQLite only.
    Peer,
    #[value(hide = true)]
    Probe,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.scenarios == [Scenario::Probe] {
        return scenarios::probe(args.db.as_deref().unwrap_or_default(), &args.dialogs).await;
    }
    let scenarios = if args.scenarios.is_empty() {
        vec![
            Scenario::Turns,
            Scenario::Latency,
            Scenario::Fanout,
            Scenario::Idle,
            Scenario::ColdStart,
            Scenario::Peer,
        ]
    } else {
        args.scenarios.clone()
    };
    let backends = if args.backend.is_empty() {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        args.backend.clone()
    };
    let mut rows = Vec::new();
    for backend in backends {
        for &scenario in &scenarios {
            if scenario == Scenario::Peer {
                // The peer keeps its answers in SQLite only: it runs once, beside SQLite.
                if backend == Backend::Sqlite {
                    let errbot = args
                        .peer_errbot
                        .clone()
                        .unwrap_or_else(peer::default_errbot);
                    let n = args.residents.unwrap_or(10_000);
                    eprintln!("running the Python peer with {n} residents…");
                    rows.extend(peer::peer(&errbot, n, args.concurrency, args.seconds).await?);
                }
                continue;
            }
            let pg = (backend == Backend::Postgres).then_some(args.postgres.as_str());
            let small = args.residents.unwrap_or(10_000);
            let large = args.residents.unwrap_or(100_000);
            let mut sizes = vec![small];
            if scenario == Scenario::Fanout && args.large {
                sizes.push(100_000);
            }
            for n in sizes {
                report::reset_peak_rss();
                let db = BenchDb::fresh(pg).await?;
                eprintln!(
                    "running {scenario:?} on {} with {} residents…",
                    db.backend(),
                    if matches!(scenario, Scenario::Idle | Scenario::ColdStart) {
                        large
                    } else {
                        n
                    }
                );
                let row = match scenario {
                    Scenario::Turns => {
                        scenarios::turns(
                            &db,
                            &args.dialogs,
                            n,
                            args.concurrency,
                            args.seconds,
                            None,
                        )
                        .await
                    }
                    Scenario::Latency => {
                        scenarios::turns(
                            &db,
                            &args.dialogs,
                            n,
                            args.concurrency,
                            args.seconds,
                            Some(args.rate),
                        )
                        .await
                    }
                    Scenario::Fanout => scenarios::fanout(&db, &args.dialogs, n).await,
                    Scenario::Idle => scenarios::idle(&db, &args.dialogs, large).await,
                    Scenario::ColdStart => scenarios::cold_start(&db, &args.dialogs, large).await,
                    Scenario::Probe | Scenario::Peer => unreachable_probe(),
                };
                db.drop_db().await;
                rows.push(row?);
            }
        }
    }
    println!();
    report::print(&mut rows);
    println!(
        "\nmachine: {} cores; {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    Ok(())
}

fn unreachable_probe() -> Result<report::Row> {
    anyhow::bail!("the probe runs on its own")
}
