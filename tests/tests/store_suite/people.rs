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

/// A care plan is the resident's to read and agree: each time staff write it is a new
/// version and she is told; her answer is kept with that version, the plan's exact text and
/// the channel, and a disagreement reaches her keyworker in her words; nothing is
/// overwritten; the audit names versions, never words; only a resident has a plan, and
/// another resident reads none of hers; the export holds it all and erasure leaves none.
pub async fn a_care_plan_is_versioned_and_each_answer_is_kept(app: TestApp) {
    use carebot_engine::domain::PlanSection;
    let (ava, kim) = (app.id("ava"), app.id("kim"));
    let plan = |wash: &str| {
        vec![
            PlanSection {
                title: "What matters to me".into(),
                text: "Seeing Sam on Sundays.".into(),
            },
            PlanSection {
                title: "How I like to be supported".into(),
                text: format!("Help to wash at {wash}."),
            },
        ]
    };
    // Only a resident has a care plan.
    assert!(set_plan(&app, kim, plan("8")).await.is_err());
    assert_eq!(set_plan(&app, ava, plan("8")).await.expect("v1"), 1);
    let out = app.deliver().await;
    assert!(
        out.iter()
            .any(|(to, t)| to == "ava" && t.contains("updated (version 1)")),
        "{out:?}"
    );

    let out = app.say("ava", "show me my care plan").await;
    assert!(
        out.iter()
            .any(|(to, t)| to == "ava" && t.contains("Help to wash at 8.")),
        "{out:?}"
    );
    app.say("ava", "no").await;
    let out = app.say("ava", "8 is too early for me").await;
    assert!(
        out.iter()
            .any(|(to, t)| to == "kim" && t.contains("\"8 is too early for me\"")),
        "{out:?}"
    );
    let agreements = |sql: &str| {
        format!(
            "SELECT COUNT(*) FROM plan_agreements WHERE person_id = {} AND {sql}",
            ava.0
        )
    };
    assert_eq!(
        app.count(&agreements(&format!(
            "version = 1 AND NOT agreed AND words = '8 is too early for me' AND wording LIKE '%Help to wash at 8.%' AND channel = '{PLATFORM}'"
        )))
        .await,
        1
    );

    app.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(set_plan(&app, ava, plan("9")).await.expect("v2"), 2);
    app.deliver().await;
    app.clock.advance(chrono::Duration::minutes(10));
    app.say("ava", "show me my care plan").await;
    app.say("ava", "yes").await;
    // Version 2 agreed; version 1's answer is still there as it was.
    assert_eq!(
        app.count(&agreements(
            "version = 2 AND agreed AND words IS NULL AND wording LIKE '%Help to wash at 9.%'"
        ))
        .await,
        1
    );
    assert_eq!(app.count(&agreements("TRUE")).await, 2);
    let p = app.bot.store.profile(ava).await.expect("profile");
    assert_eq!(
        p.plan.as_ref().map(|p| (p.version, p.agreed)),
        Some((2, Some(true)))
    );

    // Ben has no plan, and reads nothing of Ava's.
    app.clock.advance(chrono::Duration::minutes(10));
    let out = app.say("ben", "show me my care plan").await;
    assert!(
        out.iter().all(|(to, t)| to == "ben"
            && !t.contains("wash")
            && t.contains("don't have a care plan")),
        "{out:?}"
    );

    let audit = app.bot.store.audit_of(ava).await.expect("audit");
    let actions: Vec<&str> = audit
        .iter()
        .map(|(a, _, _)| a.as_str())
        .filter(|a| a.starts_with("plan."))
        .collect();
    assert_eq!(
        actions,
        [
            "plan.written",
            "plan.not_agreed",
            "plan.written",
            "plan.agreed"
        ]
    );
    assert!(!audit
        .iter()
        .any(|(_, _, d)| d.to_string().contains("wash") || d.to_string().contains("early")));

    let export = app
        .bot
        .store
        .export_person("ava", "cli:test", app.clock.now_ms())
        .await
        .expect("export");
    let text = export["care_plan_agreements"].to_string();
    assert!(
        text.contains("too early") && text.contains("Help to wash at 9."),
        "{text}"
    );
    assert_eq!(export["care_plans"].as_array().map(Vec::len), Some(2));

    carebot_runtime::admin::erase(&app.bot.store, "ava", None, "cli:test", app.clock.now_ms())
        .await
        .expect("erase");
    assert_eq!(app.count(&agreements("TRUE")).await, 0);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM care_plans WHERE person_id = {}",
            ava.0
        ))
        .await,
        0
    );
}

/// Kim writes `person` a new version of their care plan, as `carebot plan-set` does.
async fn set_plan(
    app: &TestApp,
    person: carebot_engine::ids::PersonId,
    sections: Vec<carebot_engine::domain::PlanSection>,
) -> carebot_store::Result<i64> {
    carebot_runtime::admin::set_plan(
        &app.bot.store,
        &app.bot.dialogs.system,
        person,
        &sections,
        "staff:kim",
        app.clock.now_ms(),
    )
    .await
}
