//! Concerns: what a resident says that should bring a member of staff.
//!
//! Text rules (`concerns.toml`, compiled by [`crate::understand`]) are checked on every
//! message a resident sends, before anything else, in a flow or not, paused or not. Score
//! rules (a low mood three days running) are checked on each stored number answer. A rule
//! raises one alert per run of a flow (outside a flow, one per message), to whoever its
//! category names, with the resident's own words and which rule fired, and the resident is
//! told who will come.

use super::answer::Parsed;
use super::io::Effect;
use super::render::{base_vars, render};
use super::turn::Turn;
use crate::flow::concerns::{Category, Rule};
use crate::flow::Target;
use crate::understand::Hit;
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

impl Turn<'_> {
    /// The category `id` of `concerns.toml`.
    pub(super) fn category(&self, id: &str) -> Option<&Category> {
        self.ctx
            .dialogs
            .concerns
            .category
            .iter()
            .find(|c| c.id.get_ref() == id)
    }

    /// Raises the alerts for `hits` (most serious first) about `raw`, and tells the resident.
    /// Rules already raised in this run of a flow are left out. Returns true if anything was
    /// raised.
    pub(super) fn raise(&mut self, hits: &[Hit], raw: &str) -> bool {
        let fresh: Vec<&Hit> = hits
            .iter()
            .filter(|h| {
                !self
                    .s
                    .active
                    .as_ref()
                    .is_some_and(|f| f.flagged.iter().any(|r| r == &h.rule))
            })
            .collect();
        let Some(top) = fresh.first() else {
            return false;
        };
        let category = top.category.clone();
        let same: Vec<&&Hit> = fresh.iter().filter(|h| h.category == category).collect();
        if let Some(frame) = self.s.active.as_mut() {
            frame.flagged.extend(fresh.iter().map(|h| h.rule.clone()));
        }
        let (label, targets, tell, request) = match self.category(&category) {
            Some(c) => (
                c.label.clone(),
                c.alert.clone(),
                c.tell_resident.clone(),
                c.request.clone(),
            ),
            None => (
                category.clone(),
                vec!["keyworker".into()],
                BTreeMap::new(),
                None,
            ),
        };
        let mut reasons: Vec<&str> = Vec::new();
        for h in &same {
            if !reasons.contains(&h.reason.as_str()) {
                reasons.push(&h.reason);
            }
        }
        let reason = format!("{label}: may mean {}", reasons.join("; "));
        let rule = same
            .iter()
            .map(|h| h.rule.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let target = |t: &String| {
            if t == "manager" {
                Target::Manager
            } else {
                Target::Keyworker
            }
        };
        let mut to = targets.iter().map(target);
        let first = to.next().unwrap_or(Target::Keyworker);
        self.fx.push(Effect::Alert {
            to: first,
            reason,
            words: Some(raw.to_string()),
            category: Some(category.clone()),
            rule: Some(rule),
            copy_to: to.filter(|t| *t != first).collect(),
            request,
        });
        let own = self
            .ctx
            .dialogs
            .concerns
            .rule
            .iter()
            .find(|r| r.id.get_ref() == &top.rule)
            .map(|r| r.tell_resident.clone())
            .filter(|t| !t.is_empty());
        self.tell(&own.unwrap_or(tell));
        true
    }

    /// Says a per-language text from `concerns.toml`.
    fn tell(&mut self, texts: &BTreeMap<String, String>) {
        let lang = self.lang().to_string();
        if let Some(text) = texts
            .get(&lang)
            .or_else(|| texts.get(crate::flow::DEFAULT_LANGUAGE))
        {
            let text = render(text, &base_vars(self.ctx, None));
            self.send(text, false, Vec::new(), false);
        }
    }

    /// Runs the score rules against a number answer just stored under `key`.
    pub(super) fn check_scores(&mut self, key: &str, parsed: &Parsed, raw: &str) {
        let rules = &self.ctx.dialogs.concerns.rule;
        for rule in rules.iter().filter(|r| r.answer.is_some()) {
            let id = rule.id.get_ref();
            let already = self
                .s
                .active
                .as_ref()
                .is_some_and(|f| f.flagged.iter().any(|r| r == id));
            if already || !self.low_streak(rule, key, parsed) {
                continue;
            }
            let category = rule
                .category
                .as_ref()
                .map_or_else(|| "distress".to_string(), |c| c.get_ref().clone());
            let hit = Hit {
                rule: id.clone(),
                category,
                reason: rule.reason.clone(),
            };
            self.raise(&[hit], raw);
        }
    }

    fn low_streak(&self, rule: &Rule, key: &str, parsed: &Parsed) -> bool {
        let (Some(answer), Some(limit), Some(days)) =
            (&rule.answer, rule.at_most, rule.days_in_a_row)
        else {
            return false;
        };
        let Some(today_value) = parsed.number.filter(|_| answer == key) else {
            return false;
        };
        if today_value > limit {
            return false;
        }
        // The lowest value each earlier day, then today's answer.
        let tz = self.ctx.settings.timezone;
        let today = self.now.with_timezone(&tz).date_naive();
        let mut lowest: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for r in self.ctx.profile.recent.iter().filter(|r| &r.key == answer) {
            let Some(at) = chrono::DateTime::from_timestamp_millis(r.at_ms) else {
                continue;
            };
            let day = at.with_timezone(&tz).date_naive();
            let v = lowest.entry(day).or_insert(r.value);
            *v = v.min(r.value);
        }
        lowest.insert(today, today_value);
        (0..i64::from(days)).all(|back| {
            lowest
                .get(&(today - Duration::days(back)))
                .is_some_and(|v| *v <= limit)
        })
    }
}

impl Turn<'_> {
    /// The person's chat account now has a different cryptographic identity: their keyworker
    /// (a manager, for staff and family) is told, so someone checks with them in person. The
    /// conversation itself is left as it was.
    pub(super) fn on_account_changed(&mut self, platform: &str) {
        let mut v = super::render::base_vars(self.ctx, None);
        v.insert("platform".into(), serde_json::json!(platform));
        let reason = super::render::render(
            self.ctx.dialogs.system.text("account_changed", self.lang()),
            &v,
        );
        let to = if self.ctx.profile.role == crate::domain::Role::Resident {
            Target::Keyworker
        } else {
            Target::Manager
        };
        self.fx.push(Effect::Alert {
            to,
            reason,
            words: None,
            category: None,
            rule: Some("account_changed".into()),
            copy_to: Vec::new(),
            request: None,
        });
    }
}
