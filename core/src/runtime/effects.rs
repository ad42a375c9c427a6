//! Turning the engine's effects into store writes: replies to the account that spoke, alerts
//! fanned out to staff, answers kept as given.

use crate::engine::render::{base_vars, render};
use crate::engine::{Context, Conversation, Effect, OutMessage};
use crate::store::people::Identity;
use crate::store::turn::{NewAlert, NewOutbox, TurnWrites};
use serde_json::json;

pub(super) fn to_writes(
    ctx: &Context<'_>,
    to: &Identity,
    state: Conversation,
    fx: Vec<Effect>,
) -> TurnWrites {
    let person = ctx.profile.id;
    let mut w = TurnWrites {
        state,
        ..Default::default()
    };
    for effect in fx {
        match effect {
            Effect::Send(message) => {
                // person.turn.n is unique and stable: the platform's idempotency key.
                let key = format!("{person}.{}.{}", w.state.turn, w.outbox.len());
                w.outbox.push(NewOutbox {
                    key,
                    person: Some(person),
                    platform: to.platform.clone(),
                    address: to.address.clone(),
                    message,
                });
            }
            Effect::Store(answer) => w.answers.push(answer),
            Effect::Alert {
                to: target,
                reason,
                words,
            } => {
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
                w.alerts.push(NewAlert {
                    about: person,
                    target,
                    reason,
                    words,
                    message,
                });
            }
            Effect::FlowEnded { .. } => {}
        }
    }
    w
}
