//! Outbox rows to Matrix messages.
//!
//! The outbox key is the Matrix transaction id, so the homeserver drops a resend of a message
//! it already has. Synapse only remembers transaction ids for a while (and forgets them when it
//! restarts), so before resending a message whose first attempt may have arrived, the room's
//! recent timeline is searched for the bot's own event with that transaction id.

use super::{format, identity, rooms};
use carebot_engine::chart;
use carebot_runtime::{Carebot, Carries, Channel, DeliveryError, KeyTrust, Withheld};
use carebot_store::outbox::OutboxRow;
use matrix_sdk::attachment::AttachmentConfig;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::api::error::{ErrorKind, LimitExceededErrorData, RetryAfter};
use matrix_sdk::ruma::{
    OwnedRoomId, OwnedTransactionId, OwnedUserId, RoomId, TransactionId, UserId,
};
use matrix_sdk::{Client, Room, RoomMemberships, RoomState};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Delivers outbox rows as Matrix messages.
pub struct MatrixChannel {
    client: Client,
    bot: Arc<Carebot>,
    /// Each person's direct chat, as last seen (they wrote or invited from it). Saves a scan
    /// of every joined room per message, and is right straight after a join, before the
    /// room's member list has synced.
    /// An encrypted chat is never replaced by a plain one.
    rooms: Mutex<HashMap<OwnedUserId, (OwnedRoomId, bool)>>,
}

impl MatrixChannel {
    /// A channel sending as `client`'s account.
    pub fn new(client: Client, bot: Arc<Carebot>) -> Self {
        Self {
            client,
            bot,
            rooms: Mutex::new(HashMap::new()),
        }
    }

    /// Notes that `user` has a direct chat `room` (encrypted or not).
    pub fn remember(&self, user: &UserId, room: &RoomId, encrypted: bool) {
        if let Ok(mut rooms) = self.rooms.lock() {
            let keep_old = rooms
                .get(user)
                .is_some_and(|(old, old_encrypted)| old != room && *old_encrypted && !encrypted);
            if !keep_old {
                rooms.insert(user.to_owned(), (room.to_owned(), encrypted));
            }
        }
    }

    /// The remembered chat with `user`, if the bot is still in it.
    fn remembered(&self, user: &UserId) -> Option<Room> {
        let known = self.rooms.lock().ok().and_then(|r| r.get(user).cloned());
        known
            .and_then(|(id, _)| self.client.get_room(&id))
            .filter(|room| room.state() == RoomState::Joined)
    }

    /// The room to reach `user` in: the remembered one while it is still a chat of just the
    /// two of them, else a direct chat found or opened. Errors (the homeserver could not be
    /// asked) are retried later rather than risk a shared room or a second chat.
    async fn room_for(&self, user: &UserId) -> matrix_sdk::Result<Room> {
        if let Some(room) = self.remembered(user) {
            if rooms::is_direct_with(&room, user).await? {
                return Ok(room);
            }
        }
        let room = rooms::direct_room(&self.client, user).await?;
        // The person may have opened a chat of their own while this one was found or made:
        // theirs wins.
        if let Some(theirs) = self.remembered(user) {
            if theirs.room_id() != room.room_id() && rooms::is_direct_with(&theirs, user).await? {
                return Ok(theirs);
            }
        }
        let encrypted = rooms::encrypted(&room).await?;
        self.remember(user, room.room_id(), encrypted);
        Ok(room)
    }

    /// Health text for someone whose only chat with the bot is not end-to-end encrypted: the
    /// bot opens an encrypted direct chat with them (saying so, once, in the plain one) and
    /// the message waits until they have accepted it, then goes there, and the conversation
    /// carries on there.
    async fn move_to_encrypted(
        &self,
        plain: &Room,
        user: &UserId,
        row: &OutboxRow,
    ) -> Result<Room, DeliveryError> {
        let secure = match rooms::find_encrypted(&self.client, user)
            .await
            .map_err(classify)?
        {
            Some(room) => room,
            None => {
                // Said first, then opened: a retry repeats the notice under the same
                // transaction id, which the homeserver does not post twice.
                let text = self.bot.withheld_notice(Withheld::MovedToEncrypted);
                let txn = OwnedTransactionId::from(format!("{}.moved", row.key));
                plain
                    .send(format::notice(&text))
                    .with_transaction_id(txn)
                    .await
                    .map_err(classify)?;
                tracing::info!(outbox = %row.id, "opening an encrypted chat for health content");
                self.client.create_dm(user).await.map_err(classify)?
            }
        };
        self.remember(user, secure.room_id(), true);
        let joined = secure
            .members(RoomMemberships::JOIN)
            .await
            .map_err(classify)?
            .iter()
            .any(|m| m.user_id() == user);
        if !joined {
            return Err(DeliveryError::Retry {
                after: Some(Duration::from_secs(5)),
                reason: "waiting for the person to accept the encrypted chat".into(),
            });
        }
        Ok(secure)
    }

