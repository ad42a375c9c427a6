//! Delivering outbox rows as Discord direct messages.
//!
//! Each row becomes one or more messages in the person's DM channel: escaped, split at 2,000
//! characters, with mentions off, quick answers as buttons and a chart as an attachment. Every
//! part carries a nonce derived from the outbox key with `enforce_nonce`, so a retry after a
//! lost response gets Discord's existing message back instead of a second copy. Health text is
//! replaced by a notice unless the home opted in (Discord has no end-to-end encryption).

use super::rest::Rest;
use super::text::{nonce, parts};
use carebot_engine::engine::OutMessage;
use carebot_runtime::{Carries, Channel, DeliveryError};
use carebot_store::outbox::OutboxRow;
use carebot_store::people::Identity;
use carebot_store::Store;
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateMessage, LightMethod, MessageId, Multipart, MultipartUpload, Nonce, Request, Route,
};
use std::collections::HashMap;
use std::sync::Mutex;

/// Prefix of a button's `custom_id`: `q:<question>:<answer>`, the question it belongs to
/// (the engine's token) and the answer it gives, as if typed.
pub const ANSWER_PREFIX: &str = "q:";

/// The prefix buttons had before they carried their question: a press on one of those is
/// always on a question that has passed.
pub const OLD_PREFIX: &str = "answer:";

/// The question and answer a button's `custom_id` carries. A button of ours from before
/// questions were carried gives an empty question, which never matches the one waiting.
pub fn read_custom_id(id: &str) -> Option<(String, String)> {
    if let Some(rest) = id.strip_prefix(ANSWER_PREFIX) {
        let (question, answer) = rest.split_once(':')?;
        return Some((question.to_string(), answer.to_string()));
    }
    id.strip_prefix(OLD_PREFIX)
        .map(|answer| (String::new(), answer.to_string()))
}

/// Messages to different people in flight at once (each person's still go in order). Eight
/// keeps a morning fan-out well under Discord's 50 requests a second without one slow
/// request holding up everyone behind it; a global 429 can catch at most seven others
/// already in flight.
pub const CONCURRENCY: usize = 8;

/// Discord allows 5 buttons in a row and 5 rows in a message.
const MAX_BUTTONS: usize = 25;

/// Sends outbox rows to people's Discord DMs.
pub struct DiscordChannel {
    rest: Rest,
    /// The home's opt-in to health text on Discord (`[discord] send_health_content`), for
    /// the runtime's outgoing policy ([`Channel::carries`]).
    send_health_content: bool,
    /// User id → their DM channel, so each message costs one call, not two.
    dm_channels: Mutex<HashMap<u64, ChannelId>>,
    /// Where DM channels are remembered across restarts (with the linked identity).
    store: Store,
    /// User id → the last message sent to them with buttons, while they may still be on it:
    /// taken off before the next message goes, so only the question waiting has buttons.
    buttons_on: Mutex<HashMap<u64, (ChannelId, MessageId)>>,
}

impl DiscordChannel {
    /// A channel sending through `rest`, remembering DM channels in `store`.
    pub fn new(rest: Rest, send_health_content: bool, store: Store) -> Self {
        Self {
            rest,
            send_health_content,
            dm_channels: Mutex::new(HashMap::new()),
            store,
            buttons_on: Mutex::new(HashMap::new()),
        }
    }

    /// `user` pressed a button on `message`, which lost its buttons with the acknowledgement.
    pub(crate) fn buttons_removed(&self, user: u64, message: MessageId) {
        let mut on = self.lock_buttons();
        if on.get(&user).is_some_and(|(_, m)| *m == message) {
            on.remove(&user);
        }
    }

