//! The demo care home, *Rowan House*: used by `carebot demo` and by the test harness, so the
//! conversations people try are the ones the tests prove.
//!
//! Ava (resident, two goals, checks in at 09:30) and Ben (resident, no goals, no check-in time yet) have Kim as keyworker and Maria as
//! manager; Sam is Ava's family.

use crate::domain::Role;
use crate::ids::PersonId;
use crate::store::people::{Identity, NewPerson};
use crate::store::{Result, Store};
use std::collections::BTreeMap;

/// The people of the demo home: handle, name, role.
pub const PEOPLE: &[(&str, &str, Role)] = &[
    ("ava", "Ava Thompson", Role::Resident),
    ("ben", "Ben Okafor", Role::Resident),
    ("kim", "Kim Patel", Role::Keyworker),
    ("maria", "Maria Lopez", Role::Manager),
    ("sam", "Sam Thompson", Role::Family),
];

/// Creates the demo home, binding each person's handle as their account on `platform`.
/// Returns handle → id.
pub async fn seed(
    store: &Store,
    platform: &str,
    now_ms: i64,
) -> Result<BTreeMap<String, PersonId>> {
    let home = store
        .add_home("Rowan House", "Europe/London", "01632 960000")
        .await?;
    let mut people = BTreeMap::new();
    for &(handle, name, role) in PEOPLE {
        let id = store
            .add_person(
                NewPerson {
                    home,
                    handle,
                    name,
                    role,
                },
                now_ms,
            )
            .await?;
        let account = Identity {
            platform: platform.into(),
            address: handle.into(),
        };
        store.bind_identity(&account, id, now_ms).await?;
        people.insert(handle.to_string(), id);
    }
    let (ava, ben) = (people["ava"], people["ben"]);
    store.add_goal(ava, "walk to the garden", now_ms).await?;
    store
        .add_goal(ava, "phone my sister Sam on Sunday", now_ms)
        .await?;
    store.set_checkin_time(ava, Some("09:30")).await?;
    for resident in [ava, ben] {
        store
            .add_relation(resident, people["kim"], Role::Keyworker, now_ms)
            .await?;
        store
            .add_relation(resident, people["maria"], Role::Manager, now_ms)
            .await?;
    }
    store
        .add_relation(ava, people["sam"], Role::Family, now_ms)
        .await?;
    Ok(people)
}

/// Adds `n` residents (handles `r1`…`rn`) who check in at 09:00, each with an account on
/// `platform` and an empty conversation, in three statements so thousands take moments. For
/// the scale tests and the benchmark; the home must exist.
pub async fn add_residents(store: &Store, n: usize, platform: &str) -> Result<()> {
    let people = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO people (home_id, handle, display_name, role, checkin_time, created_ms)
         SELECT (SELECT MIN(id) FROM homes), 'r' || i, 'Resident ' || i, 'resident', '09:00', 0 FROM n"
    );
    crate::store::with_db!(store, pool => {
        let mut tx = pool.begin().await?;
        // Safe: the only thing formatted in is a number.
        sqlx::query(sqlx::AssertSqlSafe(people.as_str())).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO identities (platform, address, person_id, linked_ms)
             SELECT $1, handle, id, 0 FROM people p
             WHERE handle LIKE 'r%' AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.person_id = p.id)")
            .bind(platform).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO conversations (person_id, state, updated_ms)
             SELECT id, '{}', 0 FROM people p
             WHERE handle LIKE 'r%' AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.person_id = p.id)")
            .execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}