    /// Why health text in `row` must not go to `user` in `room`, if it must not.
    async fn withhold(
        &self,
        room: &Room,
        user: &UserId,
        row: &OutboxRow,
    ) -> Result<Option<Withheld<'static>>, DeliveryError> {
        if !row.message.sensitive {
            return Ok(None);
        }
        // Not knowing is not the same as plain: the homeserver is asked again on the retry.
        if !rooms::encrypted(room).await.map_err(classify)? {
            tracing::info!(outbox = %row.id, "health content held back from an unencrypted room");
            return Ok(Some(Withheld::Unencrypted));
        }
        match identity::check(&self.client, &self.bot, user).await {
            Ok(KeyTrust::Trusted) => Ok(None),
            Ok(KeyTrust::Changed) => {
                tracing::info!(outbox = %row.id, "health content held back: the account's identity changed since it was linked");
                Ok(Some(Withheld::IdentityChanged))
            }
            Err(e) => Err(DeliveryError::Retry {
                after: None,
                reason: format!("the account's identity could not be checked ({e})"),
            }),
        }
    }

    async fn send(
        &self,
        room: &Room,
        row: &OutboxRow,
        withheld: Option<Withheld<'_>>,
    ) -> Result<(), matrix_sdk::Error> {
        let text = match withheld {
            Some(why) => self.bot.withheld_notice(why),
            None => format::text(&row.message),
        };
        let withheld = withheld.is_some();
        // What the bot says about a message it holds back is a notice, as bots' notes are.
        let content = if withheld {
            format::notice(&text)
        } else {
            format::content(&text)
        };
        let txn = OwnedTransactionId::from(row.key.as_str());
        if row.attempts == 0 || !self.already_sent(room, &txn).await {
            room.send(content).with_transaction_id(txn.clone()).await?;
        }
        if let (Some(c), false) = (&row.message.chart, withheld) {
            let chart_txn = OwnedTransactionId::from(format!("{}.chart", row.key));
            if row.attempts > 0 && self.already_sent(room, &chart_txn).await {
                return Ok(());
            }
            match chart::png(c) {
                Ok(png) => {
                    // In an encrypted room matrix-sdk encrypts the image before uploading it.
                    room.send_attachment(
                        "chart.png",
                        &mime::IMAGE_PNG,
                        png,
                        AttachmentConfig::new().txn_id(chart_txn),
                    )
                    .await?;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a chart could not be drawn; the words carry the same numbers")
                }
            }
        }
        Ok(())
    }

    /// True when the bot's recent events in `room` include one sent with `txn`.
    async fn already_sent(&self, room: &Room, txn: &TransactionId) -> bool {
        let Some(me) = self.client.user_id() else {
            return false;
        };
        let mut options = MessagesOptions::backward();
        options.limit = 50u32.into();
        let Ok(page) = room.messages(options).await else {
            return false;
        };
        page.chunk.iter().any(|ev| {
            let raw = ev.raw();
            let sender = raw.get_field::<String>("sender").ok().flatten();
            let unsigned = raw
                .get_field::<serde_json::Value>("unsigned")
                .ok()
                .flatten();
            sender.as_deref() == Some(me.as_str())
                && unsigned
                    .as_ref()
                    .and_then(|u| u.get("transaction_id"))
                    .and_then(|t| t.as_str())
                    == Some(txn.as_str())
        })
    }
}

impl Channel for MatrixChannel {
    fn platform(&self) -> &str {
        super::PLATFORM
    }

    /// Encrypted chat by chat: [`MatrixChannel::deliver`] checks the room and sends the
    /// notice instead into one without encryption.
    fn carries(&self) -> Carries {
        Carries::EncryptedPerChat
    }

    async fn deliver(&self, row: &OutboxRow) -> Result<(), DeliveryError> {
        let user = UserId::parse(&row.address).map_err(|_| DeliveryError::Permanent {
            reason: "the address is not a Matrix user id".into(),
        })?;
        let mut room = self.room_for(&user).await.map_err(classify)?;
        if row.message.sensitive && !rooms::encrypted(&room).await.map_err(classify)? {
            room = self.move_to_encrypted(&room, &user, row).await?;
        }
        let withheld = self.withhold(&room, &user, row).await?;
        self.send(&room, row, withheld).await.map_err(classify)?;
        tracing::info!(outbox = %row.id, attempts = row.attempts, "delivered");
        Ok(())
    }
}

/// Whether a failed send is worth retrying, and when. Rate limits and server errors are;
/// a refusal (the person left, the bot is banned) is not.
fn classify(e: matrix_sdk::Error) -> DeliveryError {
    if let Some(ErrorKind::LimitExceeded(LimitExceededErrorData { retry_after, .. })) =
        e.client_api_error_kind()
    {
        let after = match retry_after {
            Some(RetryAfter::Delay(d)) => Some(*d),
            Some(RetryAfter::DateTime(t)) => t.duration_since(std::time::SystemTime::now()).ok(),
            None => None,
        };
        tracing::warn!("the homeserver is rate limiting the bot (README: 'Matrix rate limits')");
        return DeliveryError::Retry {
            after: Some(after.unwrap_or(Duration::from_secs(5))),
            reason: "rate limited by the homeserver (M_LIMIT_EXCEEDED)".into(),
        };
    }
    if let Some(api) = e.as_client_api_error() {
        let status = api.status_code;
        if status.is_client_error() && status.as_u16() != 408 {
            return DeliveryError::Permanent {
                reason: format!("the homeserver refused the message ({status})"),
            };
        }
        return DeliveryError::Retry {
            after: None,
            reason: format!("the homeserver failed ({status})"),
        };
    }
    DeliveryError::Retry {
        after: None,
        reason: "the homeserver could not be reached".into(),
    }
}
