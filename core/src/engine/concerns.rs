//! Checking each stored answer against the concern rules in `concerns.toml`: words that may
//! mean pain or harm, or a low score several days running. A rule raises an alert to the
//! keyworker with the resident's own words, once per run of a flow, and tells the resident
//! who will be in touch.

use super::answer::{normalize, Parsed};
use super::io::Effect;
use super::render::{base_vars, render};
use super::turn::Turn;
use crate::flow::concerns::Rule;
use crate::flow::system::contains_words;
use crate::flow::Target;
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

impl Turn<'_> {
    /// Runs every rule against an answer just stored under `key`.
    pub(super) fn check_concerns(&mut self, key: &str, parsed: &Parsed, raw: &str) {
        let rules = &self.ctx.dialogs.concerns.rule;
        for rule in rules {
            let already = self
                .s
                .active
                .as_ref()
                .is_some_and(|f| f.flagged.iter().any(|r| r == rule.id.get_ref()));
            if already || !self.matches(rule, key, parsed, raw) {
                continue;
            }
            if let Some(frame) = self.s.active.as_mut() {
                frame.flagged.push(rule.id.get_ref().clone());
            }
            self.fx.push(Effect::Alert {
                to: Target::Keyworker,
                reason: rule.reason.clone(),
                words: Some(raw.to_string()),
            });
            let lang = self.lang().to_string();
            if let Some(text) = rule
                .tell_resident
                .get(&lang)
                .or_else(|| rule.tell_resident.get(crate::flow::DEFAULT_LANGUAGE))
            {
                let text = render(text, &base_vars(self.ctx, None));
                self.send(text, false, Vec::new(), false);
            }
        }
    }

    fn matches(&self, rule: &Rule, key: &str, parsed: &Parsed, raw: &str) -> bool {
        if !rule.words.is_empty() {
            let said = normalize(raw);
            return rule
                .words
                .iter()
                .any(|w| contains_words(&said, &normalize(w)));
        }
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
