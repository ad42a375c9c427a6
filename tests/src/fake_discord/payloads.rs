//! The JSON the fake Discord sends, kept as small as serenity 0.12.5 accepts.
//!
//! Serenity turns a dispatch it cannot read into `Event::Unknown` and drops it without a word,
//! so a missing field here would make a test wait for nothing. Every payload is therefore
//! checked below by deserializing it into serenity's `GatewayEvent`.

use serde_json::{json, Value};

/// The bot's own user id.
pub const BOT_ID: u64 = 900_000_000_000_000_001;

/// The application id.
pub const APPLICATION_ID: u64 = 900_000_000_000_000_002;

/// A dispatch frame (`op` 0) with sequence number `s`.
pub fn dispatch(t: &str, s: u64, d: Value) -> Value {
    json!({ "op": 0, "t": t, "s": s, "d": d })
}

/// HELLO, giving the heartbeat interval in milliseconds.
pub fn hello(interval: std::time::Duration) -> Value {
    json!({ "op": 10, "d": { "heartbeat_interval": interval.as_millis() as u64 } })
}

/// HEARTBEAT_ACK.
pub fn heartbeat_ack() -> Value {
    json!({ "op": 11 })
}

/// INVALID_SESSION (not resumable): the client identifies afresh.
pub fn invalid_session() -> Value {
    json!({ "op": 9, "d": false })
}

/// A user object.
pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": null,
        "bot": bot,
    })
}

/// READY's `d`.
pub fn ready(session_id: &str, resume_url: &str) -> Value {
    json!({
        "v": 10,
        "user": user(BOT_ID, "Carebot", true),
        "guilds": [],
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "shard": [0, 1],
        "application": { "id": APPLICATION_ID.to_string(), "flags": 0 },
    })
}

/// A message object, as MESSAGE_CREATE's `d` and inside interactions. `guild_id` makes it a
/// server message; without it, a DM.
pub fn message(
    id: u64,
    channel_id: u64,
    author: Value,
    content: &str,
    guild_id: Option<u64>,
) -> Value {
    let mut m = json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": content,
        "timestamp": "2026-11-23T09:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
    });
    if let Some(g) = guild_id {
        m["guild_id"] = json!(g.to_string());
    }
    m
}

/// INTERACTION_CREATE's `d` for a button (`custom_id`) pressed by `presser` on `message`, in a DM.
pub fn button_press(
    id: u64,
    token: &str,
    presser: Value,
    channel_id: u64,
    custom_id: &str,
    message: Value,
) -> Value {
    json!({
        "id": id.to_string(),
        "application_id": APPLICATION_ID.to_string(),
        "type": 3,
        "data": { "custom_id": custom_id, "component_type": 2 },
        "channel_id": channel_id.to_string(),
        "channel": { "id": channel_id.to_string(), "type": 1 },
        "user": presser,
        "token": token,
        "version": 1,
        "message": message,
        "locale": "en-GB",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 1,
        "attachment_size_limit": 10_485_760,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serenity::all::{Event, GatewayEvent, Interaction};

    fn parse(frame: Value) -> GatewayEvent {
        serde_json::from_value(frame).expect("serenity reads the frame")
    }

    #[test]
    fn hello_and_heartbeat_ack_are_read() {
        assert!(matches!(
            parse(hello(std::time::Duration::from_millis(41_250))),
            GatewayEvent::Hello(41_250)
        ));
        assert!(matches!(parse(heartbeat_ack()), GatewayEvent::HeartbeatAck));
        assert!(matches!(
            parse(invalid_session()),
            GatewayEvent::InvalidateSession(false)
        ));
    }

    #[test]
    fn ready_is_read_as_ready() {
        let frame = dispatch("READY", 1, ready("s1", "ws://127.0.0.1:1"));
        match parse(frame) {
            GatewayEvent::Dispatch(1, Event::Ready(r)) => assert_eq!(r.ready.session_id, "s1"),
            other => panic!("not READY: {other:?}"),
        }
    }

    #[test]
    fn a_dm_is_read_as_a_message_without_a_guild() {
        let m = message(5, 6, user(7, "ava", false), "hello", None);
        match parse(dispatch("MESSAGE_CREATE", 2, m)) {
            GatewayEvent::Dispatch(2, Event::MessageCreate(e)) => {
                assert_eq!(e.message.content, "hello");
                assert!(e.message.guild_id.is_none());
                assert_eq!(e.message.author.id.get(), 7);
            }
            other => panic!("not MESSAGE_CREATE: {other:?}"),
        }
    }

    #[test]
    fn a_server_message_keeps_its_guild() {
        let m = message(5, 6, user(7, "kim", false), "!carebot ack", Some(8));
        match parse(dispatch("MESSAGE_CREATE", 2, m)) {
            GatewayEvent::Dispatch(_, Event::MessageCreate(e)) => {
                assert_eq!(e.message.guild_id.map(|g| g.get()), Some(8));
            }
            other => panic!("not MESSAGE_CREATE: {other:?}"),
        }
    }

    #[test]
    fn a_button_press_is_read_as_a_component_interaction() {
        let shown = message(5, 6, user(BOT_ID, "Carebot", true), "How?", None);
        let d = button_press(9, "tok", user(7, "ava", false), 6, "answer:4", shown);
        match parse(dispatch("INTERACTION_CREATE", 3, d)) {
            GatewayEvent::Dispatch(_, Event::InteractionCreate(e)) => match e.interaction {
                Interaction::Component(c) => {
                    assert_eq!(c.data.custom_id, "answer:4");
                    assert_eq!(c.user.id.get(), 7);
                    assert!(c.guild_id.is_none());
                }
                other => panic!("not a component: {other:?}"),
            },
            other => panic!("not INTERACTION_CREATE: {other:?}"),
        }
    }

    #[test]
    fn resumed_is_read() {
        assert!(matches!(
            parse(dispatch("RESUMED", 4, json!({}))),
            GatewayEvent::Dispatch(4, Event::Resumed(_))
        ));
    }
}
