//! Turning the engine's effects into store writes: replies to the account that spoke, alerts
//! fanned out to staff, answers kept as given, and the scheduler's bookkeeping.

use super::schedule::SchedulePolicy;
use carebot_engine::domain::Basis;
use carebot_engine::engine::render::{base_vars, render};
use carebot_engine::engine::requests::what_key;
use carebot_engine::engine::turn::CHECKIN;
use carebot_engine::engine::{Context, Conversation, Effect, OutMessage, TimerKind};
use carebot_engine::flow::Target;
use carebot_store::audit::AuditEntry;
use carebot_store::people::Identity;
use carebot_store::plans::NewPlanAnswer;
use carebot_store::schedule::CheckinStatus;
use carebot_store::turn::{
    CheckinChange, NewAck, NewAlert, NewClose, NewConsent, NewOutbox, NewRelay, NewReview,
    NewTimer, TurnWrites, ALERT_NUMBER,
};
use serde_json::json;

/// What the runtime knows about a turn besides the engine's effects.
pub(super) struct Extras<'a> {
    /// Follow-up delays and the missed-check-in alert threshold.
    pub policy: &'a SchedulePolicy,
    /// When the turn happens.
    pub now_ms: i64,
    /// The home's local date at that moment ("YYYY-MM-DD").
    pub local_date: String,
    /// Scheduled check-ins missed in a row before this turn.
    pub missed_before: u32,
    /// The timer this turn handles, if it is a timer turn.
    pub timer: Option<i64>,
    /// For a family member: the updates they would get if they asked now.
    pub family_updates: Vec<super::updates::Prepared>,
    /// For a member of staff: the summaries of the residents their message names.
    pub staff_summaries: Vec<super::summary::Prepared>,
}

