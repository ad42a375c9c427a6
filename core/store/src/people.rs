//! Homes, people, who is what to whom, chat identities and goals.

use super::conn::Sql;
use super::{with_db, with_read, Result, Store, StoreError};
use carebot_engine::domain::{ConsentState, Goal, Profile, Relative, Role};
use carebot_engine::ids::{GoalId, HomeId, PersonId};
use sqlx::Row;

/// A person as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Id.
    pub id: PersonId,
    /// The home they belong to.
    pub home: HomeId,
    /// Short unique name used on the command line (`ava`).
    pub handle: String,
    /// Name as they like to be called.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Language code.
    pub language: String,
}

/// What is needed to add a person.
#[derive(Clone, Debug)]
pub struct NewPerson<'a> {
    /// Home.
    pub home: HomeId,
    /// Unique handle.
    pub handle: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Role.
    pub role: Role,
}

/// A chat account: platform name and the platform's immutable id for the account or room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// "console", "matrix", "discord".
    pub platform: String,
    /// The platform's id for where to reach the person.
    pub address: String,
}

impl Store {
    /// Adds a home.
    pub async fn add_home(&self, name: &str, timezone: &str, phone: &str) -> Result<HomeId> {
        let id: i64 = with_db!(self, pool => sqlx::query_scalar(
            "INSERT INTO homes (name, timezone, phone) VALUES ($1, $2, $3) RETURNING id")
            .bind(name).bind(timezone).bind(phone).fetch_one(pool).await?);
        Ok(HomeId(id))
    }

    /// The homes with no phone number (residents asking for urgent help are told to ring it).
    pub async fn homes_without_phone(&self) -> Result<Vec<String>> {
        Ok(with_read!(self, pool => sqlx::query_scalar(
            "SELECT name FROM homes WHERE TRIM(phone) = '' ORDER BY id").fetch_all(pool).await?))
    }

    /// Sets the phone number of the home called `name` (any home when there is only one);
    /// how many homes changed.
    pub async fn set_home_phone(&self, name: Option<&str>, phone: &str) -> Result<u64> {
        Ok(with_db!(self, pool => sqlx::query(
            "UPDATE homes SET phone = $2 WHERE ($1 IS NULL AND (SELECT COUNT(*) FROM homes) = 1) OR name = $1")
            .bind(name).bind(phone).execute(pool).await?.rows_affected()))
    }

    /// The first home, if any (a single-home installation has exactly one).
    pub async fn first_home(&self) -> Result<Option<HomeId>> {
        let id: Option<i64> = with_read!(self, pool => sqlx::query_scalar(
            "SELECT id FROM homes ORDER BY id LIMIT 1").fetch_optional(pool).await?);
        Ok(id.map(HomeId))
    }

