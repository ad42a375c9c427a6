//! Who is who: profiles, accounts and link codes.

use super::*;
use carebot_runtime::Handled;
use carebot_store::people::Identity;
use carebot_tests::app::PLATFORM;

pub async fn a_profile_has_active_goals_and_the_keyworker(app: TestApp) {
    let p = app.bot.store.profile(app.id("ava")).await.expect("profile");
    assert_eq!(p.name, "Ava Thompson");
    assert_eq!(p.keyworker.as_deref(), Some("Kim Patel"));
    let goals: Vec<&str> = p.goals.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(
        goals,
        ["walk to the garden", "phone my sister Sam on Sunday"]
    );
    assert_eq!(p.home_phone, "01632 960000");
}

pub async fn a_revoked_account_becomes_unknown(app: TestApp) {
    let acct = Identity {
        platform: PLATFORM.into(),
        address: "sam".into(),
    };
    assert_eq!(
        app.bot.store.person_for(&acct).await.expect("lookup"),
        Some(app.id("sam"))
    );
    app.bot
        .store
        .revoke_identity(&acct, 1)
        .await
        .expect("revoke");
    assert_eq!(app.bot.store.person_for(&acct).await.expect("lookup"), None);
    assert_eq!(
        app.handle(&inbound("sam", "e1", "how is Ava?")).await,
        Handled::UnknownAccount
    );
}

pub async fn a_link_code_links_one_account_once_and_expires(app: TestApp) {
    let now = app.clock.now_ms();
    app.bot
        .store
        .add_link_code(app.id("sam"), "K7QM-3XPA", now + 60_000)
        .await
        .expect("code");
    app.bot
        .store
        .add_link_code(app.id("ben"), "OLD0-CODE", now - 1)
        .await
        .expect("code");
    assert_eq!(
        app.handle(&inbound("@sam:home", "l1", "link k7qm-3xpa"))
            .await,
        Handled::Linked
    );
    assert_eq!(
        app.handle(&inbound("@sam:home", "l1", "link k7qm-3xpa"))
            .await,
        Handled::Duplicate
    );
    assert_eq!(
        app.bot
            .store
            .person_for(&Identity {
                platform: PLATFORM.into(),
                address: "@sam:home".into()
            })
            .await
            .expect("lookup"),
        Some(app.id("sam"))
    );
    // Used up: a second account gets the same nothing-telling reply as any stranger.
    assert_eq!(
        app.handle(&inbound("@eve:evil", "l2", "link K7QM-3XPA"))
            .await,
        Handled::UnknownAccount
    );
    assert_eq!(
        app.handle(&inbound("@eve:evil", "l3", "link OLD0-CODE"))
            .await,
        Handled::UnknownAccount,
        "expired"
    );
    let out = app.deliver().await;
    assert_eq!(out[0], ("@sam:home".to_string(), "Thank you, Sam. This account is now linked to you. Say \"help\" to see what you can do.".to_string()));
    assert!(out[1..]
        .iter()
        .all(|(_, t)| t.starts_with("Hello. I don't know this account yet.")));
    let audit = app.bot.store.audit_of(app.id("sam")).await.expect("audit");
    assert_eq!(
        audit
            .iter()
            .filter(|(a, _, _)| a == "identity.linked")
            .count(),
        1
    );
}

/// The scheduler's bulk loader and the per-turn loader are two queries for one thing:
/// they must agree (apart from recent answers, which only the per-turn loader reads).
pub async fn profiles_loaded_in_bulk_match_profiles_loaded_one_by_one(app: TestApp) {
    share_mood_with_sam(&app).await;
    app.add_residents(3).await;
    let bulk = app.bot.store.resident_profiles().await.expect("bulk");
    assert_eq!(bulk.len(), 5, "ava, ben and three more");
    for (id, from_bulk) in &bulk {
        let mut one = app.bot.store.profile(*id).await.expect("profile");
        one.recent.clear();
        assert_eq!(&one, from_bulk);
    }
    assert_eq!(bulk[&app.id("ava")].consents.len(), 3);
    assert_eq!(bulk[&app.id("ava")].keyworker.as_deref(), Some("Kim Patel"));
}

