//! Filling in templates. minijinja is sandboxed: a template can only read the values given to
//! it, and a person's own words inside those values are never run as template code.

use super::state::Frame;
use super::Context;
use crate::domain::Goal;
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
    vars.insert(
        "person".into(),
        json!({ "name": p.name, "first_name": first }),
    );
    vars.insert(
        "home".into(),
        json!({ "name": p.home_name, "phone": p.home_phone }),
    );
    let keyworker = p
        .keyworker
        .clone()
        .unwrap_or_else(|| "a member of staff".into());
    vars.insert("keyworker".into(), json!({ "name": keyworker }));
    if let Some(f) = frame {
        vars.insert("answers".into(), json!(f.answers));
    }
    vars
}

/// Adds `goal` for `for_each = "goals"` steps.
pub fn with_goal(mut vars: Map<String, Value>, goal: Option<&Goal>) -> Map<String, Value> {
    if let Some(g) = goal {
        vars.insert("goal".into(), json!({ "text": g.text, "id": g.id }));
    }
    vars
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
