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
    /// Mood scores from check-ins: (when, epoch ms; score).
    pub moods: Vec<(i64, f64)>,
    /// (goal, the resident's own words about it), oldest first.
    pub goals: Vec<(String, String)>,
    /// Personal messages the resident left for their family.
    pub messages: Vec<String>,
}

/// An update: its text and the categories it discloses.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    /// The message.
    pub text: String,
    /// Categories that contributed a line (for the audit log and for withdrawal).
    pub categories: Vec<String>,
    /// Mood over the weeks, when mood is shared and a chart was asked for.
    pub chart: Option<crate::chart::Chart>,
}

/// What period an update covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// Words cover answers after this (epoch ms).
    pub since_ms: i64,
    /// Now (epoch ms).
    pub now_ms: i64,
    /// Whether to include a chart of the mood answers in `data` (weekly updates).
    pub chart: bool,
}

/// Builds the update about `resident` from `data`, using only `shared` categories.
pub fn build(
    system: &SystemDoc,
    lang: &str,
    resident: &str,
    shared: &[String],
    data: &UpdateData,
    period: Period,
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
    let recent: Vec<f64> = data
        .moods
        .iter()
        .filter(|(t, _)| *t > period.since_ms)
        .map(|(_, v)| *v)
        .collect();
    let mut chart = None;
    if is_shared("mood") && !recent.is_empty() {
        let average = recent.iter().sum::<f64>() / recent.len() as f64;
        let average = format!("{:.1}", average).trim_end_matches(".0").to_string();
        lines.push(text(
            "update_mood",
            &[("average", json!(average)), ("count", json!(recent.len()))],
        ));
        categories.push("mood".to_string());
        if period.chart {
            let day = 86_400_000;
            let points = data
                .moods
                .iter()
                .map(|(t, v)| ((period.now_ms - t) / day, *v))
                .collect();
            let title = format!("{first}'s mood, last 4 weeks");
            chart = Some(crate::chart::Chart {
                title,
                series: vec![crate::chart::Series {
                    label: first.to_string(),
                    points,
                }],
            });
        }
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
        chart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::load_dir;

    fn system() -> SystemDoc {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dialogs");
        load_dir(&dir).expect("dialogs").system
    }

    fn data() -> UpdateData {
        UpdateData {
            moods: vec![(1_000, 2.0), (5 * 86_400_000, 4.0)],
            goals: vec![("walk to the garden".into(), "made it".into())],
            messages: vec!["see you Sunday".into()],
        }
    }

    const WEEK: Period = Period {
        since_ms: 0,
        now_ms: 7 * 86_400_000,
        chart: true,
    };

    #[test]
    fn nothing_shared_means_no_update() {
        assert_eq!(
            build(&system(), "en", "Ava Thompson", &[], &data(), WEEK),
            None
        );
    }

    #[test]
    fn a_chart_only_when_mood_is_shared() {
        let goals_only = build(
            &system(),
            "en",
            "Ava Thompson",
            &["goals".into()],
            &data(),
            WEEK,
        )
        .expect("update");
        assert_eq!(goals_only.chart, None);
        assert_eq!(goals_only.categories, ["goals"]);
        let with_mood = build(
            &system(),
            "en",
            "Ava Thompson",
            &["mood".into()],
            &data(),
            WEEK,
        )
        .expect("update");
        let chart = with_mood.chart.expect("chart");
        assert_eq!(chart.series[0].points, vec![(6, 2.0), (2, 4.0)]);
        assert!(
            with_mood
                .text
                .contains("3 out of 5 on average, over 2 check-ins"),
            "{}",
            with_mood.text
        );
    }
}
