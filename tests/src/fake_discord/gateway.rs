//! The fake gateway: one websocket route speaking just enough of Discord's protocol.
//!
//! HELLO on connect, with the heartbeat interval; IDENTIFY → READY (a new session, counting
//! its sequence numbers from 1), or a close as Discord does: 4004 for a token it does not
//! accept, 4014 for the privileged Message Content intent when the portal has not granted it;
//! HEARTBEAT → HEARTBEAT_ACK, and a connection with no heartbeat for two intervals is closed
//! (4000, resumable); RESUME with the current session and one of its sequence numbers →
//! every dispatch after it, then RESUMED, else op 9 (`false`: identify afresh). Dispatches made
//! while no client is connected wait in the session's history for that replay, which is how
//! Discord loses nothing across a reconnect; a new session starts with none of them. A
//! session is sent only what its intents cover: DMs need DIRECT_MESSAGES, server messages
//! GUILD_MESSAGES, and a server message's text MESSAGE_CONTENT.

use super::{payloads, Inner, Shared};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a test asks a live connection to do.
pub(crate) enum Out {
    /// Send this frame.
    Frame(Value),
    /// Close with code 4000 (resumable).
    Close,
}

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/gateway", get(upgrade))
        .with_state(shared)
}

async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| connection(shared, socket))
}

/// The DM channel the fake uses for `user`, made on first use.
pub(crate) fn dm_channel(inner: &mut Inner, user: u64) -> u64 {
    if let Some(c) = inner.dm_channels.get(&user) {
        return *c;
    }
    let c = inner.id();
    inner.dm_channels.insert(user, c);
    c
}

/// Intents (Discord's bit numbers).
pub(crate) const GUILD_MESSAGES: u64 = 1 << 9;
/// DMs to the bot.
pub(crate) const DIRECT_MESSAGES: u64 = 1 << 12;

/// `frame` as a session with `intents` is sent it, or nothing if they do not cover it.
pub(crate) fn as_covered(intents: u64, frame: &Value) -> Option<Value> {
    if frame["t"] != "MESSAGE_CREATE" {
        return Some(frame.clone());
    }
    let in_server = !frame["d"]["guild_id"].is_null();
    if !in_server {
        return (intents & DIRECT_MESSAGES != 0).then(|| frame.clone());
    }
    if intents & GUILD_MESSAGES == 0 {
        return None;
    }
    let mut frame = frame.clone();
    if intents & super::MESSAGE_CONTENT == 0 {
        frame["d"]["content"] = Value::String(String::new());
    }
    Some(frame)
}

/// Records a dispatch in the session's history and sends it if a client is connected and
/// its intents cover it.
pub(crate) fn dispatch(shared: &Shared, t: &str, d: Value) -> u64 {
    let seq = {
        let mut inner = shared.lock();
        inner.seq += 1;
        let seq = inner.seq;
        let frame = payloads::dispatch(t, seq, d);
        inner.history.push((seq, frame.clone()));
        if let (Some(conn), Some(frame)) = (&inner.conn, as_covered(inner.intents, &frame)) {
            let _ = conn.send(Out::Frame(frame));
        }
        seq
    };
    shared.changed.notify_waiters();
    seq
}

/// Closes the live connection; later dispatches wait for a RESUME.
pub(crate) fn drop_connection(shared: &Shared) {
    let mut inner = shared.lock();
    if let Some(conn) = inner.conn.take() {
        let _ = conn.send(Out::Close);
        inner.dropped_at = Some(tokio::time::Instant::now());
    }
    drop(inner);
    shared.changed.notify_waiters();
}

async fn send(socket: &mut WebSocket, frame: &Value) -> bool {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .is_ok()
}

