//! Global intents (help, stop, start, urgent, skip today, stop sharing, any news) and the
//! scheduler's follow-up timers: the parts of a turn that do not answer the current question.

use super::answer::normalize;
use super::io::{Effect, TimerKind};
use super::state::Awaiting;
use super::turn::{vars, Turn, CHECKIN, PRIVACY, REVIEW_DONE};
use crate::access::{allowed, staff_relation, Action, Actor, Resource};
use crate::domain::Decision;
use crate::flow::{IntentAction, Target};
use serde_json::{json, Map};

impl Turn<'_> {
    pub(super) fn on_intent(&mut self, intent: IntentAction, raw: &str) {
        self.s.awaiting = Awaiting::Nothing;
        match intent {
            IntentAction::Flow { flow, rest } => {
                let flow = &flow;
                if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                    // "remind me at 10": start the flow afresh and answer its first question.
                    if let Some(active) = self.s.active.take().filter(|f| &f.flow != flow) {
                        self.s.suspended = Some(active);
                    }
                    self.start_flow(flow);
                    if self.s.active.is_some() {
                        self.fx.retain(|e| !matches!(e, Effect::Send(_)));
                        self.answer(&rest, &rest, None);
                    }
                    return;
                }
                if self.s.active.as_ref().is_some_and(|f| &f.flow == flow) {
                    return self.ask_again();
                }
                if self.s.suspended.as_ref().is_some_and(|f| &f.flow == flow)
                    && self.s.active.is_none()
                {
                    return self.resume_suspended();
                }
                if let Some(active) = self.s.active.take() {
                    self.s.suspended = Some(active);
                }
                self.start_flow(flow);
            }
            IntentAction::Pause => {
                self.s.paused = true;
                if let Some(active) = self.s.active.take() {
                    self.s.suspended = Some(active);
                }
                self.say_system("paused", Map::new());
            }
            IntentAction::Resume => {
                self.s.paused = false;
                self.say_system("resumed", Map::new());
                self.offer_resume();
            }
            IntentAction::Urgent => {
                self.fx.push(Effect::Alert {
                    to: Target::Keyworker,
                    reason: "urgent".into(),
                    words: Some(raw.to_string()),
                });
                if let Some(active) = self.s.active.take() {
                    self.s.suspended = Some(active);
                }
                self.say_system("urgent_ack", Map::new());
            }
            IntentAction::Withdraw { rest } => self.withdraw(&rest, raw),
            IntentAction::FamilyUpdate => {
                if self.ctx.profile.family_of.is_empty() {
                    self.say_system("fallback", Map::new());
                } else {
                    self.fx.push(Effect::UpdateRequested);
                }
            }
            IntentAction::ReviewDone { .. } if !self.may_write_for_residents(Resource::Reviews) => {
                self.say_system("fallback", Map::new());
            }
            IntentAction::ReviewDone { rest } => {
                let p = self.ctx.profile;
                let named: Vec<_> = p
                    .caring_for
                    .iter()
                    .filter(|r| {
                        r.name
                            .split_whitespace()
                            .any(|n| crate::flow::system::contains_words(&rest, &normalize(n)))
                    })
                    .collect();
                match named.as_slice() {
                    [resident] => {
                        let resident = (*resident).clone();
                        if let Some(active) = self.s.active.take() {
                            self.s.suspended = Some(active);
                        }
                        self.start_flow_about(REVIEW_DONE, resident);
                    }
                    _ => self.say_system("review_unclear", Map::new()),
                }
            }
            IntentAction::Ack { alert } => {
                // The store acknowledges only alerts about residents this person is assigned
                // to (the same rule, applied to the rows).
                if self.may_write_for_residents(Resource::Alerts) {
                    let open = &self.ctx.profile.open_alerts;
                    let found = match alert {
                        Some(n) => open.contains(&n),
                        None => !open.is_empty(),
                    };
                    if found {
                        self.fx.push(Effect::Ack(alert));
                        self.say_system("ack_done", Map::new());
                    } else {
                        // Never "noted" when nothing was: staff must not think an alert is
                        // in hand when it is not theirs or does not exist.
                        self.say_system("ack_nothing", Map::new());
                    }
                } else {
                    self.say_system("fallback", Map::new());
                }
            }
            IntentAction::SkipToday => {
                if self.s.active.as_ref().is_some_and(|f| f.flow == CHECKIN) {
                    self.s.active = None;
                }
                self.fx.push(Effect::SkipToday);
                self.say_system("skipped_today", Map::new());
            }
        }
    }

    /// Whether this person may write `resource` for the residents they are assigned to (their
    /// `caring_for` list holds only active relations), by the access table.
    fn may_write_for_residents(&self, resource: Resource) -> bool {
        let role = self.ctx.profile.role;
        allowed(
            Actor::Person(role),
            Action::Write,
            resource,
            staff_relation(role),
        )
        .permits()
    }

    /// "stop sharing my mood with Sam": withdraw at once when the words name one category and
    /// one family member (or there is only one); otherwise go through it together.
    fn withdraw(&mut self, rest: &str, raw: &str) {
        let p = self.ctx.profile;
        let categories: Vec<_> = self
            .ctx
            .dialogs
            .system
            .category
            .iter()
            .filter(|c| {
                std::iter::once(&c.id)
                    .chain(&c.words)
                    .any(|w| crate::flow::system::contains_words(rest, &normalize(w)))
            })
            .collect();
        let named: Vec<_> = p
            .family
            .iter()
            .filter(|f| {
                f.name
                    .split_whitespace()
                    .any(|n| crate::flow::system::contains_words(rest, &normalize(n)))
            })
            .collect();
        let family = match (named.as_slice(), p.family.as_slice()) {
            ([one], _) => Some(*one),
            ([], [only]) => Some(only),
            _ => None,
        };
        match (categories.as_slice(), family) {
            ([category], Some(family)) => {
                self.fx.push(Effect::Consent {
                    family: family.id,
                    category: category.id.clone(),
                    decision: Decision::No,
                    wording: raw.to_string(),
                    version: "resident's own words".into(),
                });
                let label = category.label(self.lang()).to_string();
                self.say_system(
                    "withdrawn",
                    vars([("category", json!(label)), ("family", json!(family.name))]),
                );
            }
            _ => {
                self.say_system("withdraw_unclear", Map::new());
                if let Some(active) = self.s.active.take() {
                    self.s.suspended = Some(active);
                }
                self.start_flow(PRIVACY);
            }
        }
    }

    /// A follow-up timer: nudge once, then close the run as missed, but only while nothing
    /// at all has been answered in that run (someone half-way through is not nagged).
    pub(super) fn on_timer(&mut self, kind: TimerKind, flow: &str, run: u64) {
        let untouched = self
            .s
            .active
            .as_ref()
            .is_some_and(|f| f.flow == flow && f.run == run && f.answers.is_empty())
            && self.s.awaiting == Awaiting::Nothing;
        if !untouched {
            return;
        }
        match kind {
            TimerKind::Nudge if !self.s.paused => {
                self.say_system("nudge", Map::new());
                self.ask_again();
            }
            TimerKind::Nudge => {}
            TimerKind::Missed => {
                self.s.active = None;
                self.fx.push(Effect::Missed {
                    flow: flow.to_string(),
                    run,
                });
            }
        }
    }
}
