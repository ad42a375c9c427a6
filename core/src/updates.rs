//! Wellbeing updates for family, built from what the resident has consented to share with
//! that family member at the moment of building. Pure: the runtime gathers the data.
//!
//! The rule is structural: each line comes from one category, and only categories in
//! `shared` are looked at. If nothing shared has anything to say, there is no update at all.

use crate::engine::render::render;
use crate::flow::SystemDoc;
use serde_json::{json, Map, Value};

/// What happened since the last update, by category.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateData {
    /// Mood scores from check-ins.
    pub moods: Vec<f64>,
    /// (goal, the resident's own words about it), oldest first.
    pub goals: Vec<(String, String)>,
    /// Personal messages the resident left for their family.
    pub messages: Vec<String>,
}

/// An update: its text and the categories it discloses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    /// The message.
    pub text: String,
    /// Categories that contributed a line (for the audit log and for withdrawal).
    pub categories: Vec<String>,
}

/// Builds the update about `resident` from `data`, using only `shared` categories.
pub fn build(
    system: &SystemDoc,
    lang: &str,
    resident: &str,
    shared: &[String],
    data: &UpdateData,
) -> Option<Update> {
    let first = resident.split_whitespace().next().unwrap_or(resident);
    let text = |key: &str, pairs: &[(&str, Value)]| {
        let mut vars: Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        vars.insert("resident".into(), json!(first));
        render(system.text(key, lang), &vars)
    };
    let mut lines = Vec::new();
    let mut categories = Vec::new();
    let is_shared = |c: &str| shared.iter().any(|s| s == c);
    if is_shared("mood") && !data.moods.is_empty() {
        let average = data.moods.iter().sum::<f64>() / data.moods.len() as f64;
        let average = format!("{:.1}", average).trim_end_matches(".0").to_string();
        lines.push(text(
            "update_mood",
            &[
                ("average", json!(average)),
                ("count", json!(data.moods.len())),
            ],
        ));
        categories.push("mood".to_string());
    }
    if is_shared("goals") && !data.goals.is_empty() {
        // The latest words about each goal.
        let mut latest: Vec<(&String, &String)> = Vec::new();
        for (goal, answer) in &data.goals {
            latest.retain(|(g, _)| *g != goal);
            latest.push((goal, answer));
        }
        for (goal, answer) in latest {
            lines.push(text(
                "update_goal",
                &[("goal", json!(goal)), ("answer", json!(answer))],
            ));
        }
        categories.push("goals".to_string());
    }
    if is_shared("message") && !data.messages.is_empty() {
        for m in &data.messages {
            lines.push(text("update_message", &[("message", json!(m))]));
        }
        categories.push("message".to_string());
    }
    if lines.is_empty() {
        return None;
    }
    let intro = text("update_intro", &[]);
    Some(Update {
        text: format!("{intro}\n{}", lines.join("\n")),
        categories,
    })
}
