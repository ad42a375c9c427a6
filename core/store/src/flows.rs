//! Flow versions. Each version a conversation may be pinned to is kept here, so a changed or
//! deleted flow file never strands a conversation halfway through.

use super::{with_db, with_read, Result, Store};

impl Store {
    /// Remembers a flow version (no-op when already stored).
    pub async fn save_flow_version(
        &self,
        flow: &str,
        version: &str,
        source: &str,
        now_ms: i64,
    ) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "INSERT INTO flow_versions (flow, version, source, first_seen_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (flow, version) DO NOTHING")
            .bind(flow).bind(version).bind(source).bind(now_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// The sources of every stored flow version.
    pub async fn flow_sources(&self) -> Result<Vec<String>> {
        Ok(
            with_read!(self, pool => sqlx::query_scalar("SELECT source FROM flow_versions ORDER BY first_seen_ms")
            .fetch_all(pool).await?),
        )
    }
}
