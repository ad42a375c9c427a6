//! Which room reaches a person.
//!
//! Replies go to the person's direct chat with the bot, never into a shared room, whatever
//! room they wrote from. An encrypted direct chat is preferred; if there is none, one is
//! created (encrypted, as matrix-sdk does for direct chats).

use matrix_sdk::ruma::UserId;
use matrix_sdk::{Client, Room, RoomMemberships};

/// The person's direct chat with the bot, creating an encrypted one if there is none.
pub async fn direct_room(client: &Client, user: &UserId) -> matrix_sdk::Result<Room> {
    if let Some(room) = find(client, user).await? {
        return Ok(room);
    }
    client.create_dm(user).await
}

/// An existing room with just the bot and `user`, encrypted ones first. An error means the
/// homeserver could not be asked; the caller retries rather than open a second chat.
pub async fn find(client: &Client, user: &UserId) -> matrix_sdk::Result<Option<Room>> {
    let mut plain = None;
    for room in client.joined_rooms() {
        if !is_direct_with(&room, user).await? {
            continue;
        }
        if encrypted(&room).await? {
            return Ok(Some(room));
        }
        plain.get_or_insert(room);
    }
    Ok(plain)
}

/// True when `room`'s members (joined or invited) are the bot and `user` only.
pub async fn is_direct_with(room: &Room, user: &UserId) -> matrix_sdk::Result<bool> {
    let members = room
        .members(RoomMemberships::JOIN | RoomMemberships::INVITE)
        .await?;
    Ok(members.len() <= 2 && members.iter().any(|m| m.user_id() == user))
}

/// True when `room` has more people in it than the bot and one other.
pub async fn is_shared(room: &Room) -> bool {
    room.members_no_sync(RoomMemberships::JOIN | RoomMemberships::INVITE)
        .await
        .map(|m| m.len() > 2)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "a room's members could not be read; treated as shared");
            true
        })
}

/// Whether `room` is end-to-end encrypted, as its latest state says.
pub async fn encrypted(room: &Room) -> matrix_sdk::Result<bool> {
    Ok(room.latest_encryption_state().await?.is_encrypted())
}

/// An end-to-end encrypted direct chat the bot has with `user`, if any (they may not have
/// accepted it yet).
pub async fn find_encrypted(client: &Client, user: &UserId) -> matrix_sdk::Result<Option<Room>> {
    for room in client.joined_rooms() {
        if is_direct_with(&room, user).await? && encrypted(&room).await? {
            return Ok(Some(room));
        }
    }
    Ok(None)
}
