//! What a step does besides talking: alerts with the person's own words, pause and resume,
//! setting a check-in time or update cadence, recording a review.

use super::io::Effect;
use super::turn::Turn;
use crate::flow::model::{Action, Step};

impl Turn<'_> {
    pub(super) fn run_actions(&mut self, step: &Step) {
        for action in &step.actions {
            match action {
                Action::Pause => self.s.paused = true,
                Action::Resume => self.s.paused = false,
                Action::SetUpdateCadence { from } => {
                    let cadence = self
                        .s
                        .active
                        .as_ref()
                        .and_then(|f| f.answers.get(from))
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    if let Some(c) = cadence.filter(|c| c == "daily" || c == "weekly") {
                        self.fx.push(Effect::SetUpdateCadence(c));
                    }
                }
                Action::RecordReview => {
                    let review = self.s.active.as_ref().and_then(|f| {
                        let text = |k: &str| {
                            f.answers
                                .get(k)
                                .and_then(|v| v.as_str())
                                .map(str::to_string)
                        };
                        Some(Effect::ReviewDone {
                            resident: f.about.as_ref()?.id,
                            date: text("review_date")?,
                            took_part: text("took_part")? == "yes",
                            next_due: text("next_due")?,
                            outcome: f.heard.get("outcome").cloned(),
                        })
                    });
                    self.fx.extend(review);
                }
                Action::Relay { from } => self.relay(from),
                Action::Plan { answer, words } => self.plan_answer(answer, words.as_deref()),
                Action::Request {
                    kind,
                    to,
                    reason,
                    quote,
                } => self.fx.push(Effect::Alert {
                    to: *to,
                    reason: reason.clone(),
                    words: quote.as_ref().and_then(|key| {
                        self.s
                            .active
                            .as_ref()
                            .and_then(|f| f.heard.get(key).cloned())
                    }),
                    category: None,
                    rule: None,
                    copy_to: Vec::new(),
                    request: Some(kind.clone()),
                }),
                Action::Goal { change, goal, from } => {
                    self.goal_action(*change, goal.as_deref(), from.as_deref())
                }
                Action::SetCheckinTime { from } => {
                    let time = self
                        .s
                        .active
                        .as_ref()
                        .and_then(|f| f.answers.get(from))
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    if let Some(time) = time {
                        self.fx.push(Effect::SetCheckinTime(time));
                    }
                }
                Action::Alert { to, reason, quote } => {
                    let words = match quote {
                        Some(key) => self
                            .s
                            .active
                            .as_ref()
                            .and_then(|f| f.heard.get(key).cloned()),
                        None => self.last_words(),
                    };
                    self.fx.push(Effect::Alert {
                        to: *to,
                        reason: reason.clone(),
                        words,
                        category: None,
                        rule: None,
                        copy_to: Vec::new(),
                        request: None,
                    });
                }
            }
        }
    }

    /// The `plan` action: the resident's answer (`agree` or `not_agree`, stored under
    /// `answer`) about the newest version of their own plan, with their words if any.
    fn plan_answer(&mut self, answer: &str, words: Option<&str>) {
        let p = self.ctx.profile;
        let (Some(plan), Some(frame)) = (&p.plan, self.s.active.as_ref()) else {
            return;
        };
        if p.role != crate::domain::Role::Resident {
            return;
        }
        let agreed = match frame.answers.get(answer).and_then(|v| v.as_str()) {
            Some("agree") => true,
            Some("not_agree") => false,
            _ => return,
        };
        let words = words.and_then(|k| frame.heard.get(k).cloned());
        self.fx.push(Effect::PlanAnswer {
            plan: plan.id,
            version: plan.version,
            agreed,
            wording: plan.text(),
            words,
        });
    }

    /// The person's most recent stored answer in this turn, kept with alerts it triggered.
    pub(super) fn last_words(&self) -> Option<String> {
        self.fx.iter().rev().find_map(|e| match e {
            Effect::Store(a) => Some(a.raw.clone()),
            _ => None,
        })
    }
}
