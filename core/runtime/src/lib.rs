//! The runtime: load, step, persist, dispatch.
//!
//! [`Carebot::handle`] takes a message from any channel, finds who sent it, runs one engine
//! step inside one store transaction, and leaves the replies in the outbox. A channel then
//! drains the outbox with [`dispatch::dispatch_due`]. Adapters in `bots/` only translate
//! platform events into [`Inbound`] and outbox rows into platform calls.
//!
//! Also here: [`clock`] (where time comes from; tests use [`clock::ManualClock`]), [`admin`]
//! (setting a home up, with its rules) and [`demo`] (the demo home used by `carebot demo` and
//! the tests). This crate knows no chat platform: adapters depend on it, never the reverse.
#![warn(missing_docs)]

pub mod admin;
pub mod clock;
pub mod demo;

mod accounts;
mod digest;
pub mod dispatch;
mod effects;
mod later;
pub mod limiter;
mod retention;
mod reviews;
mod safeguarding;
pub mod schedule;
mod summary;
mod trust;
mod updates;
mod withheld;

pub use dispatch::{
    dispatch_due, outgoing, resume_deliveries, Carries, Channel, DeliveryError, RetryPolicy,
};
pub use limiter::{RateLimit, RateLimiter};
pub use schedule::{SchedulePolicy, TickReport};
pub use trust::KeyTrust;
pub use withheld::Withheld;

use crate::clock::Clock;
use carebot_engine::engine::OutMessage;
use carebot_engine::engine::{self, Context, Input, Settings};
use carebot_engine::flow::Dialogs;
use carebot_engine::ids::PersonId;
use carebot_store::people::Identity;
use carebot_store::turn::{InboundKey, NewOutbox};
use carebot_store::{Result, Store};
use std::sync::Arc;

/// A message from a person, as an adapter hands it over.
#[derive(Clone, Debug)]
pub struct Inbound {
    /// "console", "matrix", "discord".
    pub platform: String,
    /// The platform's immutable id of the sender (never a display name). Replies go here.
    pub sender: String,
    /// The platform's id of this event, for de-duplication.
    pub event_id: String,
    /// What they wrote (for a button press: the answer written on the button).
    pub text: String,
    /// For a button press: the question token the button carried
    /// ([`OutMessage::question`]); `None` for anything typed.
    pub pressed: Option<String>,
}

/// What became of an inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Stored and answered (the replies are in the outbox).
    Done,
    /// Seen before: nothing was done again.
    Duplicate,
    /// The sender is not linked to anyone: they were told nothing about anybody.
    UnknownAccount,
    /// The sender sent a valid `link CODE`: their account is now bound to a person.
    Linked,
    /// The sender is over their rate limit: nothing was stored (they are told once per flood).
    RateLimited,
}

/// The code in a `link CODE` message, upper-cased, if the message is one.
fn link_code(text: &str) -> Option<String> {
    let mut words = text.split_whitespace();
    let first = words.next()?;
    let code = words.next()?;
    let valid = first.eq_ignore_ascii_case("link")
        && words.next().is_none()
        && (4..=24).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| code.to_ascii_uppercase())
}

/// Carebot, wired up.
pub struct Carebot {
    /// The database.
    pub store: Store,
    /// Flows, texts and intents.
    pub dialogs: Arc<Dialogs>,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// The home's settings.
    pub settings: Settings,
    /// When scheduled check-ins are nudged, counted as missed, and escalated.
    pub schedule: SchedulePolicy,
    /// Per-sender rate limits (set `limiter.limit` to change them).
    pub limiter: RateLimiter,
}

