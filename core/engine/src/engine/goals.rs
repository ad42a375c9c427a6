//! A resident's own goals: picking one of them in a question (`ask = { kind = "goal" }`),
//! and the `goal` action that adds, rewords, paces, pauses, achieves or drops one
//! (`dialogs/goals.toml`). Staff only suggest goals; the resident takes, rewords or declines
//! each suggestion (a `for_each = "suggested_goals"` step, see [`super::turn`]'s `record`).
//! Every change is an [`Effect::Goal`]: the store applies it only to the resident's own goal,
//! only from a state it applies to, keeps it in the goal's history and audits it.

use super::io::Effect;
use super::turn::Turn;
use crate::access::{allowed, Action, Actor, Relation, Resource};
use crate::domain::{Cadence, Goal, GoalChange, GoalState, Role};
use crate::flow::model::{Ask, ChoiceOption, GoalOp};
use crate::ids::GoalId;
use std::borrow::Cow;
use std::collections::BTreeMap;

impl Turn<'_> {
    /// The resident's own goals a `goal` question offers: active and paused ones, oldest first.
    pub(super) fn own_goals(&self) -> Vec<&Goal> {
        let p = self.ctx.profile;
        if p.role != Role::Resident {
            return Vec::new();
        }
        p.goals
            .iter()
            .filter(|g| matches!(g.state, GoalState::Active | GoalState::Paused))
            .collect()
    }

    /// `ask` as the engine parses and shows it: a `goal` question is a choice among the
    /// person's own goals (by number or by words); every other question is itself.
    pub(super) fn concrete_ask<'b>(&self, ask: &'b Ask) -> Cow<'b, Ask> {
        if !matches!(ask, Ask::Goal) {
            return Cow::Borrowed(ask);
        }
        let lang = self.lang().to_string();
        let options = self
            .own_goals()
            .into_iter()
            .map(|g| ChoiceOption {
                id: g.id.0.to_string(),
                label: BTreeMap::from([(lang.clone(), g.text.clone())]),
                words: Vec::new(),
            })
            .collect();
        Cow::Owned(Ask::Choice { options })
    }

    /// The `goal` action: one change to one of the resident's own goals, from this run's
    /// answers. Nothing happens when an answer it needs is missing or names no goal of theirs.
    pub(super) fn goal_action(&mut self, op: GoalOp, goal: Option<&str>, from: Option<&str>) {
        let Some(frame) = self.s.active.as_ref() else {
            return;
        };
        let answer = |key: Option<&str>| {
            key.and_then(|k| frame.answers.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let words = answer(from);
        let chosen = answer(goal)
            .and_then(|id| id.parse::<i64>().ok())
            .map(GoalId)
            .and_then(|id| self.own_goals().into_iter().find(|g| g.id == id).cloned());
        let may = allowed(
            Actor::Person(self.ctx.profile.role),
            Action::Write,
            Resource::Goals,
            Relation::Themself,
        );
        if self.ctx.profile.role != Role::Resident || !may.permits() {
            return;
        }
        let (goal, change) = match (op, chosen) {
            (GoalOp::Add, _) => match words.filter(|w| !w.trim().is_empty()) {
                Some(text) => (None, GoalChange::Add { text }),
                None => return,
            },
            (_, None) => return,
            (GoalOp::Reword, Some(g)) => match words.filter(|w| !w.trim().is_empty()) {
                Some(text) => (Some(g.id), GoalChange::Reword { text }),
                None => return,
            },
            (GoalOp::Often, Some(g)) => match words.and_then(|w| w.parse::<Cadence>().ok()) {
                Some(cadence) => (Some(g.id), GoalChange::Often { cadence }),
                None => return,
            },
            (GoalOp::Pause, Some(g)) if g.state == GoalState::Paused => {
                (Some(g.id), GoalChange::Restart)
            }
            (GoalOp::Pause, Some(g)) => (Some(g.id), GoalChange::Pause),
            (GoalOp::Achieved, Some(g)) => (Some(g.id), GoalChange::Achieved),
            (GoalOp::Drop, Some(g)) => (Some(g.id), GoalChange::Drop),
        };
        self.fx.push(Effect::Goal { goal, change });
    }
}