    fn lock_buttons(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (ChannelId, MessageId)>> {
        self.buttons_on.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the buttons off the last message to `user` that had them (it was answered, by
    /// typing, or has passed). Best effort: a press on it would be refused by the core anyway.
    async fn take_buttons_off(&self, user: u64) {
        let Some((channel, message)) = self.lock_buttons().remove(&user) else {
            return;
        };
        let body = serde_json::to_vec(&serde_json::json!({ "components": [] })).ok();
        let req = Request::new(
            Route::ChannelMessage {
                channel_id: channel,
                message_id: message,
            },
            LightMethod::Patch,
        )
        .body(body);
        if let Err(DeliveryError::Retry { reason, .. } | DeliveryError::Permanent { reason }) = self
            .rest
            .call("taking buttons off an answered question", req)
            .await
        {
            tracing::info!(%reason, "the buttons of an earlier question could not be taken off");
        }
    }

    /// The REST client (for the adapter's own reads, such as catching up after a new session).
    pub(crate) fn rest(&self) -> &Rest {
        &self.rest
    }

    /// The DM channel with `user`: from memory, else from the store (a linked person's is kept
    /// there), else opened once and remembered in both. Opening DMs again on every start is
    /// the mass-DM pattern Discord warns may get a bot limited.
    async fn dm_channel(&self, user: u64) -> Result<ChannelId, DeliveryError> {
        if let Some(id) = self.lock_dms().get(&user) {
            return Ok(*id);
        }
        let account = Identity {
            platform: super::PLATFORM.into(),
            address: user.to_string(),
        };
        let stored =
            self.store
                .delivery_channel(&account)
                .await
                .map_err(|e| DeliveryError::Retry {
                    after: None,
                    reason: format!("looking up a direct message channel: {e}"),
                })?;
        if let Some(id) = stored
            .and_then(|c| c.parse::<u64>().ok())
            .filter(|id| *id != 0)
        {
            let id = ChannelId::new(id);
            self.lock_dms().insert(user, id);
            return Ok(id);
        }
        let body = serde_json::to_vec(&serde_json::json!({ "recipient_id": user.to_string() }))
            .map_err(|_| permanent("opening a direct message: bad request"))?;
        let req = Request::new(Route::UserMeDmChannels, LightMethod::Post).body(Some(body));
        let answer = self.rest.call("opening a direct message", req).await?;
        let id = serde_json::from_slice::<serde_json::Value>(&answer)
            .ok()
            .and_then(|v| v["id"].as_str()?.parse::<u64>().ok())
            .filter(|id| *id != 0)
            .ok_or_else(|| DeliveryError::Retry {
                after: None,
                reason: "opening a direct message: Discord's answer had no channel id".into(),
            })?;
        let id = ChannelId::new(id);
        if let Err(e) = self
            .store
            .remember_delivery_channel(&account, &id.to_string())
            .await
        {
            // Only a cost: it is opened again next time.
            tracing::warn!(error = %e, "a direct message channel could not be remembered");
        }
        self.lock_dms().insert(user, id);
        Ok(id)
    }

    fn lock_dms(&self) -> std::sync::MutexGuard<'_, HashMap<u64, ChannelId>> {
        self.dm_channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How `m` looks on Discord. Whether it may go at all (a health message without the
    /// home's opt-in) was decided by the runtime before it got here ([`Channel::carries`]).
    fn outgoing(&self, m: &OutMessage) -> Outgoing {
        let buttons = m.choices.len() <= MAX_BUTTONS;
        let chart = m.chart.as_ref().and_then(|c| match carebot_engine::chart::png(c) {
            Ok(png) => Some(png),
            Err(e) => {
                tracing::warn!(error = %e, "a chart could not be drawn; sending the text alone");
                None
            }
        });
        Outgoing {
            // With buttons the choices need not be listed; too many for buttons, they are.
            text: if buttons { m.text.clone() } else { m.plain() },
            buttons: if buttons {
                m.choices
                    .iter()
                    .map(|c| (c.answer.clone(), c.label.clone()))
                    .collect()
            } else {
                Vec::new()
            },
            chart,
            question: m.question.clone().unwrap_or_default(),
        }
    }
}

/// One outbox row, as it will appear on Discord.
struct Outgoing {
    text: String,
    /// (answer, label).
    buttons: Vec<(String, String)>,
    /// A PNG.
    chart: Option<Vec<u8>>,
    /// The question the buttons answer.
    question: String,
}

impl Channel for DiscordChannel {
    fn platform(&self) -> &str {
        super::PLATFORM
    }

    /// Discord can read everything: health text goes only with the home's opt-in.
    fn carries(&self) -> Carries {
        Carries::Readable {
            platform: "Discord",
            home_opted_in: self.send_health_content,
        }
    }

    /// How many different people's messages may go at once (each person's in order); see
    /// [`CONCURRENCY`].
    fn concurrency(&self) -> usize {
        CONCURRENCY
    }

    #[tracing::instrument(skip_all, fields(outbox = %row.id))]
    async fn deliver(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        let user = row
            .address
            .parse::<u64>()
            .ok()
            .filter(|id| *id != 0)
            .ok_or_else(|| permanent("the address is not a Discord user id"))?;
        let channel = self.dm_channel(user).await?;
        self.take_buttons_off(user).await;
        let out = self.outgoing(&row.message);
        let texts = parts(&out.text);
        let last = texts.len().saturating_sub(1);
        // Parts Discord already accepted on an earlier attempt are not sent again: its nonce
        // would catch a resend only for a few minutes.
        let done = usize::try_from(row.parts_sent).unwrap_or(0);
        for (i, text) in texts.into_iter().enumerate().skip(done) {
            let mut msg = CreateMessage::new()
                .content(text)
                .allowed_mentions(CreateAllowedMentions::new())
                .nonce(Nonce::String(nonce(&row.key, i)))
                .enforce_nonce(true);
            let mut file = None;
            if i == last {
                msg = msg.components(button_rows(&out.question, &out.buttons));
                if let Some(png) = &out.chart {
                    let attachment = CreateAttachment::bytes(png.clone(), "chart.png");
                    msg = msg.add_file(attachment.clone());
                    file = Some(attachment);
                }
            }
            let json = serde_json::to_vec(&msg)
                .map_err(|_| permanent("sending a message: it could not be encoded"))?;
            let route = Route::ChannelMessages {
                channel_id: channel,
            };
            let req = match file {
                None => Request::new(route, LightMethod::Post).body(Some(json)),
                Some(file) => Request::new(route, LightMethod::Post).multipart(Some(Multipart {
                    upload: MultipartUpload::Attachments(vec![file]),
                    fields: Vec::new(),
                    payload_json: Some(String::from_utf8_lossy(&json).into_owned()),
                })),
            };
            let answer = self.rest.call("sending a message", req).await?;
            if i == last && !out.buttons.is_empty() {
                let id = serde_json::from_slice::<serde_json::Value>(&answer)
                    .ok()
                    .and_then(|v| v["id"].as_str()?.parse::<u64>().ok())
                    .filter(|id| *id != 0);
                if let Some(id) = id {
                    self.lock_buttons()
                        .insert(user, (channel, MessageId::new(id)));
                }
            }
            if i < last {
                let sent = i32::try_from(i + 1).unwrap_or(i32::MAX);
                if let Err(e) = self.store.outbox_parts_sent(row.id, sent).await {
                    // Only a cost: within the nonce window a resend is still caught.
                    tracing::warn!(error = %e, "the parts sent so far could not be noted");
                }
            }
        }
        Ok(())
    }
}

/// Buttons in rows of five; each answers `question` as if its answer had been typed.
fn button_rows(question: &str, buttons: &[(String, String)]) -> Vec<CreateActionRow> {
    buttons
        .chunks(5)
        .map(|row| {
            CreateActionRow::Buttons(
                row.iter()
                    .map(|(answer, label)| {
                        let id: String = format!("{ANSWER_PREFIX}{question}:{answer}")
                            .chars()
                            .take(100)
                            .collect();
                        let label: String = label.chars().take(80).collect();
                        CreateButton::new(id)
                            .label(label)
                            .style(ButtonStyle::Secondary)
                    })
                    .collect(),
            )
        })
        .collect()
}

fn permanent(reason: &str) -> DeliveryError {
    DeliveryError::Permanent {
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::read_custom_id;

    #[test]
    fn a_button_carries_its_question_and_an_old_one_carries_none() {
        assert_eq!(
            read_custom_id("q:a1b2c3d4e5f6:yes"),
            Some(("a1b2c3d4e5f6".into(), "yes".into()))
        );
        assert_eq!(
            read_custom_id("answer:yes"),
            Some((String::new(), "yes".into()))
        );
        assert_eq!(read_custom_id("q:no-answer"), None);
        assert_eq!(read_custom_id("someone-elses"), None);
    }
}
