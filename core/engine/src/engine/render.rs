//! Filling in templates. minijinja is sandboxed: a template can only read the values given to
//! it, and a person's own words inside those values are never run as template code.

use super::state::Frame;
use super::Context;
use crate::domain::GoalState;
use minijinja::Environment;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Whatever the template, output stays bounded.
        env.set_fuel(Some(50_000));
        env
    })
}

/// The variables every text may use.
pub fn base_vars(ctx: &Context<'_>, frame: Option<&Frame>) -> Map<String, Value> {
    let p = ctx.profile;
    let first = p.name.split_whitespace().next().unwrap_or(&p.name);
    let mut vars = Map::new();
    // `goals`: the words of the active ones; `own_goals`: active and paused ones, numbered as
    // a `goal` question numbers them; `achieved` and `suggested`: the words of those.
    let texts = |state: GoalState| {
        p.goals
            .iter()
            .filter(|g| g.state == state)
            .map(|g| g.text.as_str())
            .collect::<Vec<_>>()
    };
    let own: Vec<Value> = p
        .goals
        .iter()
        .filter(|g| matches!(g.state, GoalState::Active | GoalState::Paused))
        .map(|g| {
            json!({ "text": g.text, "paused": g.state == GoalState::Paused, "cadence": g.cadence.as_str() })
        })
        .collect();
    vars.insert(
        "person".into(),
        json!({
            "name": p.name,
            "first_name": first,
            "goals": texts(GoalState::Active),
            "own_goals": own,
            "achieved": texts(GoalState::Achieved),
            "suggested": texts(GoalState::Suggested),
        }),
    );
    vars.insert(
        "home".into(),
        json!({ "name": p.home_name, "phone": p.home_phone }),
    );
    let keyworker = p
        .keyworker
        .clone()
        .unwrap_or_else(|| "a member of staff".into());
    // `assigned` lets a text name the keyworker only when there is one ("ask Kim or any
    // member of staff", never "ask a member of staff or any member of staff").
    vars.insert(
        "keyworker".into(),
        json!({ "name": keyworker, "assigned": p.keyworker.is_some() }),
    );
    if let Some(f) = frame {
        vars.insert("answers".into(), json!(f.answers));
        if let Some(r) = &f.about {
            let first = r.name.split_whitespace().next().unwrap_or(&r.name);
            vars.insert(
                "about".into(),
                json!({ "name": r.name, "first_name": first }),
            );
        }
    }
    vars.insert("consents".into(), consents(ctx));
    vars.insert("contacts".into(), json!(ctx.settings.contacts));
    vars
}

/// A resident's consents in force, in words: `[{family, category, decision}]`, family by
/// family, categories in the order `system.toml` lists them (the order they are asked in).
fn consents(ctx: &Context<'_>) -> Value {
    let p = ctx.profile;
    let lang = &p.language;
    let mut list = Vec::new();
    for family in &p.family {
        for category in &ctx.dialogs.system.category {
            if let Some(c) = p
                .consents
                .iter()
                .find(|c| c.family == family.id && c.category == category.id)
            {
                list.push(json!({ "family": family.name, "category": category.label(lang), "decision": c.decision.as_str() }));
            }
        }
    }
    json!(list)
}

/// Renders `template`. A template that fails at run time (the validator should have caught
/// it) shows its text unrendered rather than failing the person's turn.
pub fn render(template: &str, vars: &Map<String, Value>) -> String {
    if !template.contains("{{") && !template.contains("{%") {
        return template.to_string();
    }
    env()
        .render_str(template, vars)
        .unwrap_or_else(|_| template.to_string())
}

/// Splits `text` into parts of at most `max` characters, preferring line breaks, then sentence
/// ends, then spaces, so a long read-back arrives as several readable messages rather than
/// being refused by a platform (Discord allows 2,000 characters).
pub fn split_message(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > max {
        let limit = rest
            .char_indices()
            .nth(max)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let window = &rest[..limit];
        let cut = window
            .rfind('\n')
            .or_else(|| window.rfind(". ").map(|i| i + 1))
            .or_else(|| window.rfind(' '))
            .filter(|&i| i > 0)
            .unwrap_or(limit);
        parts.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::split_message;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_message("Hello.", 2000), ["Hello."]);
    }

    #[test]
    fn long_text_splits_at_sentences_then_words_then_anywhere() {
        assert_eq!(
            split_message("One two. Three four.", 12),
            ["One two.", "Three four."]
        );
        assert_eq!(split_message("aaaa bbbb cccc", 9), ["aaaa", "bbbb cccc"]);
        assert_eq!(split_message("ééééé", 2), ["éé", "éé", "é"]);
    }
}
