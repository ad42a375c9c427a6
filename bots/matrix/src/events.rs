//! Invites and messages from Matrix, turned into what the core understands.

use super::{identity, rooms, PLATFORM};
use carebot::serve::Service;
use carebot_runtime::{Handled, Inbound};
use carebot_store::people::Identity;
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind, UnableToDecryptReason};
use matrix_sdk::ruma::events::room::message::{MessageType, SyncRoomMessageEvent};
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedUserId, RoomId, UserId};
use matrix_sdk::{Client, Room};
use std::sync::Arc;
use std::time::Duration;

use super::MatrixChannel;

/// Someone invited the bot. It joins: a linked person gets their chat; anyone else is told
/// nothing about anybody (each message they send gets the core's one short reply, how to
/// link) and, unless they link their account with a code in time, the bot leaves.
pub async fn on_invite(
    client: &Client,
    service: &Arc<Service<MatrixChannel>>,
    room_id: &RoomId,
    inviter: Option<OwnedUserId>,
    grace: Duration,
) {
    let Some(room) = client.get_room(room_id) else {
        return;
    };
    if let Err(e) = room.join().await {
        tracing::warn!(error = %e, "could not join a room the bot was invited to");
        return;
    }
    let Some(inviter) = inviter else {
        return;
    };
    // Note the room at once, before anything else can fail: if the homeserver goes away now,
    // a reminder due meanwhile must still go to the chat this person opened, not to a new one.
    // The invite carried the room's encryption setting; it is checked again before each send.
    service.channel().remember(
        &inviter,
        room.room_id(),
        room.encryption_state().is_encrypted(),
    );
    // Straight after joining, the bot knows neither the room's members nor their devices yet;
    // an encrypted message sent now would reach nobody's device. Learn both first.
    if let Err(e) = room.sync_members().await {
        tracing::warn!(error = %e, "could not load the members of a room just joined");
    }
    if let Err(e) = client.encryption().request_user_identity(&inviter).await {
        tracing::warn!(error = %e, "could not fetch the devices of the account that invited the bot");
    }
    // Confirmed from the room's state; if the homeserver cannot say, the invite's word stands.
    if let Ok(encrypted) = rooms::encrypted(&room).await {
        service
            .channel()
            .remember(&inviter, room.room_id(), encrypted);
    }
    if linked(service, inviter.as_str()).await {
        return;
    }
    // No greeting now: straight after joining, the bot cannot yet encrypt for the stranger's
    // devices, and a message they cannot read tells them nothing useful. Whatever they send
    // gets the core's one short reply (through the outbox, readable by then), and unless
    // they link in time the bot leaves.
    tracing::info!("invited by an account that is not linked to anyone");
    leave_unless_linked(service.clone(), room, inviter, grace);
}

/// After a restart, the rooms of accounts that never linked get their grace period again
/// (the timer that would have left them did not survive the process).
pub async fn leave_unlinked_rooms_later(
    client: &Client,
    service: &Arc<Service<MatrixChannel>>,
    grace: Duration,
) {
    let me = client.user_id().map(|u| u.to_owned());
    for room in client.joined_rooms() {
        let Ok(members) = room
            .members_no_sync(
                matrix_sdk::RoomMemberships::JOIN | matrix_sdk::RoomMemberships::INVITE,
            )
            .await
        else {
            continue;
        };
        let others: Vec<OwnedUserId> = members
            .iter()
            .map(|m| m.user_id().to_owned())
            .filter(|u| Some(u) != me.as_ref())
            .collect();
        let [other] = others.as_slice() else {
            continue;
        };
        if !linked(service, other.as_str()).await {
            leave_unless_linked(service.clone(), room, other.clone(), grace);
        }
    }
}

/// Leaves `room` after `grace` unless `user` has linked their account by then.
fn leave_unless_linked(
    service: Arc<Service<MatrixChannel>>,
    room: Room,
    user: OwnedUserId,
    grace: Duration,
) {
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        if !linked(&service, user.as_str()).await {
            tracing::info!("leaving the room of an account that did not link");
            if let Err(e) = room.leave().await {
                tracing::warn!(error = %e, "could not leave an unlinked account's room");
            }
        }
    });
}

/// What became of one timeline event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Handled, skipped, or recorded as unreadable: nothing more to do.
    Done,
    /// Encrypted with a room key that has not arrived yet (keys often come a moment after
    /// the message): try again after the next sync.
    WaitingForKey,
}