async fn connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let interval = shared.lock().heartbeat_interval;
    if !send(&mut socket, &payloads::hello(interval)).await {
        return;
    }
    let mut last_beat = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(last_beat + interval * 2) => {
                shared.lock().closes.push(4000);
                let _ = socket
                    .send(Message::Close(Some(CloseFrame { code: 4000, reason: "fake: no heartbeat".into() })))
                    .await;
                break;
            }
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                if frame["op"].as_u64() == Some(1) {
                    last_beat = tokio::time::Instant::now();
                    shared.lock().heartbeats += 1;
                }
                if let Some((code, reason)) = refused(&shared, &frame) {
                    shared.lock().closes.push(code);
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                        .await;
                    break;
                }
                let replies = on_frame(&shared, &frame, &tx);
                for reply in replies {
                    if !send(&mut socket, &reply).await {
                        break;
                    }
                }
                shared.changed.notify_waiters();
            }
            out = rx.recv() => match out {
                Some(Out::Frame(frame)) => {
                    if !send(&mut socket, &frame).await {
                        break;
                    }
                }
                Some(Out::Close) | None => {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame { code: 4000, reason: "fake: dropped".into() })))
                        .await;
                    break;
                }
            }
        }
    }
    // If this was the live connection, it is not any more.
    let mut inner = shared.lock();
    if inner.conn.as_ref().is_some_and(|c| c.same_channel(&tx)) {
        inner.conn = None;
        inner.dropped_at = Some(tokio::time::Instant::now());
    }
    drop(inner);
    shared.changed.notify_waiters();
}

/// The close Discord answers an IDENTIFY with, if it refuses it: a token it does not know
/// (4004), or a privileged intent the bot was not granted (4014).
fn refused(shared: &Shared, frame: &Value) -> Option<(u16, &'static str)> {
    if frame["op"].as_u64() != Some(2) {
        return None;
    }
    let inner = shared.lock();
    let d = &frame["d"];
    let token = d["token"].as_str().unwrap_or_default();
    if token.trim_start_matches("Bot ") != inner.token {
        return Some((4004, "Authentication failed."));
    }
    let intents = d["intents"].as_u64().unwrap_or(0);
    if inner.message_content_denied && intents & super::MESSAGE_CONTENT != 0 {
        return Some((4014, "Disallowed intent(s)."));
    }
    None
}

