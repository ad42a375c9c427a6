//! Invites and messages from Matrix, turned into what the core understands.

use super::{rooms, PLATFORM};
use crate::serve::Service;
use carebot_core::runtime::{Handled, Inbound};
use carebot_core::store::people::Identity;
use matrix_sdk::ruma::events::room::message::{MessageType, SyncRoomMessageEvent};
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedUserId, RoomId};
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
        room.encryption_settings().is_some(),
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
    if let Ok(encrypted) = room.is_encrypted().await {
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

/// One timeline event. Only text from other people in a direct chat is handed on; replies
/// always go to the person's direct chat, never into a shared room.
pub async fn on_event(
    client: &Client,
    service: &Service<MatrixChannel>,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
) {
    let ev = match raw.deserialize() {
        Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncRoomMessageEvent::Original(ev),
        ))) => ev,
        Ok(AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomEncrypted(_))) => {
            // Still encrypted after the SDK tried: the sender's keys never reached the bot.
            tracing::warn!(room = %room.room_id(), "a message could not be decrypted (keys missing); the sender will get no reply to it");
            return;
        }
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "a timeline event could not be read; skipped");
            return;
        }
    };
    if Some(ev.sender.as_ref()) == client.user_id() {
        return;
    }
    if rooms::is_shared(room).await {
        tracing::info!(room = %room.room_id(), "ignoring a message in a shared room");
        return;
    }
    let text = match &ev.content.msgtype {
        MessageType::Text(t) => t.body.clone(),
        MessageType::Emote(t) => t.body.clone(),
        // Notices are bots talking; never answer them (no loops between bots).
        MessageType::Notice(_) => return,
        // A picture or a voice note: the flows read text, and will say so kindly.
        _ => String::new(),
    };
    let encrypted = room.is_encrypted().await.unwrap_or(false);
    service
        .channel()
        .remember(&ev.sender, room.room_id(), encrypted);
    let inbound = Inbound {
        platform: PLATFORM.into(),
        sender: ev.sender.to_string(),
        event_id: ev.event_id.to_string(),
        text,
    };
    let _ = room.typing_notice(true).await;
    match service.receive(&inbound).await {
        Ok(Handled::Duplicate) => tracing::info!("a replayed event was skipped"),
        Ok(handled) => tracing::info!(?handled, "a message was handled"),
        // The event stays unprocessed; the core has told nobody anything. The sync loop logs
        // and carries on; the person's next message is handled normally.
        Err(e) => tracing::error!(error = %e, "a Matrix message could not be handled"),
    }
    let _ = room.typing_notice(false).await;
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
