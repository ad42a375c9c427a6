//! What the bot says: a step's text with its template filled in, quick-answer buttons,
//! Carebot's own texts, and splitting anything too long for one chat message.

use super::io::{ChoiceButton, Effect, OutMessage};
use super::items;
use super::render::{base_vars, render, split_message};
use super::turn::{vars, Turn};
use crate::flow::model::{Ask, Step};
use crate::flow::MAX_MESSAGE_CHARS;
use serde_json::{json, Map, Value};

impl Turn<'_> {
    /// The step's text for this person, with the current `for_each` item filled in.
    pub(super) fn step_text(&self, step: &Step) -> Option<String> {
        let template = step.text(self.lang())?;
        let mut vars = base_vars(self.ctx, self.s.active.as_ref());
        let index = self.s.active.as_ref().map_or(0, |f| f.item);
        if let Some(item) = items::get(self.ctx, step.for_each, index) {
            vars.extend(items::vars(&item, self.lang()));
        }
        Some(render(template, &vars))
    }

    pub(super) fn say_step(&mut self, step: &Step) {
        let Some(text) = self.step_text(step) else {
            return;
        };
        let (choices, list) = self.choices(step);
        self.send(text, step.sensitive, choices, list);
    }

    /// Queues `text`, split into several messages when too long for one; the choices go
    /// with the last part, where the question is.
    pub(super) fn send(
        &mut self,
        text: String,
        sensitive: bool,
        choices: Vec<ChoiceButton>,
        list: bool,
    ) {
        // Buttons carry the question they answer, so a press after it has passed is known.
        let question = (!choices.is_empty())
            .then(|| self.s.active.as_ref().map(super::state::Frame::question))
            .flatten();
        let shown = OutMessage {
            text: String::new(),
            sensitive,
            choices,
            list,
            chart: None,
            question,
        };
        let room = MAX_MESSAGE_CHARS
            .saturating_sub(shown.plain().chars().count())
            .max(200);
        let mut parts = split_message(&text, room);
        let last = parts.pop().unwrap_or_default();
        for part in parts {
            self.fx.push(Effect::Send(OutMessage {
                text: part,
                sensitive,
                ..Default::default()
            }));
        }
        self.fx.push(Effect::Send(OutMessage {
            text: last,
            ..shown
        }));
    }

    pub(super) fn choices(&self, step: &Step) -> (Vec<ChoiceButton>, bool) {
        let button = |a: String, l: String| ChoiceButton {
            answer: a,
            label: l,
        };
        let ask = step.ask.as_ref().map(|a| self.concrete_ask(a));
        match ask.as_deref() {
            Some(Ask::Choice { options }) => {
                let lang = self.lang();
                let buttons = options.iter().enumerate().map(|(i, o)| {
                    let label = o
                        .label
                        .get(lang)
                        .or_else(|| o.label.values().next())
                        .cloned()
                        .unwrap_or_default();
                    button((i + 1).to_string(), label)
                });
                (buttons.collect(), true)
            }
            Some(Ask::Scale { min, max, .. }) if max - min < 10 => (
                (*min..=*max)
                    .map(|n| button(n.to_string(), n.to_string()))
                    .collect(),
                false,
            ),
            Some(Ask::YesNo) => (
                vec![
                    button("yes".into(), "Yes".into()),
                    button("no".into(), "No".into()),
                ],
                false,
            ),
            _ => (Vec::new(), false),
        }
    }

    pub(super) fn say_system(&mut self, key: &str, extra: Map<String, Value>) {
        let mut all = base_vars(self.ctx, None);
        all.extend(extra);
        // Family and staff get their own variant of a text where the dialogs have one.
        let key = self.ctx.dialogs.system.key_for(key, self.ctx.profile.role);
        let text = render(self.ctx.dialogs.system.text(&key, self.lang()), &all);
        self.send(text, false, Vec::new(), false);
    }

    pub(super) fn hint(&self, step: &Step) -> String {
        let sys = &self.ctx.dialogs.system;
        let ask = step.ask.as_ref().map(|a| self.concrete_ask(a));
        let (key, v) = match ask.as_deref() {
            Some(Ask::Choice { options }) => {
                ("hint_choice", vars([("count", json!(options.len()))]))
            }
            Some(Ask::Scale { min, max, .. }) => (
                "hint_scale",
                vars([("min", json!(min)), ("max", json!(max))]),
            ),
            Some(Ask::YesNo) => ("hint_yes_no", Map::new()),
            Some(Ask::Number { min, max }) => (
                "hint_number",
                vars([("min", json!(min)), ("max", json!(max))]),
            ),
            Some(Ask::Time) => ("hint_time", Map::new()),
            Some(Ask::Date) => ("hint_date", Map::new()),
            Some(Ask::Text { .. } | Ask::Goal) | None => ("hint_text", Map::new()),
        };
        let mut all = base_vars(self.ctx, None);
        all.extend(v);
        render(sys.text(key, self.lang()), &all)
    }
}
