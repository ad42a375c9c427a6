//! One-time link codes: staff issue a code for a person; the person sends `link CODE` from their
//! chat account, which binds that account to them. Codes expire and work once.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
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
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let person: Option<(i64,)> = c
            .fetch_optional(Sql::new(&find).bind(code).bind(now_ms))
            .await?;
        let Some((person,)) = person else {
            return Ok(None);
        };
        c.execute(
            Sql::new("UPDATE link_codes SET used_ms = $2 WHERE code = $1")
                .bind(code)
                .bind(now_ms),
        )
        .await?;
        c.execute(
            Sql::new(
                "INSERT INTO identities (platform, address, person_id, linked_ms) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (platform, address) DO UPDATE SET person_id = excluded.person_id,
                     linked_ms = excluded.linked_ms, revoked_ms = NULL,
                     key_fingerprint = NULL, key_changed_ms = NULL",
            )
            .bind(account.platform.as_str())
            .bind(account.address.as_str())
            .bind(person)
            .bind(now_ms),
        )
        .await?;
        let entry = AuditEntry {
            // The person linked themselves. Not the account's address: audit rows hold no
            // personal text, so an erasure never has to touch the hash chain.
            actor: format!("person:{person}"),
            action: "identity.linked".into(),
            subject: Some(PersonId(person)),
            detail: json!({ "platform": account.platform }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        // The link code's single use (checked above) already rules out a replay.
        let _ = super::turn::record_inbound(&mut c, inbound, now_ms).await?;
        let (name,): (String,) = c
            .fetch_one(Sql::new("SELECT display_name FROM people WHERE id = $1").bind(person))
            .await?;
        let welcome = reply(PersonId(person), &name);
        super::turn::queue_message(&mut c, &welcome, now_ms).await?;
        tx.commit().await?;
        Ok(Some(PersonId(person)))
    }
}
