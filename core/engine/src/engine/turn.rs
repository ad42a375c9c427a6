//! The step function. Reading order: [`step`] → `on_message` (intents, then engine questions,
//! then the flow's question) → `answer` → `enter` (walks steps until the next question).

use super::answer::{self, normalize, Parsed};
use super::io::{AnswerRecord, Effect, Input};
use super::items::{self, Item};
use super::state::{Awaiting, Conversation, Frame, Return};
use super::Context;
use crate::domain::{Decision, GoalChange};
use crate::flow::model::{Ask, Step, Target};
use crate::flow::Flow;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Steps without a question walked in one turn before the engine gives up (the validator
/// rejects loops without questions; this is the belt to that pair of braces).
const MAX_HOPS: usize = 64;

/// The daily check-in's flow id: "skip today" ends it.
pub const CHECKIN: &str = "checkin";

/// The staff flow that records a care-plan review.
pub const REVIEW_DONE: &str = "review_done";

/// The flow that takes a message to pass on between a resident and their family.
pub const SEND_MESSAGE: &str = "send_message";

/// A suspended run older than this is not offered again.
const STALE_AFTER_MS: i64 = 12 * 60 * 60 * 1000;

/// The flow that shows and changes who can see what.
pub const PRIVACY: &str = "privacy";

/// Advances `state` by one `input`. Pure: the same arguments always give the same result.
pub fn step(
    ctx: &Context<'_>,
    state: Conversation,
    input: Input,
    now: DateTime<Utc>,
) -> (Conversation, Vec<Effect>) {
    let mut t = Turn {
        ctx,
        s: state,
        fx: Vec::new(),
        now,
        concern_raised: false,
    };
    t.forget_stale_runs();
    t.s.turn += 1;
    match input {
        Input::Message(raw) => t.on_message(&raw),
        Input::Start { flow } => {
            if !t.s.paused && t.s.active.is_none() {
                t.start_flow(&flow);
                if let Some(frame) = &t.s.active {
                    let (flow, run) = (frame.flow.clone(), frame.run);
                    t.fx.push(Effect::Started { flow, run });
                }
            }
        }
        Input::Pressed { question, answer } => t.on_press(&question, &answer),
        Input::Timer { kind, flow, run } => t.on_timer(kind, &flow, run),
        Input::AccountChanged { platform } => t.on_account_changed(&platform),
    }
    (t.s, t.fx)
}

/// One turn in progress: the context, the conversation being changed, the effects so far.
pub(super) struct Turn<'a> {
    pub(super) ctx: &'a Context<'a>,
    pub(super) s: Conversation,
    pub(super) fx: Vec<Effect>,
    pub(super) now: DateTime<Utc>,
    /// A concern was raised this turn: the resident has had a reply, so an answer that does
    /// not fit the question is asked again without "sorry, I didn't understand".
    pub(super) concern_raised: bool,
}