pub(super) fn to_writes(
    ctx: &Context<'_>,
    to: &Identity,
    state: Conversation,
    fx: Vec<Effect>,
    x: &Extras<'_>,
) -> TurnWrites {
    let person = ctx.profile.id;
    let mut w = TurnWrites {
        state,
        ..Default::default()
    };
    w.timers_done.extend(x.timer);
    for effect in fx {
        match effect {
            Effect::Send(message) => {
                reply(&mut w, person, to, message);
            }
            Effect::Store(answer) => w.answers.push(answer),
            Effect::Alert {
                to: target,
                reason,
                words,
                copy_to,
                request,
                ..
            } => {
                let mut a = match request {
                    Some(kind) => request_alert(ctx, target, reason, words, kind),
                    None => alert(ctx, target, reason, words),
                };
                a.copy_to_manager = copy_to.contains(&Target::Manager);
                w.alerts.push(a);
            }
            Effect::Close {
                request,
                kind,
                outcome,
            } => {
                // Rendered for the member of staff's context, as the acknowledgement is.
                let lang = &ctx.profile.language;
                let mut vars = base_vars(ctx, None);
                let what = ctx.dialogs.system.text(&what_key(&kind), lang).to_string();
                vars.insert("staff".into(), json!(ctx.profile.name));
                vars.insert("what".into(), json!(what));
                vars.insert("outcome".into(), json!(outcome));
                let text = render(ctx.dialogs.system.text("request_closed", lang), &vars);
                // What was done about a resident's request is about their care.
                let notice = OutMessage {
                    text,
                    sensitive: true,
                    ..Default::default()
                };
                w.closes.push(NewClose {
                    request,
                    outcome,
                    notice,
                });
            }
            Effect::Intent(_) => {}
            Effect::Started { flow, run } => {
                if flow == CHECKIN {
                    w.checkins.push(CheckinChange::Started {
                        run,
                        local_date: x.local_date.clone(),
                    });
                }
                // The nudge speaks of "today's check-in", so only a check-in is nudged; any
                // scheduled run left unanswered is closed (a question asked again later, or
                // a review's preparation, asks once and then gets out of the way).
                let nudge = (flow == CHECKIN).then_some((TimerKind::Nudge, x.policy.nudge_after));
                for (kind, after) in nudge
                    .into_iter()
                    .chain([(TimerKind::Missed, x.policy.missed_after)])
                {
                    let due_ms = x.now_ms + after.num_milliseconds();
                    w.timers.push(NewTimer {
                        kind,
                        flow: flow.clone(),
                        run,
                        due_ms,
                    });
                }
            }
            Effect::Missed { flow, run } => {
                if flow == CHECKIN {
                    w.checkins.push(CheckinChange::Ended {
                        run,
                        status: CheckinStatus::Missed,
                    });
                    let in_a_row = x.missed_before + 1;
                    if in_a_row >= x.policy.alert_after_misses {
                        let reason = format!("has missed {in_a_row} check-ins in a row");
                        w.alerts.push(alert(ctx, Target::Keyworker, reason, None));
                    }
                }
            }
            Effect::FlowEnded {
                flow,
                run,
                started_ms,
            } => {
                if flow == CHECKIN {
                    // The day the run began: a check-in answered past midnight is that day's.
                    let day = started_ms
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|at| {
                            carebot_engine::scheduler::local_date(at, ctx.settings.timezone)
                                .format("%Y-%m-%d")
                                .to_string()
                        })
                        .unwrap_or_else(|| x.local_date.clone());
                    // Completes the scheduler's row, or records a check-in the resident asked
                    // for, so it counts for "who hasn't checked in", the digest and summaries;
                    // and the scheduler does not ask again that day.
                    w.claim.push(super::schedule::checkin_key(person, &day));
                    w.checkins.push(CheckinChange::Done {
                        run,
                        local_date: day,
                    });
                }
            }
            Effect::SkipToday => {
                w.checkins.push(CheckinChange::Skipped {
                    local_date: x.local_date.clone(),
                });
                w.claim
                    .push(super::schedule::checkin_key(person, &x.local_date));
            }
            Effect::SetCheckinTime(time) => w.checkin_time = Some(time),
            Effect::Consent {
                family,
                category,
                decision,
                wording,
                version,
            } => w.consents.push(NewConsent {
                family,
                category,
                decision,
                wording,
                wording_version: version,
                channel: to.platform.clone(),
                basis: Basis::Resident,
                recorded_by: person,
            }),
            Effect::Ack(alert) => {
                // Rendered for the member of staff's context (their name); the resident's
                // own language is not known here yet (issue 15).
                let mut vars = base_vars(ctx, None);
                vars.insert("staff".into(), json!(ctx.profile.name));
                let text = render(
                    ctx.dialogs.system.text("alert_seen", &ctx.profile.language),
                    &vars,
                );
                let notice = OutMessage {
                    text,
                    ..Default::default()
                };
                w.acks.push(NewAck { alert, notice });
            }
            Effect::SetUpdateCadence(c) => w.update_cadence = Some(c),
            Effect::ReviewDone {
                resident,
                date,
                took_part,
                next_due,
                outcome,
            } => {
                // Rendered in the staff member's language: the resident's is not known here
                // yet (issue 15).
                let mut vars = base_vars(ctx, None);
                vars.insert("staff".into(), json!(ctx.profile.name));
                vars.insert("date".into(), json!(date));
                vars.insert("next_due".into(), json!(next_due));
                vars.insert("took_part".into(), json!(took_part));
                vars.insert("outcome".into(), json!(outcome));
                let text = render(
                    ctx.dialogs
                        .system
                        .text("review_recorded", &ctx.profile.language),
                    &vars,
                );
                w.reviews.push(NewReview {
                    resident,
                    date,
                    took_part,
                    next_due,
                    notice: OutMessage {
                        text,
                        sensitive: true,
                        ..Default::default()
                    },
                });
            }
            Effect::UpdateRequested => {
                if x.family_updates.is_empty() {
                    let text = render(
                        ctx.dialogs
                            .system
                            .text("update_none", &ctx.profile.language),
                        &base_vars(ctx, None),
                    );
                    let message = OutMessage {
                        text,
                        ..Default::default()
                    };
                    reply(&mut w, person, to, message);
                }
                for p in &x.family_updates {
                    let message = OutMessage {
                        text: p.update.text.clone(),
                        sensitive: true,
                        ..Default::default()
                    };
                    let queued = reply(&mut w, person, to, message);
                    queued.about = Some(p.resident.id);
                    queued.categories = p.update.categories.clone();
                    w.audits.push(super::updates::disclosure(person, p));
                }
            }
            Effect::Relay {
                to,
                resident,
                words,
                run,
            } => {
                let p = ctx.profile;
                let first = p.name.split_whitespace().next().unwrap_or(&p.name);
                let mut vars = base_vars(ctx, None);
                vars.insert("from".into(), json!(p.name));
                vars.insert("from_first".into(), json!(first));
                vars.insert("words".into(), json!(words));
                vars.insert("resident".into(), json!(to == resident));
                let text = render(
                    ctx.dialogs
                        .system
                        .text("message_received", &ctx.profile.language),
                    &vars,
                );
                w.relays.push(NewRelay {
                    to,
                    resident,
                    key: format!("{person}.{run}"),
                    notice: OutMessage {
                        text,
                        sensitive: true,
                        ..Default::default()
                    },
                });
            }
            Effect::Goal { goal, change } => w.goal_changes.push((goal, change)),
            Effect::PlanAnswer {
                plan,
                version,
                agreed,
                wording,
                words,
            } => w.plan_answers.push(NewPlanAnswer {
                plan,
                version,
                agreed,
                wording,
                words,
                channel: to.platform.clone(),
            }),
            Effect::StaffRead { what, residents } => {
                for resident in residents {
                    w.audits.push(AuditEntry {
                        actor: format!("person:{person}"),
                        action: "staff.read".into(),
                        subject: Some(resident),
                        detail: serde_json::json!({ "list": what }),
                    });
                }
            }
            Effect::SummaryRequested { residents } => {
                let ready: Vec<_> = x
                    .staff_summaries
                    .iter()
                    .filter(|p| residents.contains(&p.resident.id))
                    .collect();
                if ready.is_empty() {
                    let text = render(
                        ctx.dialogs
                            .system
                            .text("summary_none", &ctx.profile.language),
                        &base_vars(ctx, None),
                    );
                    let message = OutMessage {
                        text,
                        ..Default::default()
                    };
                    reply(&mut w, person, to, message);
                }
                for p in ready {
                    let message = OutMessage {
                        text: p.text.clone(),
                        sensitive: true,
                        ..Default::default()
                    };
                    let queued = reply(&mut w, person, to, message);
                    queued.about = Some(p.resident.id);
                    w.audits.push(super::summary::disclosure(person, p));
                }
            }
        }
    }
    w
}

