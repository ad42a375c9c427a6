//! Global intents (help, stop, start, urgent, skip today, stop sharing, any news) and the
//! scheduler's follow-up timers: the parts of a turn that do not answer the current question.

use super::answer::normalize;
use super::io::{Effect, TimerKind};
use super::state::Awaiting;
use super::turn::{vars, Turn, CHECKIN, PRIVACY, REVIEW_DONE};
use crate::access::{allowed, staff_relation, Action, Actor, Resource};
use crate::domain::{Decision, Role};
use crate::flow::IntentAction;
use crate::understand::Guess;
use serde_json::{json, Map};

impl Turn<'_> {
    /// The intent a message means, with its name: an exact phrase (or a phrase that starts a
    /// `prefill` intent) first, then the closest examples. While a question waits for an
    /// answer only a very close match interrupts it.
    pub(super) fn find_intent(
        &self,
        norm: &str,
        heard: &crate::understand::Heard,
    ) -> Option<(String, IntentAction)> {
        let sys = &self.ctx.dialogs.system;
        let role = self.ctx.profile.role;
        if let Some((i, action)) = sys.intent_match(norm, role) {
            return Some((sys.intent[i].name(), action));
        }
        let matcher = &self.ctx.dialogs.matcher;
        let th = matcher.thresholds();
        let waiting = self.s.active.is_some() || self.s.awaiting != Awaiting::Nothing;
        let accept = if waiting { th.interrupt } else { th.accept };
        let heard = self.names_as_person(heard);
        match matcher.intent(&heard, role, accept) {
            Guess::One(i, _) => {
                let intent = &sys.intent[i];
                intent.action(None).map(|a| (intent.name(), a))
            }
            _ => None,
        }
    }

    /// The message with the names of people the speaker knows (their residents, their
    /// relative, their family) written as `person`, the word intent examples use for a name:
    /// "how is Ava" meets "how is person".
    fn names_as_person(&self, heard: &crate::understand::Heard) -> crate::understand::Heard {
        let p = self.ctx.profile;
        let names: Vec<String> = p
            .family_of
            .iter()
            .chain(&p.caring_for)
            .chain(&p.family)
            .flat_map(|r| crate::understand::text::tokenize(&r.name).words)
            .collect();
        crate::understand::Heard {
            words: heard
                .words
                .iter()
                .map(|w| {
                    if names.contains(w) {
                        "person".to_string()
                    } else {
                        w.clone()
                    }
                })
                .collect(),
        }
    }

    /// Offers "Did you mean …?" when a message is close to two or more intents. Returns
    /// false when nothing is close enough to ask about.
    pub(super) fn did_you_mean(&mut self, heard: &crate::understand::Heard, raw: &str) -> bool {
        let matcher = &self.ctx.dialogs.matcher;
        let role = self.ctx.profile.role;
        let heard = self.names_as_person(heard);
        let Guess::Close(options, _) = matcher.intent(&heard, role, matcher.thresholds().accept)
        else {
            return false;
        };
        let sys = &self.ctx.dialogs.system;
        let lang = self.lang().to_string();
        let labels: Vec<String> = options
            .iter()
            .enumerate()
            .map(|(n, i)| format!("{}. {}", n + 1, sys.intent[*i].label(&lang)))
            .collect();
        let names = options.iter().map(|i| sys.intent[*i].name()).collect();
        self.s.awaiting = Awaiting::DidYouMean {
            options: names,
            words: raw.to_string(),
        };
        self.say_system(
            "did_you_mean",
            vars([("options", json!(labels.join("\n")))]),
        );
        true
    }

    /// The intent picked from a "did you mean" list, by number or by its label.
    pub(super) fn chosen(&self, options: &[String], norm: &str) -> Option<(String, IntentAction)> {
        let sys = &self.ctx.dialogs.system;
        let lang = self.lang();
        let by_name = |name: &str| {
            sys.intent.iter().find(|i| {
                i.name() == name && (i.roles.is_empty() || i.roles.contains(&self.ctx.profile.role))
            })
        };
        let pick = match norm.parse::<usize>() {
            Ok(n) => options.get(n.checked_sub(1)?).and_then(|o| by_name(o)),
            Err(_) => options
                .iter()
                .filter_map(|o| by_name(o))
                .find(|i| normalize(&i.label(lang)) == norm),
        }?;
        pick.action(None).map(|a| (pick.name(), a))
    }

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
                if let Some(active) = self.s.active.take() {
                    self.s.suspended = Some(active);
                }
                let hit = crate::understand::Hit {
                    rule: "asked_for_help_now".into(),
                    category: "urgent".into(),
                    reason: "a call for help".into(),
                };
                if !self.raise(&[hit], raw) {
                    self.say_system("urgent_ack", Map::new());
                }
            }
            IntentAction::Greeting if self.s.paused => {
                self.say_system("paused_reminder", Map::new());
            }
            IntentAction::Greeting => {
                let key = match self.ctx.profile.role {
                    Role::Resident => "greeting",
                    Role::Family => "greeting_family",
                    _ => "greeting_staff",
                };
                self.say_system(key, Map::new());
                self.offer_resume();
            }
            IntentAction::Alerts if !self.may_write_for_residents(Resource::Alerts) => {
                self.say_system("fallback", Map::new());
            }
            IntentAction::Alerts => {
                let open = &self.ctx.profile.open_alerts;
                if open.is_empty() {
                    self.say_system("alerts_none", Map::new());
                } else {
                    let numbers: Vec<String> = open.iter().map(i64::to_string).collect();
                    self.say_system(
                        "alerts_open",
                        vars([
                            ("count", json!(open.len())),
                            ("numbers", json!(numbers.join(", "))),
                        ]),
                    );
                }
            }
            IntentAction::NotCheckedIn if !self.may_write_for_residents(Resource::Alerts) => {
                self.say_system("fallback", Map::new());
            }
            IntentAction::NotCheckedIn => {
                let today = crate::scheduler::local_date(self.now, self.ctx.settings.timezone)
                    .format("%Y-%m-%d")
                    .to_string();
                let p = &self.ctx.profile;
                let missing: Vec<_> = p
                    .expected_checkins
                    .iter()
                    .filter(|(_, done)| done.as_deref() != Some(today.as_str()))
                    .filter_map(|(who, _)| p.caring_for.iter().find(|r| r.id == *who))
                    .collect();
                let names: Vec<&str> = missing.iter().map(|r| r.name.as_str()).collect();
                // Whether each resident has checked in is theirs: every one asked about is
                // audited, listed or not.
                self.fx.push(Effect::StaffRead {
                    what: "not_checked_in".into(),
                    residents: p.expected_checkins.iter().map(|(who, _)| *who).collect(),
                });
                if names.is_empty() {
                    self.say_system("not_checked_in_none", Map::new());
                } else {
                    self.say_system(
                        "not_checked_in_list",
                        vars([
                            ("count", json!(names.len())),
                            ("names", json!(names.join(", "))),
                        ]),
                    );
                }
            }
            IntentAction::OpenRequests if !self.may_read_for_residents(Resource::Requests) => {
                self.say_system("fallback", Map::new());
            }
            IntentAction::OpenRequests => self.open_requests(),
            IntentAction::ReviewsDue if !self.may_read_for_residents(Resource::Reviews) => {
                self.say_system("fallback", Map::new());
            }
            IntentAction::ReviewsDue => self.reviews_due(),
            IntentAction::Summary { .. }
                if !self.may_read_for_residents(Resource::CheckinAnswers) =>
            {
                self.say_system("fallback", Map::new());
            }
            IntentAction::Summary { rest } => self.summary(&rest, raw),
            IntentAction::MessageTo { rest } => self.message_to(&rest, raw),
            IntentAction::Request {
                kind,
                to,
                reason,
                reply,
            } => self.make_request(kind, to, reason, &reply, raw),
            IntentAction::Close => self.close_request(raw),
            IntentAction::MyRequests => self.my_requests(),
            // Matched by a whole example or by similarity: the whole message names what and
            // with whom ("don't share my mood with Sam").
            IntentAction::Withdraw { rest } if rest.is_empty() => {
                self.withdraw(&normalize(raw), raw)
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
                let rest = if rest.is_empty() {
                    normalize(raw)
                } else {
                    rest
                };
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
                    } else if alert.is_some() {
                        // Never "noted" when nothing was: staff must not think an alert is
                        // in hand when it is not theirs or does not exist.
                        self.say_system("ack_nothing", Map::new());
                    } else {
                        self.say_system("alerts_none", Map::new());
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
    /// Whether the speaker, as staff of the residents they look after, may read `resource`
    /// (the profile holds only their own residents' rows).
    fn may_read_for_residents(&self, resource: Resource) -> bool {
        let role = self.ctx.profile.role;
        allowed(
            Actor::Person(role),
            Action::Read,
            resource,
            staff_relation(role),
        )
        .permits()
    }

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
