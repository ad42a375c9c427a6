//! What a `for_each` step repeats over: a resident's goals, each family member × each
//! consent category, the pairs of those the resident said "ask me later" about, or their
//! care plan (one item, or none when staff have not written one). One
//! question, asked once per item, with the item in its template.

use super::Context;
use crate::domain::{CarePlan, Decision, Goal, GoalState, Relative};
use crate::flow::model::ForEach;
use crate::flow::system::Category;
use chrono::Datelike;
use serde_json::{json, Map, Value};

/// One item of a `for_each` step.
pub(super) enum Item<'a> {
    /// One of the resident's goals.
    Goal(&'a Goal),
    /// A goal staff suggested, not yet taken or declined.
    Suggested(&'a Goal),
    /// The resident's newest care plan.
    Plan(&'a CarePlan),
    /// Whether `category` may be shared with `family`.
    Consent {
        family: &'a Relative,
        category: &'a Category,
    },
}

/// How many places the list of `for_each` has for this person (for `consent_later`, the
/// whole family × category grid: only some of its places are asked about, see [`next`]).
fn places(ctx: &Context<'_>, for_each: ForEach) -> usize {
    match for_each {
        ForEach::Goals | ForEach::SuggestedGoals => ctx.profile.goals.len(),
        ForEach::Plan => usize::from(ctx.profile.plan.is_some()),
        ForEach::Consent | ForEach::ConsentLater => {
            ctx.profile.family.len() * ctx.dialogs.system.category.len()
        }
    }
}

/// The first place at or after `from` that is asked about, in a run that began at
/// `started_ms`; `None` when the list is done. Every place of a list is asked about except in
/// `consent_later`, where only the pairs whose decision in force is "ask me later", made
/// before the run began, are. An answer in the run (yes, no, or "later" again) is made after
/// it began, so a pair is asked once; and only the pair being answered changes in a turn, so
/// the places after it read the same before and after the answer is stored.
pub(super) fn next(
    ctx: &Context<'_>,
    for_each: Option<ForEach>,
    from: usize,
    started_ms: Option<i64>,
) -> Option<usize> {
    let for_each = for_each?;
    let places = places(ctx, for_each);
    match for_each {
        // Goals: only active ones due on the weekday the run began (home time), so a
        // check-in that runs past midnight asks the same goals throughout.
        ForEach::Goals => {
            let day = started_ms
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.with_timezone(&ctx.settings.timezone).weekday());
            return (from..places).find(|&i| {
                ctx.profile.goals.get(i).is_some_and(|g| {
                    g.state == GoalState::Active && day.is_none_or(|d| g.cadence.due(d))
                })
            });
        }
        ForEach::SuggestedGoals => {
            return (from..places).find(|&i| {
                ctx.profile
                    .goals
                    .get(i)
                    .is_some_and(|g| g.state == GoalState::Suggested)
            });
        }
        ForEach::Consent | ForEach::Plan => return (from < places).then_some(from),
        ForEach::ConsentLater => {}
    }
    (from..places).find(|&place| match get(ctx, Some(for_each), place) {
        Some(Item::Consent { family, category }) => ctx.profile.consents.iter().any(|c| {
            c.family == family.id
                && c.category == category.id
                && c.decision == Decision::Later
                && started_ms.is_none_or(|start| c.decided_ms < start)
        }),
        _ => false,
    })
}

/// Item `index` (family members in turn, each with every category).
pub(super) fn get<'a>(
    ctx: &Context<'a>,
    for_each: Option<ForEach>,
    index: usize,
) -> Option<Item<'a>> {
    match for_each? {
        ForEach::Goals => ctx.profile.goals.get(index).map(Item::Goal),
        ForEach::SuggestedGoals => ctx.profile.goals.get(index).map(Item::Suggested),
        ForEach::Plan => ctx
            .profile
            .plan
            .as_ref()
            .filter(|_| index == 0)
            .map(Item::Plan),
        ForEach::Consent | ForEach::ConsentLater => {
            let categories = &ctx.dialogs.system.category;
            let family = ctx
                .profile
                .family
                .get(index.checked_div(categories.len())?)?;
            let category = categories.get(index % categories.len())?;
            Some(Item::Consent { family, category })
        }
    }
}

/// The template variables for an item.
pub(super) fn vars(item: &Item<'_>, lang: &str) -> Map<String, Value> {
    let mut vars = Map::new();
    match item {
        Item::Goal(g) | Item::Suggested(g) => {
            vars.insert(
                "goal".into(),
                json!({ "text": g.text, "id": g.id, "suggested_by": g.suggested_by }),
            );
        }
        Item::Plan(plan) => {
            vars.insert(
                "plan".into(),
                json!({ "version": plan.version, "sections": plan.sections, "agreed": plan.agreed }),
            );
        }
        Item::Consent { family, category } => {
            let first = family
                .name
                .split_whitespace()
                .next()
                .unwrap_or(&family.name);
            vars.insert(
                "family".into(),
                json!({ "name": family.name, "first_name": first }),
            );
            vars.insert(
                "category".into(),
                json!({ "id": category.id, "label": category.label(lang) }),
            );
        }
    }
    vars
}