/// Queues `message` to the account that spoke. `person.turn.n` is unique and stable: the
/// platform's idempotency key.
fn reply<'w>(
    w: &'w mut TurnWrites,
    person: carebot_engine::ids::PersonId,
    to: &Identity,
    message: OutMessage,
) -> &'w mut NewOutbox {
    let key = format!("{person}.{}.{}", w.state.turn, w.outbox.len());
    w.outbox.push(NewOutbox {
        key,
        person: Some(person),
        platform: to.platform.clone(),
        address: to.address.clone(),
        message,
        ..Default::default()
    });
    let last = w.outbox.len() - 1;
    &mut w.outbox[last]
}

fn alert(ctx: &Context<'_>, target: Target, reason: String, words: Option<String>) -> NewAlert {
    let mut vars = base_vars(ctx, None);
    vars.insert("resident".into(), json!(ctx.profile.name));
    vars.insert("reason".into(), json!(reason));
    vars.insert("words".into(), json!(words.clone().unwrap_or_default()));
    let text = render(
        ctx.dialogs
            .system
            .text("staff_alert", &ctx.profile.language),
        &vars,
    );
    let message = OutMessage {
        text,
        sensitive: true,
        ..Default::default()
    };
    NewAlert {
        about: ctx.profile.id,
        target,
        reason,
        words,
        message,
        copy_to_manager: false,
        request: None,
    }
}

/// A resident's request of `kind`: like an alert, but staff are told its number (filled in
/// by the store, which gives it) so they can close it, and how many days they have.
fn request_alert(
    ctx: &Context<'_>,
    target: Target,
    reason: String,
    words: Option<String>,
    kind: String,
) -> NewAlert {
    let mut vars = base_vars(ctx, None);
    vars.insert("resident".into(), json!(ctx.profile.name));
    vars.insert("reason".into(), json!(reason));
    vars.insert("words".into(), json!(words.clone().unwrap_or_default()));
    vars.insert("alert".into(), json!(ALERT_NUMBER));
    vars.insert(
        "days".into(),
        json!(ctx.settings.reply_days.for_kind(&kind)),
    );
    let text = render(
        ctx.dialogs
            .system
            .text("staff_request", &ctx.profile.language),
        &vars,
    );
    NewAlert {
        about: ctx.profile.id,
        target,
        reason,
        words,
        message: OutMessage {
            text,
            sensitive: true,
            ..Default::default()
        },
        copy_to_manager: false,
        request: Some(kind),
    }
}