impl Carebot {
    /// Wires up a runtime: records the current flow versions and re-adds older stored ones so
    /// conversations pinned to them carry on.
    pub async fn new(
        store: Store,
        dialogs: Arc<Dialogs>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Self> {
        let now = clock.now().timestamp_millis();
        for flow in dialogs.flows() {
            store
                .save_flow_version(flow.id(), &flow.version, &flow.source, now)
                .await?;
        }
        for source in store.flow_sources().await? {
            if let Err(problem) = dialogs.add_version(&source) {
                // An old version that no longer parses (e.g. after an upgrade) cannot be resumed;
                // conversations pinned to it end politely when next touched.
                tracing::warn!(%problem.message, "a stored flow version could not be loaded");
            }
        }
        Ok(Self {
            store,
            dialogs,
            clock,
            settings,
            schedule: SchedulePolicy::default(),
            limiter: RateLimiter::default(),
        })
    }

    /// Handles one inbound message. Returns after the turn has committed.
    #[tracing::instrument(skip_all, fields(platform = %msg.platform))]
    pub async fn handle(&self, msg: &Inbound) -> Result<Handled> {
        let now = self.clock.now();
        let who = Identity {
            platform: msg.platform.clone(),
            address: msg.sender.clone(),
        };
        let key = InboundKey {
            platform: msg.platform.clone(),
            event_id: msg.event_id.clone(),
        };
        if let Some(refused) = self.rate_limit(msg, &who, &key, now).await? {
            return Ok(refused);
        }
        // A fresh code from staff re-links an account that is already linked (after its
        // identity changed, say); anything else that looks like a code is an ordinary message.
        if msg.pressed.is_none()
            && link_code(&msg.text).is_some()
            && self
                .try_link(&who, &key, &msg.text, now.timestamp_millis())
                .await?
        {
            return Ok(Handled::Linked);
        }
        // The sender and their profile in one go (a round trip fewer per message).
        let Some(profile) = self.store.profile_for(&who).await? else {
            return self
                .unknown_account(&who, &key, &msg.text, now.timestamp_millis())
                .await;
        };
        let outcome = self
            .turn_with(
                profile,
                &who,
                Some(&key),
                match &msg.pressed {
                    Some(question) => Input::Pressed {
                        question: question.clone(),
                        answer: msg.text.clone(),
                    },
                    None => Input::Message(msg.text.clone()),
                },
                now,
                None,
            )
            .await?;
        Ok(if outcome {
            Handled::Done
        } else {
            Handled::Duplicate
        })
    }

    /// Applies the sender's rate limit. `None`: go ahead. A call for help always goes ahead.
    async fn rate_limit(
        &self,
        msg: &Inbound,
        who: &Identity,
        key: &InboundKey,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Handled>> {
        let verdict = self
            .limiter
            .check(&msg.platform, &msg.sender, now.timestamp_millis());
        if verdict == limiter::Verdict::Allow {
            return Ok(None);
        }
        let urgent = self.dialogs.is_urgent(&msg.text);
        if urgent {
            return Ok(None);
        }
        if verdict == limiter::Verdict::RefuseAndWarn {
            let reply = NewOutbox {
                key: format!("slow.{}", key.event_id),
                person: self.store.person_for(who).await?,
                platform: who.platform.clone(),
                address: who.address.clone(),
                message: OutMessage {
                    text: self
                        .dialogs
                        .system
                        .text("slow_down", carebot_engine::flow::DEFAULT_LANGUAGE)
                        .to_string(),
                    ..Default::default()
                },
                ..Default::default()
            };
            self.store
                .reply_once(key, &[reply], now.timestamp_millis())
                .await?;
        }
        Ok(Some(Handled::RateLimited))
    }

    /// Starts a flow for `person` (the scheduler's daily check-in, or staff). Does nothing
    /// while they are paused or talking through another flow, or when they have no account.
    pub async fn start_flow(&self, person: PersonId, flow: &str) -> Result<bool> {
        let Some(who) = self.store.preferred_identity(person).await? else {
            return Ok(false);
        };
        let input = Input::Start {
            flow: flow.to_string(),
        };
        self.turn(person, &who, None, input, self.clock.now(), None)
            .await
    }

    /// One engine turn for `person`, replies going to `who`, de-duplicated by `key`. Returns
    /// false when `key` was seen before.
    pub(crate) async fn turn(
        &self,
        person: PersonId,
        who: &Identity,
        key: Option<&InboundKey>,
        input: Input,
        now: chrono::DateTime<chrono::Utc>,
        timer: Option<i64>,
    ) -> Result<bool> {
        let profile = self.store.profile(person).await?;
        self.turn_with(profile, who, key, input, now, timer).await
    }

    /// [`Carebot::turn`] with the person's profile already loaded.
    async fn turn_with(
        &self,
        profile: carebot_engine::domain::Profile,
        who: &Identity,
        key: Option<&InboundKey>,
        input: Input,
        now: chrono::DateTime<chrono::Utc>,
        timer: Option<i64>,
    ) -> Result<bool> {
        let person = profile.id;
        let missed_before = match input {
            Input::Timer {
                kind: engine::TimerKind::Missed,
                ..
            } => self.store.missed_in_a_row(person).await?,
            _ => 0,
        };
        let family_updates = self.family_updates_for(&profile, now).await?;
        let staff_summaries = self.staff_summaries_for(&profile, &input, now).await?;
        // The step may run on the store's writer task (SQLite group commit), so it owns what
        // it reads: the dialogs are shared, the rest is small.
        let (dialogs, settings, policy) = (
            self.dialogs.clone(),
            self.settings.clone(),
            self.schedule.clone(),
        );
        let who = who.clone();
        let local_date = carebot_engine::scheduler::local_date(now, self.settings.timezone)
            .format("%Y-%m-%d")
            .to_string();
        let written = self
            .store
            .run_turn(person, key, now.timestamp_millis(), move |state| {
                let ctx = Context {
                    dialogs: &dialogs,
                    profile: &profile,
                    settings: &settings,
                };
                let extras = effects::Extras {
                    policy: &policy,
                    now_ms: now.timestamp_millis(),
                    local_date,
                    missed_before,
                    timer,
                    family_updates,
                    staff_summaries,
                };
                let (state, fx) = engine::step(&ctx, state, input, now);
                effects::to_writes(&ctx, &who, state, fx, &extras)
            })
            .await?;
        if written.as_ref().is_some_and(|w| !w.alerts.is_empty()) {
            // An alert nobody can receive climbs the ladder now, not at the next tick.
            self.safeguard(now).await?;
        }
        Ok(written.is_some())
    }

    /// For a family member: what they would be told now about each of their residents (the
    /// last week, consented categories only).
    async fn family_updates_for(
        &self,
        profile: &carebot_engine::domain::Profile,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<updates::Prepared>> {
        let mut prepared = Vec::new();
        for resident in &profile.family_of {
            prepared.extend(
                self.prepare_update(resident, profile.id, now - chrono::Duration::days(7), false)
                    .await?,
            );
        }
        Ok(prepared)
    }

    /// An account nobody is linked to: a valid `link CODE` links it; anything else gets one
    /// short reply that says nothing about anyone.
    async fn unknown_account(
        &self,
        who: &Identity,
        key: &InboundKey,
        text: &str,
        now_ms: i64,
    ) -> Result<Handled> {
        if self.try_link(who, key, text, now_ms).await? {
            return Ok(Handled::Linked);
        }
        let text = self
            .dialogs
            .system
            .text("unknown_account", carebot_engine::flow::DEFAULT_LANGUAGE)
            .to_string();
        let reply = NewOutbox {
            key: format!("u.{}", key.event_id),
            person: None,
            platform: who.platform.clone(),
            address: who.address.clone(),
            message: OutMessage {
                text,
                ..Default::default()
            },
            ..Default::default()
        };
        let fresh = self.store.reply_once(key, &[reply], now_ms).await?;
        Ok(if fresh {
            Handled::UnknownAccount
        } else {
            Handled::Duplicate
        })
    }

    /// Redeems a valid `link CODE` in `text` for `who`; false if `text` is not one.
    async fn try_link(
        &self,
        who: &Identity,
        key: &InboundKey,
        text: &str,
        now_ms: i64,
    ) -> Result<bool> {
        if let Some(code) = link_code(text) {
            let system = &self.dialogs.system;
            let welcome = |person: PersonId, name: &str| {
                let first = name.split_whitespace().next().unwrap_or(name);
                let vars = serde_json::json!({ "person": { "name": name, "first_name": first } });
                let vars = vars.as_object().cloned().unwrap_or_default();
                let text = carebot_engine::engine::render::render(
                    system.text("link_done", carebot_engine::flow::DEFAULT_LANGUAGE),
                    &vars,
                );
                NewOutbox {
                    key: format!("l.{}", key.event_id),
                    person: Some(person),
                    platform: who.platform.clone(),
                    address: who.address.clone(),
                    message: OutMessage {
                        text,
                        ..Default::default()
                    },
                    ..Default::default()
                }
            };
            if self
                .store
                .redeem_link_code(&code, who, key, now_ms, welcome)
                .await?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
