//! The fake gateway: one websocket route speaking just enough of Discord's protocol.
//!
//! HELLO on connect; IDENTIFY → READY (a new session); HEARTBEAT → HEARTBEAT_ACK (without it
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