/// One timeline event. Only text from other people in a direct chat is handed on; replies
/// always go to the person's direct chat, never into a shared room. A message the bot could
/// not decrypt waits for its key (unless `last_try`), then its sender is told.
pub async fn on_event(
    client: &Client,
    service: &Service<MatrixChannel>,
    room: &Room,
    event: &TimelineEvent,
    last_try: bool,
) -> Outcome {
    if let TimelineEventKind::UnableToDecrypt {
        event: raw,
        utd_info,
    } = &event.kind
    {
        if utd_info.reason.is_missing_room_key() && !last_try {
            return Outcome::WaitingForKey;
        }
        unreadable(client, service, room, raw, &utd_info.reason).await;
        return Outcome::Done;
    }
    let ev = match event.raw().deserialize() {
        Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncRoomMessageEvent::Original(ev),
        ))) => ev,
        Ok(_) => return Outcome::Done,
        Err(e) => {
            tracing::warn!(error = %e, "a timeline event could not be read; skipped");
            return Outcome::Done;
        }
    };
    if Some(ev.sender.as_ref()) == client.user_id() {
        return Outcome::Done;
    }
    if rooms::is_shared(room).await {
        tracing::info!(room = %room.room_id(), "ignoring a message in a shared room");
        return Outcome::Done;
    }
    let text = match &ev.content.msgtype {
        MessageType::Text(t) => t.body.clone(),
        MessageType::Emote(t) => t.body.clone(),
        // Notices are bots talking; never answer them (no loops between bots).
        MessageType::Notice(_) => return Outcome::Done,
        // A picture or a voice note: the flows read text, and will say so kindly.
        _ => String::new(),
    };
    let encrypted = rooms::encrypted(room).await.unwrap_or(false);
    service
        .channel()
        .remember(&ev.sender, room.room_id(), encrypted);
    let inbound = Inbound {
        pressed: None,
        platform: PLATFORM.into(),
        sender: ev.sender.to_string(),
        event_id: ev.event_id.to_string(),
        text,
    };
    let _ = room.typing_notice(true).await;
    match service.receive(&inbound).await {
        Ok(Handled::Duplicate) => tracing::info!("a replayed event was skipped"),
        Ok(Handled::Linked) => {
            tracing::info!("an account was linked");
            // The identity the account has now is the one health text may go to.
            pin_identity(client, service, &ev.sender).await;
        }
        Ok(handled) => tracing::info!(?handled, "a message was handled"),
        // The event stays unprocessed; the core has told nobody anything. The sync loop logs
        // and carries on; the person's next message is handled normally.
        Err(e) => tracing::error!(error = %e, "a Matrix message could not be handled"),
    }
    let _ = room.typing_notice(false).await;
    Outcome::Done
}

/// Records the cryptographic identity `user` has just after linking.
async fn pin_identity(client: &Client, service: &Service<MatrixChannel>, user: &UserId) {
    if let Err(e) = identity::check(client, service.bot(), user).await {
        // Not fatal: it is checked again before any health text goes to them.
        tracing::warn!(error = %e, "could not record a newly linked account's identity");
    }
}

/// A message the bot could not decrypt: says why in the log (the withheld code, never the
/// words, which it cannot see anyway), records it and tells the sender.
async fn unreadable(
    client: &Client,
    service: &Service<MatrixChannel>,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    reason: &UnableToDecryptReason,
) {
    let sender = raw.get_field::<OwnedUserId>("sender").ok().flatten();
    let event_id = raw.get_field::<String>("event_id").ok().flatten();
    let (Some(sender), Some(event_id)) = (sender, event_id) else {
        return;
    };
    if Some(sender.as_ref()) == client.user_id() {
        return;
    }
    let code = match reason {
        UnableToDecryptReason::MissingMegolmSession {
            withheld_code: Some(code),
        } => code.as_str().to_string(),
        UnableToDecryptReason::MissingMegolmSession {
            withheld_code: None,
        } => "no key arrived".to_string(),
        UnableToDecryptReason::SenderIdentityNotTrusted(level) => {
            format!("sender's device not cross-signed ({level:?})")
        }
        other => format!("{other:?}"),
    };
    tracing::warn!(room = %room.room_id(), reason = %code, "a message could not be decrypted; its sender is told");
    match service
        .bot()
        .unreadable(PLATFORM, sender.as_str(), &event_id, &code)
        .await
    {
        Ok(_) => service.wake(),
        Err(e) => tracing::error!(error = %e, "could not record an unreadable message"),
    }
}

async fn linked(service: &Service<MatrixChannel>, user: &str) -> bool {
    let who = Identity {
        platform: PLATFORM.into(),
        address: user.to_string(),
    };
    service.bot().is_linked(&who).await.unwrap_or_else(|e| {
        // Unknown: treated as linked, so a database hiccup never makes the bot leave a
        // resident's chat.
        tracing::warn!(error = %e, "could not look up whether an account is linked");
        true
    })
}
