//! The fake gateway: one websocket route speaking just enough of Discord's protocol.
//!
//! HELLO on connect; IDENTIFY → READY (a new session), or a close as Discord does: 4004 for a
//! token it does not accept, 4014 for the privileged Message Content intent when the portal
//! has not granted it; HEARTBEAT → HEARTBEAT_ACK (without it
//! serenity reconnects); RESUME with the right session → every dispatch after the client's
//! sequence number, then RESUMED. Dispatches made while no client is connected wait in the
//! history for that replay, which is how Discord loses nothing across a reconnect.

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

/// Records a dispatch and sends it if a client is connected.
pub(crate) fn dispatch(shared: &Shared, t: &str, d: Value) -> u64 {
    let seq = {
        let mut inner = shared.lock();
        inner.seq += 1;
        let seq = inner.seq;
        let frame = payloads::dispatch(t, seq, d);
        inner.history.push((seq, frame.clone()));
        if let Some(conn) = &inner.conn {
            let _ = conn.send(Out::Frame(frame));
        }
        seq
    };
    shared.changed.notify_waiters();
    seq
}

/// Closes the live connection; later dispatches wait for a RESUME.
pub(crate) fn drop_connection(shared: &Shared) {
    if let Some(conn) = shared.lock().conn.take() {
        let _ = conn.send(Out::Close);
    }
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
    if !send(&mut socket, &payloads::hello()).await {
        return;
    }
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
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
            inner.seq += 1;
            let seq = inner.seq;
            let ready = payloads::dispatch("READY", seq, payloads::ready(&session, &shared.ws_url));
            inner.history.push((seq, ready.clone()));
            inner.conn = Some(tx.clone());
            vec![ready]
        }
        Some(6) => {
            let d = &frame["d"];
            if d["session_id"].as_str() != inner.session.as_deref() {
                return vec![payloads::invalid_session()];
            }
            inner.resumes += 1;
            let from = d["seq"].as_u64().unwrap_or(0);
            let from = from.saturating_sub(inner.replay_overlap as u64);
            let mut out: Vec<Value> = inner
                .history
                .iter()
                .filter(|(s, f)| *s > from && f["t"] != "READY")
                .map(|(_, f)| f.clone())
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
                ..Inner::default()
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
