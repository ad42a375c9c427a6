//! A fresh database for a run, filled with residents in bulk.

use anyhow::{Context, Result};
use carebot_store::Store;
use chrono::Utc;

/// The platform the benchmark's residents talk on.
pub const PLATFORM: &str = "bench";

/// A database made for one run; a PostgreSQL one is dropped afterwards.
pub struct BenchDb {
    /// Its URL.
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl BenchDb {
    /// A fresh SQLite file, or a fresh database on the PostgreSQL server `postgres_url` names.
    pub async fn fresh(postgres_url: Option<&str>) -> Result<Self> {
        match postgres_url {
            None => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                Ok(Self {
                    url,
                    admin: None,
                    _dir: Some(dir),
                })
            }
            Some(admin_url) => {
                let name = format!("carebot_bench_{}", Utc::now().timestamp_micros());
                let pool = sqlx::PgPool::connect(admin_url)
                    .await
                    .with_context(|| format!("connecting to {admin_url}"))?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await?;
                pool.close().await;
                let (server, _) = admin_url
                    .rsplit_once('/')
                    .context("the PostgreSQL URL needs a database name")?;
                Ok(Self {
                    url: format!("{server}/{name}"),
                    admin: Some((admin_url.to_string(), name)),
                    _dir: None,
                })
            }
        }
    }

    /// "SQLite" or "PostgreSQL".
    pub fn backend(&self) -> &'static str {
        if self.admin.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// Creates the schema, a home, and `n` residents (r1…rn) with accounts and a 09:00 check-in
    /// (see `carebot_runtime::demo::add_residents`).
    pub async fn fill(&self, n: usize) -> Result<()> {
        let store = Store::open(&self.url).await?;
        store
            .add_home("Bench House", "Europe/London", "01632 960000")
            .await?;
        carebot_runtime::demo::add_residents(&store, n, PLATFORM).await?;
        store.close().await;
        Ok(())
    }

    /// One number straight from the database (`SELECT COUNT(*) ...`), to check what a
    /// scenario left there without going through Carebot.
    pub async fn count(&self, sql: &str) -> Result<i64> {
        if self.admin.is_some() {
            let pool = sqlx::PgPool::connect(&self.url).await?;
            let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&pool)
                .await?;
            pool.close().await;
            Ok(n)
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await?;
            let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_one(&pool)
                .await?;
            pool.close().await;
            Ok(n)
        }
    }

    /// Drops a PostgreSQL database made for the run.
    pub async fn drop_db(&self) {
        if let Some((admin_url, name)) = &self.admin {
            if let Ok(pool) = sqlx::PgPool::connect(admin_url).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&pool)
                .await;
                pool.close().await;
            }
        }
    }
}
