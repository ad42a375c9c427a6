//! Discord gateway events, turned into Carebot's inbound messages.
//!
//! - A direct message is handed over as it is; the core decides everything (unknown accounts
//!   are told nothing, `link CODE` links).
//! - A button press is the answer written on the button, with the question it belongs to
//!   (the core refuses a press on a question that has passed). Discord wants an acknowledgement
//!   within 3 seconds; it is sent once the turn has committed (so the answer is stored before
//!   the buttons disappear), or after [`ACK_WITHIN`] if the turn is slow.
//! - In a server channel only staff commands are read (`!carebot …` from a linked keyworker or
//!   manager); replies go by direct message, so nothing about a resident is posted there.
//!
//! Message ids and interaction ids are the event ids, so an event the gateway replays after a
//! resume is recognised by the inbound-event table and handled once.

use super::channel::{read_custom_id, DiscordChannel};
use crate::serve::Service;
use carebot_core::runtime::Inbound;
use carebot_core::store::people::Identity;
use serenity::all::{
    ComponentInteraction, Context, CreateInteractionResponse, CreateInteractionResponseMessage,
    EventHandler, Interaction, Message, Ready,
};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a button press waits for its turn before acknowledging anyway (Discord's limit is
/// 3 seconds, and the acknowledgement itself takes a round trip).
pub const ACK_WITHIN: Duration = Duration::from_secs(2);

/// Receives gateway events for the service.
pub struct Handler {
    /// Set once the client (whose HTTP client the channel shares) exists, before it connects.
    pub(crate) service: Arc<OnceLock<Arc<Service<DiscordChannel>>>>,
    /// What starts a staff command in a server channel.
    pub(crate) staff_prefix: String,
}

impl Handler {
    fn service(&self) -> Option<&Arc<Service<DiscordChannel>>> {
        let s = self.service.get();
        if s.is_none() {
            tracing::warn!("a Discord event arrived before the service was ready; ignored");
        }
        s
    }

    /// Whether the sender of a server message may give staff commands (the core decides).
    async fn is_staff(&self, service: &Service<DiscordChannel>, user: &str) -> bool {
        let who = Identity {
            platform: super::PLATFORM.into(),
            address: user.into(),
        };
        service
            .bot()
            .may_give_staff_commands(&who)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "could not look up who sent a server message");
                false
            })
    }

    /// Hands one message to the core, logging (without its text) if it could not be saved.
    async fn receive(&self, service: &Service<DiscordChannel>, inbound: Inbound) -> bool {
        match service.receive(&inbound).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "a Discord message could not be handled");
                false
            }
        }
    }

    async fn button(&self, ctx: &Context, press: ComponentInteraction) {
        let Some(service) = self.service() else {
            return;
        };
        let button = read_custom_id(&press.data.custom_id);
        let (Some((question, answer)), None) = (button, press.guild_id) else {
            // Not one of ours, or in a server: acknowledge so Discord shows no error, do nothing.
            acknowledge(ctx, &press, false).await;
            return;
        };
        // The core decides whether the question is still the one waiting; a press on one
        // that has passed changes nothing.
        let inbound = Inbound {
            pressed: Some(question),
            platform: super::PLATFORM.into(),
            sender: press.user.id.to_string(),
            event_id: format!("interaction-{}", press.id),
            text: answer,
        };
        let turn = self.receive(service, inbound);
        tokio::pin!(turn);
        match tokio::time::timeout(ACK_WITHIN, &mut turn).await {
            // Saved: the buttons go, so an old question cannot be answered by mistake.
            Ok(saved) => acknowledge(ctx, &press, saved).await,
            Err(_) => {
                acknowledge(ctx, &press, false).await;
                turn.await;
            }
        }
    }
}

/// The command in a server message, if it starts with the prefix as a word of its own.
fn staff_command<'a>(content: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = content.trim().strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

/// Answers a button press within Discord's window; removes the message's buttons when the
/// answer is saved, keeps them (so it can be pressed again) when not.
async fn acknowledge(ctx: &Context, press: &ComponentInteraction, saved: bool) {
    let response = if saved {
        CreateInteractionResponse::UpdateMessage(
            CreateInteractionResponseMessage::new().components(Vec::new()),
        )
    } else {
        CreateInteractionResponse::Acknowledge
    };
    if let Err(e) = press.create_response(&ctx.http, response).await {
        tracing::warn!(error = %e, "a button press could not be acknowledged");
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, "connected to Discord");
    }

    async fn message(&self, _ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        let Some(service) = self.service() else {
            return;
        };
        let sender = msg.author.id.to_string();
        let text = if msg.guild_id.is_none() {
            msg.content
        } else {
            let Some(command) = staff_command(&msg.content, &self.staff_prefix) else {
                return;
            };
            if !self.is_staff(service, &sender).await {
                return;
            }
            command.trim().to_string()
        };
        let inbound = Inbound {
            pressed: None,
            platform: super::PLATFORM.into(),
            sender,
            event_id: format!("message-{}", msg.id),
            text,
        };
        self.receive(service, inbound).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Component(press) = interaction {
            self.button(&ctx, press).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::staff_command;

    #[test]
    fn only_the_prefix_as_a_word_starts_a_staff_command() {
        assert_eq!(staff_command(" !carebot ack ", "!carebot"), Some(" ack"));
        assert_eq!(staff_command("!carebotx ack", "!carebot"), None);
        assert_eq!(staff_command("ack", "!carebot"), None);
    }
}
