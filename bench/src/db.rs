//! A fresh database for a run, filled with residents in bulk.

use anyhow::{Context, Result};
use carebot_core::store::Store;
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
                sqlx::query(&format!("CREATE DATABASE {name}"))
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

    /// Creates the schema, a home, and `n` residents (r1…rn) with accounts and a 09:00 check-in.
    pub async fn fill(&self, n: usize) -> Result<()> {
        let store = Store::open(&self.url).await?;
        store
            .add_home("Bench House", "Europe/London", "01632 960000")
            .await?;
        store.close().await;
        let statements = [
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
                 INSERT INTO people (home_id, handle, display_name, role, checkin_time, created_ms)
                 SELECT (SELECT MIN(id) FROM homes), 'r' || i, 'Resident ' || i, 'resident', '09:00', 0 FROM n"
            ),
            format!("INSERT INTO identities (platform, address, person_id, linked_ms) SELECT '{PLATFORM}', handle, id, 0 FROM people"),
            "INSERT INTO conversations (person_id, state, updated_ms) SELECT id, '{}', 0 FROM people".to_string(),
        ];
        if self.admin.is_some() {
            let pool = sqlx::PgPool::connect(&self.url).await?;
            for s in &statements {
                sqlx::query(s).execute(&pool).await?;
            }
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await?;
            for s in &statements {
                sqlx::query(s).execute(&pool).await?;
            }
            pool.close().await;
        }
        Ok(())
    }

    /// Drops a PostgreSQL database made for the run.
    pub async fn drop_db(&self) {
        if let Some((admin_url, name)) = &self.admin {
            if let Ok(pool) = sqlx::PgPool::connect(admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await;
                pool.close().await;
            }
        }
    }
}