pub async fn a_delivery_channel_is_remembered_for_a_linked_account_only(app: TestApp) {
    let store = &app.bot.store;
    let sam = Identity {
        platform: PLATFORM.into(),
        address: "sam".into(),
    };
    let stranger = Identity {
        platform: PLATFORM.into(),
        address: "nobody".into(),
    };
    assert_eq!(store.delivery_channel(&sam).await.expect("read"), None);
    store
        .remember_delivery_channel(&sam, "c-42")
        .await
        .expect("remember");
    store
        .remember_delivery_channel(&stranger, "c-99")
        .await
        .expect("a stranger changes nothing");
    assert_eq!(
        store.delivery_channel(&sam).await.expect("read").as_deref(),
        Some("c-42")
    );
    assert_eq!(store.delivery_channel(&stranger).await.expect("read"), None);
    assert_eq!(
        store.delivery_channels(PLATFORM).await.expect("list"),
        [("sam".to_string(), "c-42".to_string(), None)]
    );
    // The cursor only moves forward.
    for id in [7, 9, 8] {
        store
            .advance_delivery_cursor(&sam, id)
            .await
            .expect("advance");
    }
    assert_eq!(
        store.delivery_channels(PLATFORM).await.expect("list")[0].2,
        Some(9)
    );
    // Unlinked, the account's channel is no longer used.
    store.revoke_identity(&sam, 1).await.expect("revoke");
    assert_eq!(store.delivery_channel(&sam).await.expect("read"), None);
    assert!(store
        .delivery_channels(PLATFORM)
        .await
        .expect("list")
        .is_empty());
}

/// Goals are the resident's: a staff suggestion is asked about first and taken only when she
/// says so; each change she makes is kept in the goal's history and audited without her
/// words; her keyworker's digest lists the day's changes; the export holds the history;
/// erasure leaves none of it.
pub async fn goals_are_the_residents_own_and_each_change_is_kept(app: TestApp) {
    let (ava, kim) = (app.id("ava"), app.id("kim"));
    let now = app.clock.now_ms();
    app.bot
        .store
        .suggest_goal(ava, "walk to the shop", Some(kim), now)
        .await
        .expect("suggest");
    // A suggestion is never asked about in the check-in until she takes it.
    let p = app.bot.store.profile(ava).await.expect("profile");
    assert_eq!(p.goals.len(), 3);
    let active = |p: &carebot_engine::domain::Profile| {
        p.goals
            .iter()
            .filter(|g| g.state == carebot_engine::domain::GoalState::Active)
            .map(|g| g.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        active(&p),
        ["walk to the garden", "phone my sister Sam on Sunday"]
    );

    let out = app.say("ava", "my goals").await;
    assert!(
        out.iter()
            .any(|(to, t)| to == "ava" && t.contains("Kim Patel suggested a goal")),
        "{out:?}"
    );
    app.say("ava", "walk to the corner shop on my own").await;
    app.say("ava", "add a goal").await;
    app.say("ava", "knit a scarf for Ben").await;
    let p = app.bot.store.profile(ava).await.expect("profile");
    assert_eq!(
        active(&p),
        [
            "walk to the garden",
            "phone my sister Sam on Sunday",
            "walk to the corner shop on my own",
            "knit a scarf for Ben"
        ]
    );
    // Ben has no goals to change, and Ava's are not his.
    app.clock.advance(chrono::Duration::minutes(5));
    let out = app.say("ben", "my goals").await;
    assert!(
        out.iter()
            .all(|(to, t)| to == "ben" && !t.contains("garden")),
        "{out:?}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM goal_changes WHERE person_id = {}",
            app.id("ben").0
        ))
        .await,
        0
    );

    let history = app
        .count(&format!(
            "SELECT COUNT(*) FROM goal_changes WHERE person_id = {} AND change IN ('accepted_reworded', 'added')",
            ava.0
        ))
        .await;
    assert_eq!(history, 2);
    let audit = app.bot.store.audit_of(ava).await.expect("audit");
    let changes: Vec<String> = audit
        .iter()
        .filter(|(a, _, _)| a == "goal.changed")
        .map(|(_, _, d)| d["change"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(changes, ["accepted_reworded", "added"]);
    assert!(!audit
        .iter()
        .any(|(_, _, d)| d.to_string().contains("scarf") || d.to_string().contains("corner")));

    // Her keyworker's digest the next morning lists the day's changes.
    app.clock.advance(chrono::Duration::hours(23));
    app.bot.tick().await.expect("tick");
    let out = app.deliver().await;
    let digest = out
        .iter()
        .find(|(to, t)| to == "kim" && t.contains("Goals:"))
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    assert!(
        digest.contains("\"knit a scarf for Ben\" added")
            && digest.contains("\"walk to the corner shop on my own\" taken on in their own words"),
        "{out:?}"
    );

    let export = app
        .bot
        .store
        .export_person("ava", "cli:test", app.clock.now_ms())
        .await
        .expect("export");
    let history = export["goal_history"].to_string();
    assert!(
        history.contains("knit a scarf for Ben") && history.contains("accepted_reworded"),
        "{history}"
    );

    carebot_runtime::admin::erase(&app.bot.store, "ava", None, "cli:test", app.clock.now_ms())
        .await
        .expect("erase");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM goal_changes WHERE person_id = {}",
            ava.0
        ))
        .await,
        0
    );
}