    /// Adds a person and their (empty) conversation.
    pub async fn add_person(&self, p: NewPerson<'_>, now_ms: i64) -> Result<PersonId> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let (id,): (i64,) = c
            .fetch_one(
                Sql::new("INSERT INTO people (home_id, handle, display_name, role, created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(p.home.0)
                    .bind(p.handle)
                    .bind(p.name)
                    .bind(p.role.as_str())
                    .bind(now_ms),
            )
            .await?;
        c.execute(
            Sql::new(
                "INSERT INTO conversations (person_id, state, updated_ms) VALUES ($1, '{}', $2)",
            )
            .bind(id)
            .bind(now_ms),
        )
        .await?;
        tx.commit().await?;
        Ok(PersonId(id))
    }

    /// A person by handle.
    pub async fn person_by_handle(&self, handle: &str) -> Result<Option<Person>> {
        with_read!(self, pool => sqlx::query(
            "SELECT id, home_id, handle, display_name, role, language FROM people WHERE handle = $1")
            .bind(handle).fetch_optional(pool).await?
            .map(|r| {
            let role: String = r.try_get("role")?;
            Ok(Person {
                id: PersonId(r.try_get("id")?),
                home: HomeId(r.try_get("home_id")?),
                handle: r.try_get("handle")?,
                name: r.try_get("display_name")?,
                role: role.parse().map_err(StoreError::Corrupt)?,
                language: r.try_get("language")?,
            })
        })
        .transpose())
    }

    /// Records that `person` is `relation` (family, keyworker, manager) to `resident`.
    pub async fn add_relation(
        &self,
        resident: PersonId,
        person: PersonId,
        relation: Role,
        now_ms: i64,
    ) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "INSERT INTO relations (resident_id, person_id, relation, created_ms) VALUES ($1, $2, $3, $4)")
            .bind(resident.0).bind(person.0).bind(relation.as_str()).bind(now_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Adds a goal the resident has agreed is theirs (asked about every day).
    pub async fn add_goal(&self, person: PersonId, text: &str, now_ms: i64) -> Result<GoalId> {
        let id: i64 = with_db!(self, pool => sqlx::query_scalar(
            "INSERT INTO goals (person_id, text, active, state, created_ms, changed_ms) VALUES ($1, $2, TRUE, 'active', $3, $3) RETURNING id")
            .bind(person.0).bind(text).bind(now_ms).fetch_one(pool).await?);
        Ok(GoalId(id))
    }

    /// Adds a goal staff suggest: the resident is asked whether it is theirs (and may reword
    /// or decline it) before it is ever asked about. `by` is who suggested it, when known.
    pub async fn suggest_goal(
        &self,
        person: PersonId,
        text: &str,
        by: Option<PersonId>,
        now_ms: i64,
    ) -> Result<GoalId> {
        let id: i64 = with_db!(self, pool => sqlx::query_scalar(
            "INSERT INTO goals (person_id, text, active, state, suggested_by, created_ms, changed_ms) VALUES ($1, $2, FALSE, 'suggested', $3, $4, $4) RETURNING id")
            .bind(person.0).bind(text).bind(by.map(|b| b.0)).bind(now_ms).fetch_one(pool).await?);
        Ok(GoalId(id))
    }

    /// Binds a chat account to a person (replacing any earlier binding of that account).
    pub async fn bind_identity(&self, id: &Identity, person: PersonId, now_ms: i64) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "INSERT INTO identities (platform, address, person_id, linked_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (platform, address) DO UPDATE SET person_id = excluded.person_id,
                 linked_ms = excluded.linked_ms, revoked_ms = NULL,
                 key_fingerprint = NULL, key_changed_ms = NULL")
            .bind(&id.platform).bind(&id.address).bind(person.0).bind(now_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Revokes a chat account's binding: it becomes an unknown account.
    pub async fn revoke_identity(&self, id: &Identity, now_ms: i64) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "UPDATE identities SET revoked_ms = $3 WHERE platform = $1 AND address = $2")
            .bind(&id.platform).bind(&id.address).bind(now_ms).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// The person an account is bound to, unless revoked.
    pub async fn person_for(&self, id: &Identity) -> Result<Option<PersonId>> {
        let person: Option<i64> = with_read!(self, pool => sqlx::query_scalar(
            "SELECT person_id FROM identities WHERE platform = $1 AND address = $2 AND revoked_ms IS NULL")
            .bind(&id.platform).bind(&id.address).fetch_optional(pool).await?);
        Ok(person.map(PersonId))
    }

    /// Where to reach a person first: their most recently linked active account.
    pub async fn preferred_identity(&self, person: PersonId) -> Result<Option<Identity>> {
        with_read!(self, pool => sqlx::query(
            "SELECT platform, address FROM identities WHERE person_id = $1 AND revoked_ms IS NULL
             ORDER BY linked_ms DESC LIMIT 1")
            .bind(person.0).fetch_optional(pool).await?
            .map(|r| Ok(Identity { platform: r.try_get("platform")?, address: r.try_get("address")? }))
            .transpose())
    }
}

impl Store {
    /// Sets (or clears) the local time of a person's daily check-in, "HH:MM".
    pub async fn set_checkin_time(&self, person: PersonId, time: Option<&str>) -> Result<()> {
        with_db!(self, pool => sqlx::query("UPDATE people SET checkin_time = $2 WHERE id = $1")
            .bind(person.0).bind(time).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Sets a resident's care-plan review interval and next due date ("YYYY-MM-DD").
    pub async fn set_review(
        &self,
        person: PersonId,
        interval_days: i32,
        next_due: &str,
    ) -> Result<()> {
        with_db!(self, pool => sqlx::query(
            "INSERT INTO reviews (person_id, interval_days, next_due) VALUES ($1, $2, $3)
             ON CONFLICT (person_id) DO UPDATE SET interval_days = excluded.interval_days, next_due = excluded.next_due")
            .bind(person.0).bind(interval_days).bind(next_due).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    /// Everyone, for `carebot people`: (handle, name, role).
    pub async fn people(&self) -> Result<Vec<(String, String, String)>> {
        with_read!(self, pool => sqlx::query("SELECT handle, display_name, role FROM people ORDER BY id")
            .fetch_all(pool).await?
            .into_iter()
            .map(|r| Ok((r.try_get("handle")?, r.try_get("display_name")?, r.try_get("role")?)))
            .collect())
    }
}

impl Store {
    /// Every resident's profile in five queries, for the scheduler's fan-out. `recent` is left
    /// empty: only a turn that stores an answer reads it, and a scheduled start stores none.
    pub async fn resident_profiles(&self) -> Result<std::collections::HashMap<PersonId, Profile>> {
        use std::collections::HashMap;
        with_read!(self, pool => {
            let mut profiles: HashMap<PersonId, Profile> = HashMap::new();
            for r in sqlx::query(
                "SELECT p.id, p.display_name, p.language, h.name AS home_name, h.phone
                 FROM people p JOIN homes h ON h.id = p.home_id WHERE p.role = 'resident'")
                .fetch_all(pool).await?
            {
                let id = PersonId(r.try_get("id")?);
                profiles.insert(id, Profile {
                    id,
                    name: r.try_get("display_name")?,
                    role: Role::Resident,
                    language: r.try_get("language")?,
                    goals: Vec::new(),
                    keyworker: None,
                    home_name: r.try_get("home_name")?,
                    home_phone: r.try_get("phone")?,
                    family: Vec::new(),
                    consents: Vec::new(),
                    family_of: Vec::new(),
                    recent: Vec::new(),
                    caring_for: Vec::new(),
                    open_alerts: Vec::new(),
                    expected_checkins: Vec::new(),
                    requests: Vec::new(),
                    open_requests: Vec::new(),
                    reviews_due: Vec::new(),
                    plan: None,
                });
            }
            // Every goal, as a turn's profile has them, so a goal's place in the list is the same.
            for r in sqlx::query("SELECT person_id, id, text, state, cadence FROM goals ORDER BY id").fetch_all(pool).await? {
                if let Some(p) = profiles.get_mut(&PersonId(r.try_get("person_id")?)) {
                    let mut goal = Goal::active(GoalId(r.try_get("id")?), r.try_get::<String, _>("text")?);
                    goal.state = r.try_get::<String, _>("state")?.parse().map_err(StoreError::Corrupt)?;
                    goal.cadence = r.try_get::<String, _>("cadence")?.parse().map_err(StoreError::Corrupt)?;
                    p.goals.push(goal);
                }
            }
            for r in sqlx::query(
                "SELECT r.resident_id, r.relation, o.id, o.display_name FROM relations r JOIN people o ON o.id = r.person_id
                 WHERE r.relation IN ('keyworker', 'family') AND r.revoked_ms IS NULL ORDER BY r.id")
                .fetch_all(pool).await?
            {
                let Some(p) = profiles.get_mut(&PersonId(r.try_get("resident_id")?)) else { continue };
                let name: String = r.try_get("display_name")?;
                match r.try_get::<String, _>("relation")?.as_str() {
                    "keyworker" => {
                        p.keyworker.get_or_insert(name);
                    }
                    _ => p.family.push(Relative { id: PersonId(r.try_get("id")?), name }),
                }
            }
            for r in sqlx::query(
                "SELECT c.resident_id, c.family_id, c.category, c.decision, c.decided_ms FROM consents c
                 WHERE c.id = (SELECT MAX(id) FROM consents l
                     WHERE l.resident_id = c.resident_id AND l.family_id = c.family_id AND l.category = c.category)
                 ORDER BY c.family_id, c.category")
                .fetch_all(pool).await?
            {
                let Some(p) = profiles.get_mut(&PersonId(r.try_get("resident_id")?)) else { continue };
                let decision: String = r.try_get("decision")?;
                p.consents.push(ConsentState {
                    family: PersonId(r.try_get("family_id")?),
                    category: r.try_get("category")?,
                    decision: decision.parse().map_err(StoreError::Corrupt)?,
                    decided_ms: r.try_get("decided_ms")?,
                });
            }
            Ok(profiles)
        })
    }

    /// Every person's most recently linked active account.
    pub async fn preferred_identities(
        &self,
    ) -> Result<std::collections::HashMap<PersonId, Identity>> {
        with_read!(self, pool => {
            let mut out = std::collections::HashMap::new();
            for r in sqlx::query("SELECT person_id, platform, address FROM identities WHERE revoked_ms IS NULL ORDER BY linked_ms")
                .fetch_all(pool).await?
            {
                out.insert(PersonId(r.try_get("person_id")?), Identity { platform: r.try_get("platform")?, address: r.try_get("address")? });
            }
            Ok(out)
        })
    }
}

impl Store {
    /// Adds `n` residents (handles `r1`…`rn`) who check in at 09:00, each with an account on
    /// `platform` and an empty conversation, in three statements so thousands take moments. For
    /// the scale tests and the benchmark; the home must exist.
    pub async fn add_numbered_residents(&self, n: usize, platform: &str) -> Result<()> {
        let people = format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
             INSERT INTO people (home_id, handle, display_name, role, checkin_time, created_ms)
             SELECT (SELECT MIN(id) FROM homes), 'r' || i, 'Resident ' || i, 'resident', '09:00', 0 FROM n"
        );
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        // Safe: the only thing formatted in is a number.
        c.execute(Sql::new(&people)).await?;
        c.execute(
            Sql::new(
                "INSERT INTO identities (platform, address, person_id, linked_ms)
                 SELECT $1, handle, id, 0 FROM people p
                 WHERE handle LIKE 'r%' AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id)",
            )
            .bind(platform),
        )
        .await?;
        c.execute(Sql::new(
            "INSERT INTO conversations (person_id, state, updated_ms)
             SELECT id, '{}', 0 FROM people p
             WHERE handle LIKE 'r%' AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.person_id = p.id)",
        ))
        .await?;
        tx.commit().await
    }
}
