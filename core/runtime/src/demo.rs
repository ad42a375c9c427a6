//! The demo care home, *Rowan House*: used by `carebot demo` and by the test harness, so the
//! conversations people try are the ones the tests prove.
//!
//! Ava (resident, two goals, checks in at 09:30) and Ben (resident, no goals, no check-in time yet) have Kim as keyworker and Maria as
//! manager; Sam is Ava's family.

use carebot_engine::domain::Role;
use carebot_engine::ids::PersonId;
use carebot_store::people::{Identity, NewPerson};
use carebot_store::{Result, Store};
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
    store.add_numbered_residents(n, platform).await
}
