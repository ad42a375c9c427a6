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
//!
//! A new session (at start, or after Discord refused to resume an expired one) replays
//! nothing, so on every READY the adapter reads each linked person's DM channel after the last
//! message it handled from them (the cursor kept with their identity) and hands over what it
//! missed, oldest first. What it had already handled is a no-op, as a replay is.

use super::channel::{read_custom_id, DiscordChannel};
use carebot::serve::Service;
use carebot_runtime::{DeliveryError, Handled, Inbound};
use carebot_store::people::Identity;
use serenity::all::{
    ChannelId, ComponentInteraction, Context, CreateInteractionResponse,
    CreateInteractionResponseMessage, EventHandler, Interaction, LightMethod, Message, Ready,
    Request, Route,
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
        receive(service, &inbound).await.is_some()
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
        // The acknowledgement takes care of this message's buttons; the next delivery must not
        // (the reply can go out before the acknowledgement does).
        service
            .channel()
            .buttons_removed(press.user.id.get(), press.message.id);
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

/// Hands one message to the core; `None` (logged, without its text) if it could not be saved.
async fn receive(service: &Service<DiscordChannel>, inbound: &Inbound) -> Option<Handled> {
    match service.receive(inbound).await {
        Ok(handled) => Some(handled),
        Err(e) => {
            tracing::error!(error = %e, "a Discord message could not be handled");
            None
        }
    }
}

/// Moves the sender's cursor past a direct message that was handled (or seen before).
async fn handled_up_to(service: &Service<DiscordChannel>, sender: &str, message: u64) {
    let Ok(id) = i64::try_from(message) else {
        return;
    };
    let account = Identity {
        platform: super::PLATFORM.into(),
        address: sender.into(),
    };
    if let Err(e) = service
        .bot()
        .store
        .advance_delivery_cursor(&account, id)
        .await
    {
        tracing::warn!(error = %e, "the last direct message handled could not be noted");
    }
}

/// How many messages one read of a DM channel asks for, and how many reads a catch-up makes
/// per channel at most.
const CATCH_UP_PAGE: usize = 50;
const CATCH_UP_PAGES: usize = 10;

/// Reads every linked person's DM channel after the last message handled from them and hands
/// over what was missed, oldest first. Returns how many messages were new.
pub(crate) async fn catch_up(service: &Service<DiscordChannel>) -> usize {
    let channels = match service.bot().store.delivery_channels(super::PLATFORM).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the DM channels to catch up on could not be read");
            return 0;
        }
    };
    let mut new = 0;
    for (address, channel, cursor) in channels {
        // With no message handled from them yet, there is nothing to be after.
        let (Ok(channel), Some(mut after)) = (channel.parse::<u64>(), cursor) else {
            continue;
        };
        for _ in 0..CATCH_UP_PAGES {
            let Some(page) = read_after(service, channel, after).await else {
                break;
            };
            let full = page.len() >= CATCH_UP_PAGE;
            let mut missed: Vec<(u64, String, String)> = page
                .iter()
                .filter(|m| !m["author"]["bot"].as_bool().unwrap_or(false))
                .filter_map(|m| {
                    let id = m["id"].as_str()?.parse::<u64>().ok()?;
                    let author = m["author"]["id"].as_str()?.to_string();
                    Some((
                        id,
                        author,
                        m["content"].as_str().unwrap_or_default().to_string(),
                    ))
                })
                .filter(|(_, author, _)| *author == address)
                .collect();
            missed.sort_by_key(|(id, _, _)| *id);
            let last = page
                .iter()
                .filter_map(|m| m["id"].as_str()?.parse::<i64>().ok())
                .max();
            for (id, author, text) in missed {
                let inbound = Inbound {
                    pressed: None,
                    platform: super::PLATFORM.into(),
                    sender: author.clone(),
                    event_id: format!("message-{id}"),
                    text,
                };
                match receive(service, &inbound).await {
                    Some(Handled::Duplicate) => {}
                    Some(_) => new += 1,
                    // Not saved: stop here, so the cursor stays before it and it is tried again.
                    None => return new,
                }
                handled_up_to(service, &author, id).await;
            }
            match last {
                Some(l) if full && l > after => after = l,
                _ => break,
            }
        }
    }
    if new > 0 {
        tracing::info!(
            messages = new,
            "direct messages missed while disconnected were handled"
        );
    }
    new
}

/// One page of `channel`'s messages after message `after`.
async fn read_after(
    service: &Service<DiscordChannel>,
    channel: u64,
    after: i64,
) -> Option<Vec<serde_json::Value>> {
    let channel = (channel != 0).then(|| ChannelId::new(channel))?;
    let req = Request::new(
        Route::ChannelMessages {
            channel_id: channel,
        },
        LightMethod::Get,
    )
    .params(Some(vec![
        ("after", after.to_string()),
        ("limit", CATCH_UP_PAGE.to_string()),
    ]));
    match service
        .channel()
        .rest()
        .call("catching up on direct messages", req)
        .await
    {
        Ok(body) => serde_json::from_slice(&body).ok(),
        Err(DeliveryError::Retry { reason, .. } | DeliveryError::Permanent { reason }) => {
            tracing::warn!(%reason, "a DM channel could not be read to catch up");
            None
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
        tracing::info!(bot = %ready.user.name, "connected to Discord (a new session)");
        // A new session replays nothing: read what was said while there was none.
        if let Some(service) = self.service() {
            let service = service.clone();
            tokio::spawn(async move { catch_up(&service).await });
        }
    }

    async fn message(&self, _ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        let Some(service) = self.service() else {
            return;
        };
        let sender = msg.author.id.to_string();
        let direct = msg.guild_id.is_none();
        let text = if direct {
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
            sender: sender.clone(),
            event_id: format!("message-{}", msg.id),
            text,
        };
        if self.receive(service, inbound).await && direct {
            handled_up_to(service, &sender, msg.id.get()).await;
        }
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