impl Turn<'_> {
    pub(super) fn lang(&self) -> &str {
        &self.ctx.profile.language
    }

    /// A button press: the answer, if the button belongs to the question waiting now;
    /// otherwise "that question has passed", and nothing changes.
    fn on_press(&mut self, question: &str, answer: &str) {
        let current = (self.s.awaiting == Awaiting::Nothing)
            .then(|| self.s.active.as_ref().map(Frame::question))
            .flatten();
        if current.as_deref() == Some(question) {
            return self.on_message(answer);
        }
        self.say_system("question_passed", Map::new());
        // The question waiting now, with its own buttons, so the right one is at hand.
        if self.s.awaiting == Awaiting::Nothing {
            self.ask_again();
        }
    }

    fn on_message(&mut self, raw: &str) {
        if raw.trim().is_empty() {
            // Only spaces, or a picture or voice note (which channels pass on as no text):
            // every message gets a reply, and this one changes nothing.
            return self.say_system("no_words", Map::new());
        }
        let length = raw.chars().count();
        let limit = self.ctx.settings.max_message_chars;
        // Safety first: concern rules see every message, however long (its readable part).
        let readable: String = if length > limit {
            raw.chars().take(limit).collect()
        } else {
            raw.to_string()
        };
        let heard = self.ctx.dialogs.matcher.hear(&readable);
        if self.ctx.profile.role == crate::domain::Role::Resident {
            let hits = self.ctx.dialogs.matcher.concerns(&heard);
            if self.on_concerns(&hits, raw) {
                return;
            }
        }
        if length > limit {
            return self.on_long_message(raw, length);
        }
        let norm = normalize(raw);
        if let Some((name, intent)) = self
            .find_intent(&norm, &heard)
            .filter(|(name, _)| !self.held_back(name, &norm, &heard.words.join(" ")))
        {
            // "complain" picks "How to complain" from a menu: an answer that fits the question
            // waiting wins over every intent but the few that work from anywhere.
            if always_interrupts(&intent) || !self.answer_fits(raw, &norm) {
                self.fx.push(Effect::Intent(name));
                return self.on_intent(intent, raw);
            }
        }
        match std::mem::take(&mut self.s.awaiting) {
            Awaiting::ResumeOffer => match answer::yes_no(&norm) {
                Some(true) => return self.resume_suspended(),
                Some(false) => {
                    self.s.suspended = None;
                    return self.say_system("resume_declined", Map::new());
                }
                None => {}
            },
            Awaiting::Handoff { words } => match answer::yes_no(&norm) {
                Some(true) => return self.hand_off(words),
                Some(false) => {
                    self.say_system("handoff_declined", Map::new());
                    if let Some(f) = self.s.active.as_mut() {
                        f.retries = 0;
                    }
                    return self.ask_again();
                }
                None => {}
            },
            Awaiting::DidYouMean { options, words } => {
                if let Some((name, intent)) = self.chosen(&options, &norm) {
                    self.fx.push(Effect::Intent(name));
                    let said = if words.is_empty() {
                        raw
                    } else {
                        words.as_str()
                    };
                    return self.on_intent(intent, said);
                }
            }
            Awaiting::Nothing => {}
        }
        if self.s.active.is_some() {
            self.answer(raw, &norm, None);
        } else if self.concern_raised {
            // Already answered with who will come; nothing more to say.
        } else if self.s.paused {
            self.say_system("paused_reminder", Map::new());
        } else if !self.did_you_mean(&heard, raw) && !self.greeted(&heard, raw) {
            self.say_system("fallback", Map::new());
        }
    }

    /// Whether `raw` answers the question waiting (a structured one: choice, scale, yes/no,
    /// number, time or date; any text would "answer" a free-text question).
    /// True when intent `name` has `needs_one_of` words, the message holds none of them, and
    /// either it is only close to one of the intent's phrases or it would stop a question
    /// that takes words (which it then answers).
    /// `corrected` is the message's words as understanding reads them (typos corrected).
    fn held_back(&self, name: &str, norm: &str, corrected: &str) -> bool {
        let sys = &self.ctx.dialogs.system;
        let Some(intent) = sys.intent.iter().find(|i| i.name() == name) else {
            return false;
        };
        if intent.needs_one_of.is_empty()
            || intent.needs_one_of.iter().any(|w| {
                let w = normalize(w);
                crate::flow::system::contains_words(norm, &w)
                    || crate::flow::system::contains_words(corrected, &w)
            })
        {
            return false;
        }
        let exact = sys
            .intent_match(norm, self.ctx.profile.role)
            .is_some_and(|(i, _)| sys.intent[i].name() == name);
        if !exact {
            return true;
        }
        if self.s.awaiting != Awaiting::Nothing {
            return false;
        }
        self.current().is_some_and(|(flow, id)| {
            flow.step(&id)
                .and_then(|s| s.ask.as_ref())
                .is_some_and(|a| matches!(a, Ask::Text { .. }))
        })
    }

    fn answer_fits(&self, raw: &str, norm: &str) -> bool {
        if self.s.awaiting != Awaiting::Nothing {
            return false;
        }
        let Some((flow, id)) = self.current() else {
            return false;
        };
        let Some(ask) = flow.step(&id).and_then(|s| s.ask.as_ref()) else {
            return false;
        };
        if matches!(ask, Ask::Text { .. }) {
            return false;
        }
        let today = self
            .now
            .with_timezone(&self.ctx.settings.timezone)
            .date_naive();
        let ask = &*self.concrete_ask(ask);
        answer::parse(ask, raw, norm, self.lang(), today).is_some()
    }

    /// "Hello, this is Ava's son": a message that opens with a greeting and means nothing
    /// else Carebot knows is greeted back, with the short menu.
    fn greeted(&mut self, heard: &crate::understand::Heard, raw: &str) -> bool {
        let sys = &self.ctx.dialogs.system;
        let Some(first) = heard.words.first() else {
            return false;
        };
        let greeting = sys
            .intent
            .iter()
            .find(|i| i.kind == crate::flow::IntentKind::Greeting);
        let Some(g) = greeting.filter(|g| {
            g.phrases
                .iter()
                .any(|p| crate::understand::text::tokenize(p).words.first() == Some(first))
        }) else {
            return false;
        };
        if let Some(action) = g.action(None) {
            self.fx.push(Effect::Intent(g.name()));
            self.on_intent(action, raw);
        }
        true
    }

    /// Raises alerts for what a resident said. An urgent category (one that `interrupts`)
    /// ends the turn: a free-text answer is kept, any flow is set aside, and the resident
    /// hears only who is coming. Returns true when the turn is over.
    fn on_concerns(&mut self, hits: &[crate::understand::Hit], raw: &str) -> bool {
        let Some(top) = hits.first() else {
            return false;
        };
        let interrupts = self.category(&top.category).is_some_and(|c| c.interrupts);
        if interrupts {
            self.keep_if_free_text(raw);
            self.s.awaiting = Awaiting::Nothing;
            if let Some(active) = self.s.active.take() {
                self.s.suspended = Some(active);
            }
        }
        self.concern_raised = self.raise(hits, raw);
        interrupts && self.concern_raised
    }

    /// When the question waiting is free text, stores `raw` as its answer (the person's words
    /// are kept as said even when an urgent concern cuts the flow short).
    fn keep_if_free_text(&mut self, raw: &str) {
        let Some((flow, id)) = self.current() else {
            return;
        };
        let Some(step) = flow.step(&id) else {
            return;
        };
        if self.s.awaiting != Awaiting::Nothing || !matches!(step.ask, Some(Ask::Text { .. })) {
            return;
        }
        let Some(ask) = &step.ask else {
            return;
        };
        let (kept, cut_from) = self.cap(ask, raw, None);
        let parsed = Parsed {
            value: json!(kept),
            key: None,
            number: None,
        };
        // The flow stays at this question: offered again later, it asks it again (walking on
        // would say the next steps' texts before the urgent reply).
        self.record(&flow, step, &parsed, kept, cut_from);
    }

    /// A message longer than the engine reads: kept (capped, with a note) if the question wants
    /// free text, otherwise politely refused.
    fn on_long_message(&mut self, raw: &str, length: usize) {
        let wants_text = self.current().is_some_and(|(flow, id)| {
            flow.step(&id)
                .is_some_and(|s| matches!(s.ask, Some(Ask::Text { .. })))
        });
        if wants_text {
            self.answer(raw, "", Some(length));
        } else {
            let limit = self.ctx.settings.max_message_chars;
            self.say_system("too_long", vars([("limit", json!(limit))]));
        }
    }

    /// The flow (at the pinned version) and the id of the step waiting for an answer.
    pub(super) fn current(&self) -> Option<(Arc<Flow>, String)> {
        let frame = self.s.active.as_ref()?;
        let flow = self.ctx.dialogs.version(&frame.flow, &frame.version)?;
        Some((flow, frame.step.clone()))
    }

    /// Starts a staff flow about `resident` (who the templates call `about`).
    pub(super) fn start_flow_about(&mut self, id: &str, resident: crate::domain::Relative) {
        self.start_flow(id);
        if let Some(frame) = self.s.active.as_mut().filter(|f| f.flow == id) {
            frame.about = Some(resident);
            // The first question was rendered before `about` was set: ask it again with it.
            self.fx.retain(|e| !matches!(e, Effect::Send(_)));
            self.ask_again();
        }
    }

    pub(super) fn start_flow(&mut self, id: &str) {
        // Family and staff get their own variant of a flow where the dialogs have one
        // (`help_family`, `help_staff`).
        let id = crate::flow::system::audience(self.ctx.profile.role)
            .map(|a| format!("{id}_{a}"))
            .filter(|variant| self.ctx.dialogs.flow(variant).is_some())
            .unwrap_or_else(|| id.to_string());
        let Some(flow) = self.ctx.dialogs.flow(&id) else {
            return self.say_system("fallback", Map::new());
        };
        self.s.active = Some(Frame {
            flow: id.clone(),
            version: flow.version.clone(),
            step: flow.start().to_string(),
            item: 0,
            retries: 0,
            run: self.s.turn,
            answers: Default::default(),
            heard: Default::default(),
            flagged: Vec::new(),
            returning: None,
            started_ms: Some(self.now.timestamp_millis()),
            about: None,
        });
        let start = flow.start().to_string();
        self.enter(&flow, start);
    }

    /// Answers the current question with `raw`. `truncated_from` is set for over-long messages.
    pub(super) fn answer(&mut self, raw: &str, norm: &str, truncated_from: Option<usize>) {
        let Some((flow, step_id)) = self.current() else {
            return self.abandon();
        };
        let Some(step) = flow.step(&step_id) else {
            return self.abandon();
        };
        let Some(ask) = &step.ask else {
            return self.advance(&flow, step, None);
        };
        let today = self
            .now
            .with_timezone(&self.ctx.settings.timezone)
            .date_naive();
        let ask = &*self.concrete_ask(ask);
        let (kept, cut_from) = self.cap(ask, raw, truncated_from);
        let Some(parsed) = answer::parse(ask, &kept, norm, self.lang(), today) else {
            return self.not_understood(step, raw);
        };
        let words = kept.clone();
        self.record(&flow, step, &parsed, kept, cut_from);
        if let Some(key) = &step.store {
            self.check_scores(key, &parsed, &words);
        }
        if cut_from.is_some() {
            let limit = kept_limit(ask, self.ctx.settings.max_answer_chars);
            let length = cut_from.unwrap_or_default();
            self.say_system(
                "truncated_note",
                vars([("limit", json!(limit)), ("length", json!(length))]),
            );
        }
        self.advance(&flow, step, Some(&parsed));
    }

    /// Free text is kept verbatim up to its limit; beyond that, cut with a note.
    fn cap(&self, ask: &Ask, raw: &str, long: Option<usize>) -> (String, Option<usize>) {
        if !matches!(ask, Ask::Text { .. }) {
            return (raw.to_string(), None);
        }
        let limit = kept_limit(ask, self.ctx.settings.max_answer_chars);
        let length = long.unwrap_or_else(|| raw.chars().count());
        if length <= limit {
            return (raw.to_string(), None);
        }
        (raw.chars().take(limit).collect(), Some(length))
    }

    pub(super) fn record(
        &mut self,
        flow: &Flow,
        step: &Step,
        parsed: &Parsed,
        raw: String,
        truncated_from: Option<usize>,
    ) {
        let index = self.s.active.as_ref().map_or(0, |f| f.item);
        let (goal, consent) = match items::get(self.ctx, step.for_each, index) {
            Some(Item::Goal(g)) => (Some(g.id), None),
            Some(Item::Suggested(g)) => {
                // A staff suggestion: "yes", "no", or the goal in their own words.
                let change = match answer::yes_no(&normalize(&raw)) {
                    Some(true) => GoalChange::Accept,
                    Some(false) => GoalChange::Decline,
                    None => GoalChange::AcceptAs { text: raw.clone() },
                };
                self.fx.push(Effect::Goal {
                    goal: Some(g.id),
                    change,
                });
                (None, None)
            }
            Some(Item::Consent { family, category }) => {
                (None, Some((family.id, category.id.clone())))
            }
            // The plan's answer is kept like any other; a `plan` action records it.
            Some(Item::Plan(_)) | None => (None, None),
        };
        if let Some((family, category)) = consent {
            // A consent decision: kept with the exact words the person was asked.
            if let Some(decision) = parsed
                .key
                .as_deref()
                .and_then(|k| k.parse::<Decision>().ok())
            {
                let wording = self.step_text(step).unwrap_or_default();
                self.fx.push(Effect::Consent {
                    family,
                    category,
                    decision,
                    wording,
                    version: flow.version.clone(),
                });
            }
        }
        let Some(frame) = self.s.active.as_mut() else {
            return;
        };
        frame.retries = 0;
        let Some(key) = step.store.clone() else {
            return;
        };
        frame.heard.insert(key.clone(), raw.clone());
        match goal {
            Some(_) => {
                let list = frame
                    .answers
                    .entry(key.clone())
                    .or_insert_with(|| json!([]));
                if let Value::Array(items) = list {
                    let text = self
                        .ctx
                        .profile
                        .goals
                        .get(frame.item)
                        .map(|g| g.text.clone());
                    items.push(json!({ "goal": text, "answer": parsed.value }));
                }
            }
            None => {
                frame.answers.insert(key.clone(), parsed.value.clone());
            }
        }
        self.fx.push(Effect::Store(AnswerRecord {
            flow: flow.id().to_string(),
            version: flow.version.clone(),
            run: frame.run,
            step: step.id.get_ref().clone(),
            key,
            goal,
            value: parsed.value.clone(),
            raw,
            truncated_from,
        }));
    }

    fn not_understood(&mut self, step: &Step, raw: &str) {
        if self.concern_raised {
            // They have been told who is coming; ask the question again, gently.
            return self.ask_again();
        }
        let max = self.ctx.settings.max_retries;
        let Some(frame) = self.s.active.as_mut() else {
            return;
        };
        frame.retries = frame.retries.saturating_add(1).min(max);
        if frame.retries >= max {
            self.s.awaiting = Awaiting::Handoff {
                words: raw.to_string(),
            };
            return self.say_system("retry_exhausted", Map::new());
        }
        let hint = self.hint(step);
        self.say_system("not_understood", vars([("hint", json!(hint))]));
    }

    /// After an answer (or a skip): the next goal of a `for_each` step, a branch, or `next`.
    fn advance(&mut self, flow: &Arc<Flow>, step: &Step, parsed: Option<&Parsed>) {
        if step.for_each.is_some() {
            if let Some(frame) = self.s.active.as_mut() {
                match items::next(self.ctx, step.for_each, frame.item + 1, frame.started_ms) {
                    Some(next) => {
                        frame.item = next;
                        return self.ask_again();
                    }
                    None => frame.item = 0,
                }
            }
        }
        let branch = parsed.and_then(|p| step.branch.iter().find(|b| branch_matches(b, p)));
        if let (Some(b), Some(then)) = (branch, branch.and_then(|b| b.then.as_ref())) {
            // A correction: the part ends where the flow would carry on past the step it
            // goes to; there it comes back to `then` instead.
            let at = flow
                .step(b.next.get_ref())
                .and_then(|target| target.next.as_ref())
                .map(|n| n.get_ref().clone());
            if let Some(frame) = self.s.active.as_mut() {
                frame.returning = at.map(|at| Return {
                    to: then.get_ref().clone(),
                    at,
                });
            }
        }
        let next = branch
            .map(|b| b.next.get_ref().clone())
            .or_else(|| step.next.as_ref().map(|n| n.get_ref().clone()));
        match next {
            Some(id) => self.enter(flow, id),
            None => self.finish(),
        }
    }

    /// Walks from step `id` through steps without questions, saying and doing what they say,
    /// and stops at the next question or the end of the flow.
    fn enter(&mut self, flow: &Arc<Flow>, mut id: String) {
        for _ in 0..MAX_HOPS {
            if let Some(frame) = self.s.active.as_mut() {
                if frame.returning.as_ref().is_some_and(|r| r.at == id) {
                    id = frame.returning.take().map(|r| r.to).unwrap_or(id);
                }
            }
            let Some(step) = flow.step(&id) else {
                return self.abandon();
            };
            let started = self.s.active.as_ref().and_then(|f| f.started_ms);
            let first = items::next(self.ctx, step.for_each, 0, started);
            if step.for_each.is_some() && first.is_none() {
                match &step.next {
                    Some(n) => {
                        id = n.get_ref().clone();
                        continue;
                    }
                    None => return self.finish(),
                }
            }
            if let Some(frame) = self.s.active.as_mut() {
                frame.step = id.clone();
                frame.retries = 0;
                frame.item = first.unwrap_or(0);
                // Asking about every goal again (a correction) replaces the earlier list.
                if let (Some(_), Some(key)) = (step.for_each, &step.store) {
                    frame.answers.remove(key);
                }
            }
            if matches!(step.ask, Some(Ask::Goal)) && self.own_goals().is_empty() {
                self.say_system("goals_none", Map::new());
                return self.finish();
            }
            self.run_actions(step);
            self.say_step(step);
            if step.ask.is_some() {
                return;
            }
            match &step.next {
                Some(n) => id = n.get_ref().clone(),
                None => return self.finish(),
            }
        }
        self.abandon();
    }

    /// Repeats the current question (after an interruption or a "no" to the handoff offer).
    pub(super) fn ask_again(&mut self) {
        let Some((flow, id)) = self.current() else {
            return;
        };
        if let Some(step) = flow.step(&id) {
            self.say_step(step);
        }
    }

    pub(super) fn resume_suspended(&mut self) {
        self.s.active = self.s.suspended.take();
        self.ask_again();
    }

    /// Drops runs that started too long ago to carry on (yesterday's check-in is not today's):
    /// a suspended one is no longer offered, and an abandoned active one no longer blocks the
    /// next scheduled check-in. Runs stored before start times were kept count as fresh.
    pub(super) fn forget_stale_runs(&mut self) {
        let cutoff = self.now.timestamp_millis() - STALE_AFTER_MS;
        let stale = |f: &Option<Frame>| {
            f.as_ref()
                .is_some_and(|f| f.started_ms.is_some_and(|t| t < cutoff))
        };
        if stale(&self.s.suspended) {
            self.s.suspended = None;
            if self.s.awaiting == Awaiting::ResumeOffer {
                self.s.awaiting = Awaiting::Nothing;
            }
        }
        if stale(&self.s.active) {
            self.s.active = None;
            self.s.awaiting = Awaiting::Nothing;
        }
    }

    pub(super) fn offer_resume(&mut self) {
        let Some(frame) = &self.s.suspended else {
            return;
        };
        if self.s.active.is_some() {
            return;
        }
        let title = self
            .ctx
            .dialogs
            .version(&frame.flow, &frame.version)
            .map(|f| f.doc.flow.title.clone())
            .unwrap_or_default();
        self.s.awaiting = Awaiting::ResumeOffer;
        self.say_system("resume_offer", vars([("title", json!(title))]));
    }

    fn hand_off(&mut self, words: String) {
        self.fx.push(Effect::Alert {
            to: Target::Keyworker,
            reason: "asked for a person".into(),
            words: Some(words),
            category: None,
            rule: None,
            copy_to: Vec::new(),
            request: None,
        });
        self.say_system("handoff_done", Map::new());
        if let Some((flow, id)) = self.current() {
            if let Some(step) = flow.step(&id) {
                self.advance(&flow, step, None);
            }
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(frame) = self.s.active.take() {
            self.fx.push(Effect::FlowEnded {
                flow: frame.flow,
                run: frame.run,
                started_ms: frame.started_ms,
            });
        }
        if !self.s.paused {
            self.offer_resume();
        }
    }

    /// The pinned flow cannot be found (should not happen: the runtime loads it). Drop it
    /// rather than trap the person in a broken conversation.
    pub(super) fn abandon(&mut self) {
        if let Some(frame) = self.s.active.take() {
            self.fx.push(Effect::FlowEnded {
                flow: frame.flow,
                run: frame.run,
                started_ms: frame.started_ms,
            });
        }
        self.say_system("fallback", Map::new());
    }
}

/// Intents that interrupt any question, even one the message would answer.
fn always_interrupts(intent: &crate::flow::IntentAction) -> bool {
    use crate::flow::IntentAction as A;
    match intent {
        A::Pause | A::Resume | A::SkipToday | A::Urgent => true,
        A::Flow { flow, .. } => flow == "help",
        _ => false,
    }
}

fn kept_limit(ask: &Ask, default: usize) -> usize {
    match ask {
        Ask::Text { max_chars: Some(n) } => *n,
        _ => default,
    }
}

fn branch_matches(b: &crate::flow::Branch, p: &Parsed) -> bool {
    let when_ok = b
        .when
        .as_ref()
        .is_none_or(|w| p.key.as_deref() == Some(w.as_str()));
    let most_ok = b.at_most.is_none_or(|m| p.number.is_some_and(|n| n <= m));
    let least_ok = b.at_least.is_none_or(|m| p.number.is_some_and(|n| n >= m));
    when_ok && most_ok && least_ok
}

pub(super) fn vars<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