/// The frames to answer `frame` with. IDENTIFY and RESUME make this the live connection.
fn on_frame(shared: &Shared, frame: &Value, tx: &mpsc::UnboundedSender<Out>) -> Vec<Value> {
    let mut inner = shared.lock();
    match frame["op"].as_u64() {
        Some(1) => vec![payloads::heartbeat_ack()],
        Some(2) => {
            inner.identifies += 1;
            let session = format!("fake-session-{}", inner.identifies);
            inner.session = Some(session.clone());
            // A new session: its own sequence numbers, and nothing of the last one's.
            inner.history.clear();
            inner.intents = frame["d"]["intents"].as_u64().unwrap_or(0);
            inner.seq = 1;
            let seq = inner.seq;
            let ready = payloads::dispatch("READY", seq, payloads::ready(&session, &shared.ws_url));
            inner.history.push((seq, ready.clone()));
            inner.conn = Some(tx.clone());
            vec![ready]
        }
        Some(6) => {
            let d = &frame["d"];
            let seq = d["seq"].as_u64().unwrap_or(0);
            let expired = inner
                .session_ttl
                .zip(inner.dropped_at)
                .is_some_and(|(ttl, at)| at.elapsed() > ttl);
            if expired {
                inner.session = None;
            }
            if inner.session.is_none()
                || d["session_id"].as_str() != inner.session.as_deref()
                || seq > inner.seq
            {
                return vec![payloads::invalid_session()];
            }
            inner.resumes += 1;
            let from = seq.saturating_sub(inner.replay_overlap as u64);
            let intents = inner.intents;
            let mut out: Vec<Value> = inner
                .history
                .iter()
                .filter(|(s, f)| *s > from && f["t"] != "READY")
                .filter_map(|(_, f)| as_covered(intents, f))
                .collect();
            inner.seq += 1;
            let resumed = payloads::dispatch("RESUMED", inner.seq, json!({}));
            out.push(resumed);
            inner.conn = Some(tx.clone());
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        Shared {
            inner: std::sync::Mutex::new(Inner {
                token: "good".into(),
                ..Inner::new()
            }),
            changed: tokio::sync::Notify::new(),
            ws_url: String::new(),
        }
    }

    fn identify(token: &str, intents: u64) -> Value {
        json!({ "op": 2, "d": { "token": token, "intents": intents } })
    }

    #[test]
    fn an_identify_with_a_token_it_does_not_know_is_closed_with_4004() {
        let s = shared();
        assert_eq!(refused(&s, &identify("bad", 0)).map(|r| r.0), Some(4004));
        assert_eq!(refused(&s, &identify("Bot good", 0)), None);
        assert_eq!(refused(&s, &identify("good", 0)), None);
    }

    fn message(guild: Option<u64>) -> Value {
        let m = payloads::message(7, 8, payloads::user(9, "ava", false), "hello", guild);
        payloads::dispatch("MESSAGE_CREATE", 3, m)
    }

    #[test]
    fn only_what_the_intents_cover_is_sent() {
        let dm = message(None);
        let server = message(Some(4242));
        assert_eq!(as_covered(DIRECT_MESSAGES, &dm), Some(dm.clone()));
        assert_eq!(
            as_covered(GUILD_MESSAGES, &dm),
            None,
            "a DM needs DIRECT_MESSAGES"
        );
        assert_eq!(
            as_covered(DIRECT_MESSAGES, &server),
            None,
            "a server message needs GUILD_MESSAGES"
        );
        let without_content = as_covered(GUILD_MESSAGES, &server).expect("sent");
        assert_eq!(
            without_content["d"]["content"], "",
            "no MESSAGE_CONTENT, no text"
        );
        let with_content =
            as_covered(GUILD_MESSAGES | super::super::MESSAGE_CONTENT, &server).expect("sent");
        assert_eq!(with_content["d"]["content"], "hello");
        let press = payloads::dispatch("INTERACTION_CREATE", 4, json!({}));
        assert_eq!(
            as_covered(0, &press),
            Some(press.clone()),
            "interactions always"
        );
    }

    #[test]
    fn each_session_counts_from_one_and_resumes_only_itself() {
        let s = shared();
        let (tx, _rx) = mpsc::unbounded_channel();
        let ready = on_frame(&s, &identify("good", DIRECT_MESSAGES), &tx);
        assert_eq!(ready[0]["s"], 1);
        dispatch(&s, "MESSAGE_CREATE", message(None)["d"].clone());
        assert_eq!(s.lock().seq, 2);
        let resume = |session: &str, seq: u64| json!({ "op": 6, "d": { "token": "good", "session_id": session, "seq": seq } });
        let replay = on_frame(&s, &resume("fake-session-1", 1), &tx);
        assert_eq!(replay.len(), 2, "the message after 1, then RESUMED");
        assert_eq!(replay[0]["s"], 2);
        assert_eq!(
            on_frame(&s, &resume("fake-session-1", 99), &tx)[0]["op"],
            9,
            "a sequence number this session never sent"
        );
        s.lock().session_ttl = Some(std::time::Duration::from_secs(60));
        s.lock().dropped_at = Some(tokio::time::Instant::now());
        assert_eq!(
            on_frame(&s, &resume("fake-session-1", 1), &tx)
                .last()
                .map(|f| f["t"].clone()),
            Some(json!("RESUMED")),
            "dropped a moment ago: still resumable"
        );
        s.lock().dropped_at =
            tokio::time::Instant::now().checked_sub(std::time::Duration::from_secs(61));
        assert_eq!(
            on_frame(&s, &resume("fake-session-1", 1), &tx)[0]["op"],
            9,
            "dropped longer ago than the session lives"
        );
        let again = on_frame(&s, &identify("good", DIRECT_MESSAGES), &tx);
        assert_eq!(again[0]["s"], 1, "a new session counts from 1");
        assert_eq!(
            on_frame(&s, &resume("fake-session-1", 1), &tx)[0]["op"],
            9,
            "the old session is gone"
        );
    }

    #[test]
    fn a_privileged_intent_not_granted_is_closed_with_4014() {
        let s = shared();
        let content = identify("good", super::super::MESSAGE_CONTENT | 1 << 12);
        assert_eq!(refused(&s, &content), None, "granted by default");
        s.lock().message_content_denied = true;
        assert_eq!(refused(&s, &content).map(|r| r.0), Some(4014));
        assert_eq!(
            refused(&s, &identify("good", 1 << 12)),
            None,
            "DMs alone need no grant"
        );
        assert_eq!(
            refused(&s, &json!({ "op": 1, "d": null })),
            None,
            "only IDENTIFY is checked"
        );
    }
}
