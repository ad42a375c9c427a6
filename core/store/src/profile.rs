//! The engine's profile of a person, loaded before each turn: who they are, their home and
//! keyworker, and what their role's conversations use (a resident's goals, family, consents
//! and recent numbers and requests; a family member's residents; a keyworker's residents, open
//! alerts and open requests).

use super::people::Identity;
use super::sql::staff_residents;
use super::{with_read, Result, Store, StoreError};
use carebot_engine::domain::{
    CarePlan, ConsentState, Goal, OpenRequest, Profile, RecentNumber, Relative, RequestSummary,
    Role,
};
use carebot_engine::ids::{GoalId, PersonId};
use sqlx::Row;

/// Whose profile to load: by person, or by the chat account they wrote from.
enum Whose<'a> {
    Person(PersonId),
    Account(&'a Identity),
}

impl Store {
    /// What the engine may know about `person` for a turn.
    pub async fn profile(&self, person: PersonId) -> Result<Profile> {
        self.load_profile(Whose::Person(person))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no person with id {person}")))
    }

    /// The profile of whoever holds the active chat account `id` (`None`: nobody does): what
    /// [`Store::person_for`] and [`Store::profile`] give, one round trip sooner.
    pub async fn profile_for(&self, id: &Identity) -> Result<Option<Profile>> {
        self.load_profile(Whose::Account(id)).await
    }

