//! Where a platform delivers to a linked account (a Discord DM channel id), remembered with the
//! identity so an adapter does not ask the platform again on every start, and so it knows
//! which conversations to look through for messages it missed while disconnected.

use super::people::Identity;
use super::{with_db, with_read, Result, Store};
use sqlx::Row;

impl Store {
    /// The delivery channel remembered for `account`, if it is linked and one is known.
    pub async fn delivery_channel(&self, account: &Identity) -> Result<Option<String>> {
        with_read!(self, pool => sqlx::query_scalar::<_, Option<String>>(
            "SELECT delivery_channel FROM identities
             WHERE platform = $1 AND address = $2 AND revoked_ms IS NULL")
            .bind(&account.platform).bind(&account.address)
            .fetch_optional(pool).await.map(Option::flatten).map_err(Into::into))
    }

    /// Remembers `channel` as where `account` is delivered to (nothing if it is not linked).
    pub async fn remember_delivery_channel(&self, account: &Identity, channel: &str) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "UPDATE identities SET delivery_channel = $3
             WHERE platform = $1 AND address = $2 AND revoked_ms IS NULL")
            .bind(&account.platform).bind(&account.address).bind(channel)
            .execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Every linked account on `platform` with a known delivery channel: (address, channel,
    /// the id of the last message handled from it, if any).
    pub async fn delivery_channels(
        &self,
        platform: &str,
    ) -> Result<Vec<(String, String, Option<i64>)>> {
        with_read!(self, pool => sqlx::query(
            "SELECT address, delivery_channel, delivery_cursor FROM identities
             WHERE platform = $1 AND revoked_ms IS NULL AND delivery_channel IS NOT NULL
             ORDER BY address")
            .bind(platform).fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((
                r.try_get("address")?,
                r.try_get("delivery_channel")?,
                r.try_get("delivery_cursor")?,
            )))
            .collect())
    }

    /// Records that the message with the platform's id `id` from `account` was handled (the
    /// cursor only moves forward).
    pub async fn advance_delivery_cursor(&self, account: &Identity, id: i64) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "UPDATE identities SET delivery_cursor = $3
             WHERE platform = $1 AND address = $2 AND revoked_ms IS NULL
               AND (delivery_cursor IS NULL OR delivery_cursor < $3)")
            .bind(&account.platform).bind(&account.address).bind(id)
            .execute(pool).await.map(|_| ())?);
        Ok(())
    }
}
