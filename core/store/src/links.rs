//! One-time link codes: staff issue a code for a person; the person sends `link CODE` from their
//! chat account, which binds that account to them. Codes expire and work once.

use super::audit::{self, AuditEntry};
use super::conn::Conn;
use super::people::Identity;
use super::turn::{InboundKey, NewOutbox};
use super::{with_db, Result, Store};
use carebot_engine::ids::PersonId;
use serde_json::json;

impl Store {
    /// Stores a code for `person`, valid until `expires_ms`.
    pub async fn add_link_code(&self, person: PersonId, code: &str, expires_ms: i64) -> Result<()> {
        with_db!(self, pool => sqlx::query("INSERT INTO link_codes (code, person_id, expires_ms) VALUES ($1, $2, $3)")
            .bind(code).bind(person.0).bind(expires_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Redeems `code` for `account`: uses the code up, binds the account, writes an audit row,
    /// records the inbound event and queues the welcome `reply(name)`, all in one transaction.
    /// `None` when the code is unknown, used or expired (the caller then says no more than to
    /// any unknown account).
    pub async fn redeem_link_code<F>(
        &self,
        code: &str,
        account: &Identity,
        inbound: &InboundKey,
        now_ms: i64,
        reply: F,
    ) -> Result<Option<PersonId>>
    where
        F: FnOnce(PersonId, &str) -> NewOutbox,
    {
        let lock = if self.db().is_postgres() {
            " FOR UPDATE"
        } else {
            ""
        };
        // Safe: `lock` is one of two fixed strings above.
        let find = format!("SELECT person_id FROM link_codes WHERE code = $1 AND used_ms IS NULL AND expires_ms > $2{lock}");
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let person: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(find.as_str())).bind(code).bind(now_ms).fetch_optional(&mut *tx).await?;
            let Some(person) = person else { return Ok(None) };
            sqlx::query("UPDATE link_codes SET used_ms = $2 WHERE code = $1").bind(code).bind(now_ms).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO identities (platform, address, person_id, linked_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (platform, address) DO UPDATE SET person_id = excluded.person_id,
                     linked_ms = excluded.linked_ms, revoked_ms = NULL,
                     key_fingerprint = NULL, key_changed_ms = NULL")
                .bind(&account.platform).bind(&account.address).bind(person).bind(now_ms).execute(&mut *tx).await?;
            let entry = AuditEntry {
                // The person linked themselves. Not the account's address: audit rows hold no
                // personal text, so an erasure never has to touch the hash chain.
                actor: format!("person:{person}"),
                action: "identity.linked".into(),
                subject: Some(PersonId(person)),
                detail: json!({ "platform": account.platform }),
            };
            audit::append(&mut Conn::from(&mut *tx), &entry, now_ms).await?;
            // The link code's single use (checked above) already rules out a replay.
            let _ = super::turn::record_inbound(&mut Conn::from(&mut *tx), inbound, now_ms).await?;
            let name: String = sqlx::query_scalar("SELECT display_name FROM people WHERE id = $1").bind(person).fetch_one(&mut *tx).await?;
            let welcome = reply(PersonId(person), &name);
            super::turn::queue_message(&mut Conn::from(&mut *tx), &welcome, now_ms).await?;
            tx.commit().await?;
            Ok(Some(PersonId(person)))
        })
    }
}