    async fn load_profile(&self, whose: Whose<'_>) -> Result<Option<Profile>> {
        with_read!(self, pool => {
            // Every query here is a round trip (on SQLite, a hand-off to sqlx's connection
            // thread): the person, home and keyworker come in one row, and a resident's goals,
            // family and recent numbers in one more (the bulk of turns are residents').
            macro_rules! person_row {
                () => {
                    "SELECT p.id, p.display_name, p.role, p.language, h.name AS home_name, h.phone,
                        (SELECT k.display_name FROM relations r JOIN people k ON k.id = r.person_id
                         WHERE r.resident_id = p.id AND r.relation = 'keyworker' AND r.revoked_ms IS NULL
                         ORDER BY r.id LIMIT 1) AS keyworker
                     FROM people p JOIN homes h ON h.id = p.home_id"
                };
            }
            let row = match whose {
                Whose::Person(person) => sqlx::query(concat!(person_row!(), " WHERE p.id = $1"))
                    .bind(person.0).fetch_optional(pool).await?,
                Whose::Account(id) => sqlx::query(concat!(person_row!(),
                    " WHERE p.id = (SELECT person_id FROM identities WHERE platform = $1 AND address = $2 AND revoked_ms IS NULL)"))
                    .bind(&id.platform).bind(&id.address).fetch_optional(pool).await?,
            };
            let Some(row) = row else { return Ok(None) };
            let person = PersonId(row.try_get("id")?);
            let keyworker: Option<String> = row.try_get("keyworker")?;
            let relatives = |sql: &'static str| async move {
                sqlx::query(sql).bind(person.0).fetch_all(pool).await?
                    .into_iter()
                    .map(|r| Ok(Relative { id: PersonId(r.try_get("id")?), name: r.try_get("display_name")? }))
                    .collect::<Result<Vec<_>>>()
            };
            let role: Role = row.try_get::<String, _>("role")?.parse().map_err(StoreError::Corrupt)?;
            let (mut goals, mut family, mut recent, mut requests) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            if role == Role::Resident {
                // `who`: for requests, NULL while unseen, else who saw it ('' once their name
                // is gone); for goals, who suggested it. A goal's `value` is "state cadence".
                // Every goal of theirs is loaded, achieved and dropped ones too, so a goal's
                // place in the list never moves while a check-in runs over several turns.
                let rows = sqlx::query(
                    "SELECT 'g' AS kind, g.id AS id, g.text AS text, g.state || ' ' || g.cadence AS value, CAST(NULL AS BIGINT) AS at_ms, g.id AS ord,
                            (SELECT s.display_name FROM people s WHERE s.id = g.suggested_by) AS who
                       FROM goals g WHERE g.person_id = $1
                     UNION ALL
                     SELECT 'f', p.id, p.display_name, NULL, NULL, r.id, NULL FROM relations r JOIN people p ON p.id = r.person_id
                       WHERE r.resident_id = $1 AND r.relation = 'family' AND r.revoked_ms IS NULL
                     UNION ALL
                     SELECT 'r', a.id, a.answer_key, a.value, a.answered_ms, -a.id, NULL
                       FROM (SELECT id, answer_key, value, answered_ms FROM answers WHERE person_id = $1 ORDER BY id DESC LIMIT 60) a
                     UNION ALL
                     SELECT 'q', q.id, q.request, q.outcome, q.created_ms, -q.id,
                            CASE WHEN q.acked_ms IS NULL THEN NULL
                                 ELSE COALESCE((SELECT s.display_name FROM people s WHERE s.id = COALESCE(q.closed_by, q.acked_by)), '') END
                       FROM (SELECT id, request, outcome, created_ms, acked_ms, acked_by, closed_by FROM alerts
                             WHERE person_id = $1 AND request IS NOT NULL ORDER BY id DESC LIMIT 10) q
                     ORDER BY kind, ord")
                    .bind(person.0).fetch_all(pool).await?;
                for r in rows {
                    let kind: String = r.try_get("kind")?;
                    match kind.as_str() {
                        "g" => {
                            let value: String = r.try_get("value")?;
                            let (state, cadence) = value.split_once(' ').unwrap_or((&value, "daily"));
                            goals.push(Goal {
                                id: GoalId(r.try_get("id")?),
                                text: r.try_get("text")?,
                                state: state.parse().map_err(StoreError::Corrupt)?,
                                cadence: cadence.parse().map_err(StoreError::Corrupt)?,
                                suggested_by: r.try_get("who")?,
                            });
                        }
                        "f" => family.push(Relative { id: PersonId(r.try_get("id")?), name: r.try_get("text")? }),
                        "q" => {
                            let who: Option<String> = r.try_get("who")?;
                            requests.push(RequestSummary {
                                id: r.try_get("id")?,
                                kind: r.try_get("text")?,
                                at_ms: r.try_get("at_ms")?,
                                seen: who.is_some(),
                                seen_by: who.filter(|w| !w.is_empty()),
                                outcome: r.try_get("value")?,
                            });
                        }
                        _ => {
                            // Only numbers count towards rules like "low three days running".
                            let value: Option<String> = r.try_get("value")?;
                            if let (Some(value), Ok(key), Ok(at_ms)) = (value.and_then(|v| v.parse().ok()), r.try_get("text"), r.try_get("at_ms")) {
                                recent.push(RecentNumber { key, value, at_ms });
                            }
                        }
                    }
                }
            } else {
                goals = sqlx::query("SELECT id, text, cadence FROM goals WHERE person_id = $1 AND state = 'active' ORDER BY id")
                    .bind(person.0).fetch_all(pool).await?
                    .into_iter()
                    .map(|g| {
                        let mut goal = Goal::active(GoalId(g.try_get("id")?), g.try_get::<String, _>("text")?);
                        goal.cadence = g.try_get::<String, _>("cadence")?.parse().map_err(StoreError::Corrupt)?;
                        Ok(goal)
                    })
                    .collect::<Result<Vec<_>>>()?;
            }
            // Only what this role's conversations can use is loaded.
            let (consents, family_of, caring_for) = match role {
                Role::Resident => {
                    let consents = if family.is_empty() { Vec::new() } else {
                        sqlx::query(
                            "SELECT c.family_id, c.category, c.decision, c.decided_ms FROM consents c
                             WHERE c.resident_id = $1 AND c.id = (SELECT MAX(id) FROM consents l
                                 WHERE l.resident_id = c.resident_id AND l.family_id = c.family_id AND l.category = c.category)
                             ORDER BY c.family_id, c.category")
                            .bind(person.0).fetch_all(pool).await?
                            .into_iter()
                            .map(|r| {
                                let decision: String = r.try_get("decision")?;
                                Ok(ConsentState {
                                    family: PersonId(r.try_get("family_id")?),
                                    category: r.try_get("category")?,
                                    decision: decision.parse().map_err(StoreError::Corrupt)?,
                                    decided_ms: r.try_get("decided_ms")?,
                                })
                            })
                            .collect::<Result<Vec<_>>>()?
                    };
                    (consents, Vec::new(), Vec::new())
                }
                Role::Family => {
                    let family_of = relatives(
                        "SELECT p.id, p.display_name FROM relations r JOIN people p ON p.id = r.resident_id
                         WHERE r.person_id = $1 AND r.relation = 'family' AND r.revoked_ms IS NULL ORDER BY r.id").await?;
                    (Vec::new(), family_of, Vec::new())
                }
                Role::Keyworker | Role::Manager => {
                    let caring_for = relatives(
                        "SELECT p.id, p.display_name FROM relations r JOIN people p ON p.id = r.resident_id
                         WHERE r.person_id = $1 AND r.relation IN ('keyworker', 'manager') AND r.revoked_ms IS NULL ORDER BY r.id").await?;
                    (Vec::new(), Vec::new(), caring_for)
                }
                Role::Admin => (Vec::new(), Vec::new(), Vec::new()),
            };
            let open_alerts: Vec<i64> = if matches!(role, Role::Keyworker | Role::Manager) {
                sqlx::query_scalar(concat!(
                    "SELECT a.id FROM alerts a WHERE a.acked_ms IS NULL AND a.person_id IN ",
                    staff_residents!(staff = "$1"), " ORDER BY a.id"))
                    .bind(person.0).fetch_all(pool).await?
            } else {
                Vec::new()
            };
            let open_requests: Vec<OpenRequest> = if matches!(role, Role::Keyworker | Role::Manager) {
                sqlx::query_as::<_, (i64, String, i64, String)>(concat!(
                    "SELECT a.id, a.request, a.person_id, a.reason FROM alerts a WHERE a.request IS NOT NULL AND a.closed_ms IS NULL AND a.person_id IN ",
                    staff_residents!(staff = "$1"), " ORDER BY a.id"))
                    .bind(person.0).fetch_all(pool).await?
                    .into_iter()
                    .map(|(number, kind, resident, reason)| OpenRequest { number, kind, resident: PersonId(resident), reason })
                    .collect()
            } else {
                Vec::new()
            };
            let reviews_due: Vec<(PersonId, String)> = if matches!(role, Role::Keyworker | Role::Manager) {
                sqlx::query_as::<_, (i64, String)>(concat!(
                    "SELECT v.person_id, v.next_due FROM reviews v JOIN people p ON p.id = v.person_id
                     WHERE p.erased_ms IS NULL AND v.next_due IS NOT NULL AND v.person_id IN ",
                    staff_residents!(staff = "$1"), " ORDER BY v.next_due, v.person_id"))
                    .bind(person.0).fetch_all(pool).await?
                    .into_iter()
                    .map(|(resident, due)| (PersonId(resident), due))
                    .collect()
            } else {
                Vec::new()
            };
            let expected_checkins: Vec<(PersonId, Option<String>)> = if matches!(role, Role::Keyworker | Role::Manager) {
                sqlx::query(
                    "SELECT p.id, (SELECT MAX(c.local_date) FROM checkins c
                                   WHERE c.person_id = p.id AND c.status = 'completed') AS last_done
                     FROM relations r JOIN people p ON p.id = r.resident_id
                     WHERE r.person_id = $1 AND r.relation IN ('keyworker', 'manager') AND r.revoked_ms IS NULL
                       AND p.checkin_time IS NOT NULL AND p.erased_ms IS NULL
                     ORDER BY r.id")
                    .bind(person.0).fetch_all(pool).await?
                    .into_iter()
                    .map(|r| Ok((PersonId(r.try_get("id")?), r.try_get("last_done")?)))
                    .collect::<Result<Vec<_>>>()?
            } else {
                Vec::new()
            };
            // A resident's newest care plan, with their latest answer about that version.
            let plan = if role == Role::Resident {
                let row = sqlx::query(
                    "SELECT c.id, c.version, c.sections,
                            (SELECT a.agreed FROM plan_agreements a WHERE a.plan_id = c.id ORDER BY a.id DESC LIMIT 1) AS agreed
                     FROM care_plans c WHERE c.person_id = $1 ORDER BY c.version DESC LIMIT 1")
                    .bind(person.0).fetch_optional(pool).await?;
                match row {
                    Some(r) => {
                        let sections: String = r.try_get("sections")?;
                        Some(CarePlan {
                            id: r.try_get("id")?,
                            version: r.try_get("version")?,
                            sections: serde_json::from_str(&sections)
                                .map_err(|e| StoreError::Corrupt(format!("care plan sections: {e}")))?,
                            agreed: r.try_get("agreed")?,
                        })
                    }
                    None => None,
                }
            } else {
                None
            };
            Ok(Some(Profile {
                plan,
                open_alerts,
                open_requests,
                reviews_due,
                requests,
                expected_checkins,
                caring_for,
                recent,
                family,
                family_of,
                consents,
                id: person,
                name: row.try_get("display_name")?,
                role,
                language: row.try_get("language")?,
                goals,
                keyworker,
                home_name: row.try_get("home_name")?,
                home_phone: row.try_get("phone")?,
            }))
        })
    }
}
