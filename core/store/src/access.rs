//! What the access table needs from the database: a person's role and what they are to a
//! record's owner (from active relations only), and revoking a person's chat accounts.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
use super::{with_read, Result, Store, StoreError};
use carebot_engine::access::{allowed, Action, Actor, Decision, Relation, Resource};
use carebot_engine::domain::Role;
use carebot_engine::ids::PersonId;

impl Store {
    /// What `actor` is to `owner` now. Revoked relations count for nothing.
    pub async fn relation_between(&self, actor: PersonId, owner: PersonId) -> Result<Relation> {
        if actor == owner {
            return Ok(Relation::Themself);
        }
        let relations: Vec<String> = with_read!(self, pool => sqlx::query_scalar(
            "SELECT relation FROM relations WHERE person_id = $1 AND resident_id = $2 AND revoked_ms IS NULL ORDER BY id")
            .bind(actor.0).bind(owner.0).fetch_all(pool).await?);
        // A person has one role, so at most one kind of relation fits it; prefer the closest.
        Ok(
            match relations
                .iter()
                .map(String::as_str)
                .min_by_key(|r| match *r {
                    "keyworker" => 0,
                    "manager" => 1,
                    _ => 2,
                }) {
                Some("keyworker") => Relation::Keyworker,
                Some("manager") => Relation::Manager,
                Some("family") => Relation::Family,
                _ => Relation::Unrelated,
            },
        )
    }

    /// A person's role.
    pub async fn role_of(&self, person: PersonId) -> Result<Role> {
        let role: Option<String> = with_read!(self, pool => sqlx::query_scalar(
            "SELECT role FROM people WHERE id = $1").bind(person.0).fetch_optional(pool).await?);
        role.ok_or_else(|| StoreError::NotFound(format!("no person with id {person}")))?
            .parse()
            .map_err(StoreError::Corrupt)
    }

    /// The access table's answer for `actor` (`None`: an unlinked or revoked account) doing
    /// `action` to `owner`'s `resource`, with role and relation read from the database now.
    pub async fn access(
        &self,
        actor: Option<PersonId>,
        action: Action,
        resource: Resource,
        owner: PersonId,
    ) -> Result<Decision> {
        let Some(actor) = actor else {
            return Ok(allowed(
                Actor::Unlinked,
                action,
                resource,
                Relation::Unrelated,
            ));
        };
        let role = self.role_of(actor).await?;
        let relation = self.relation_between(actor, owner).await?;
        Ok(allowed(Actor::Person(role), action, resource, relation))
    }

    /// Revokes every active chat account of `person` (a lost phone, a family member who is
    /// no longer welcome): each becomes an unknown account at once. Audited. Returns how many.
    pub async fn revoke_links(&self, person: PersonId, actor: &str, now_ms: i64) -> Result<u64> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let n = c
            .execute(
                Sql::new("UPDATE identities SET revoked_ms = $2 WHERE person_id = $1 AND revoked_ms IS NULL")
                    .bind(person.0)
                    .bind(now_ms),
            )
            .await?;
        let entry = AuditEntry {
            actor: actor.into(),
            action: "identity.revoked".into(),
            subject: Some(person),
            detail: serde_json::json!({ "accounts": n }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        tx.commit().await?;
        Ok(n)
    }
}
