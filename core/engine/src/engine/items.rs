//! What a `for_each` step repeats over: a resident's goals, or each family member × each
//! consent category. One question, asked once per item, with the item in its template.

use super::Context;
use crate::domain::{Goal, Relative};
use crate::flow::model::ForEach;
use crate::flow::system::Category;
use serde_json::{json, Map, Value};

/// One item of a `for_each` step.
pub(super) enum Item<'a> {
    /// A care-plan goal.
    Goal(&'a Goal),
    /// Whether `category` may be shared with `family`.
    Consent {
        family: &'a Relative,
        category: &'a Category,
    },
}

/// How many items `for_each` has for this person.
pub(super) fn count(ctx: &Context<'_>, for_each: Option<ForEach>) -> usize {
    match for_each {
        None => 0,
        Some(ForEach::Goals) => ctx.profile.goals.len(),
        Some(ForEach::Consent) => ctx.profile.family.len() * ctx.dialogs.system.category.len(),
    }
}

/// Item `index` (family members in turn, each with every category).
pub(super) fn get<'a>(
    ctx: &Context<'a>,
    for_each: Option<ForEach>,
    index: usize,
) -> Option<Item<'a>> {
    match for_each? {
        ForEach::Goals => ctx.profile.goals.get(index).map(Item::Goal),
        ForEach::Consent => {
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
        Item::Goal(g) => {
            vars.insert("goal".into(), json!({ "text": g.text, "id": g.id }));
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
