//! The demo care home: a few residents with goals, their keyworker, a manager and a family
//! member, so `carebot demo` has someone to talk to. Seeding happens once; rerunning the demo
//! reopens the same file and carries on.

use anyhow::Result;
use carebot_core::domain::Role;
use carebot_core::runtime::Carebot;
use carebot_core::store::people::{Identity, NewPerson};

/// Where the demo lives.
pub const DEMO_DB: &str = "sqlite://carebot-demo.db";

/// Creates the demo home unless it is already there.
pub async fn seed(bot: &Carebot) -> Result<()> {
    let store = &bot.store;
    if store.first_home().await?.is_some() {
        return Ok(());
    }
    let now = bot.clock.now().timestamp_millis();
    let home = store
        .add_home("Rowan House", "Europe/London", "01632 960000")
        .await?;
    let add = |handle: &'static str, name: &'static str, role: Role| {
        let store = store.clone();
        async move {
            let id = store
                .add_person(
                    NewPerson {
                        home,
                        handle,
                        name,
                        role,
                    },
                    now,
                )
                .await?;
            store
                .bind_identity(
                    &Identity {
                        platform: crate::console::PLATFORM.into(),
                        address: handle.into(),
                    },
                    id,
                    now,
                )
                .await?;
            anyhow::Ok(id)
        }
    };
    let ava = add("ava", "Ava Thompson", Role::Resident).await?;
    let ben = add("ben", "Ben Okafor", Role::Resident).await?;
    let kim = add("kim", "Kim Patel", Role::Keyworker).await?;
    let maria = add("maria", "Maria Lopez", Role::Manager).await?;
    let sam = add("sam", "Sam Thompson", Role::Family).await?;
    store.add_goal(ava, "walk to the garden", now).await?;
    store
        .add_goal(ava, "phone my sister Sam on Sunday", now)
        .await?;
    store
        .add_goal(ben, "help with the vegetable beds", now)
        .await?;
    for resident in [ava, ben] {
        store
            .add_relation(resident, kim, Role::Keyworker, now)
            .await?;
        store
            .add_relation(resident, maria, Role::Manager, now)
            .await?;
    }
    store.add_relation(ava, sam, Role::Family, now).await?;
    Ok(())
}
