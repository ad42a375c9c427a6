//! The fake REST API: the few routes the adapter uses, each recorded.
//!
//! Message sends honour `enforce_nonce` as Discord does (the same nonce in the same channel
//! returns the first message instead of making another) and can be told to answer 429. Every
//! bot call must carry `Authorization: Bot <token>` with the token the fake accepts (else 401,
//! as Discord answers a reset token), and a send to someone who refuses the bot's direct
//! messages is a 403 with code 50007 (or 50278 with no server in common). Nonces are
//! remembered only for a window (five minutes unless told), and every call but an
//! interaction response counts towards Discord's global limit of 50 a second: a call over it
//! is a global 429 saying how long to wait.

use super::limits::{over_global_limit, unauthorized};
use super::{gateway, Call, Inner, SentMessage, Shared};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v10/gateway", get(gateway_url))
        .route("/api/v10/gateway/bot", get(gateway_bot))
        .route("/api/v10/users/@me/channels", post(open_dm))
        .route(
            "/api/v10/channels/{channel}/messages",
            post(send_message).get(read_messages),
        )
        .route(
            "/api/v10/channels/{channel}/messages/{message}",
            axum::routing::patch(edit_message),
        )
        .route(
            "/api/v10/interactions/{id}/{token}/callback",
            post(interaction_callback),
        )
        .fallback(unknown)
        .with_state(shared)
}

fn record(shared: &Shared, route: String, status: StatusCode, body: Value) {
    shared.lock().calls.push(Call {
        route,
        status: status.as_u16(),
        body,
    });
    shared.changed.notify_waiters();
}

async fn gateway_url(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "url": shared.ws_url }))
}

async fn gateway_bot(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "url": shared.ws_url,
        "shards": 1,
        "session_start_limit": { "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1 },
    }))
}

/// A channel's history, as Discord gives it: with `after` (an id), the `limit` messages that
/// follow it, else the latest `limit` (1 to 100, default 50); newest first either way.
async fn read_messages(
    State(shared): State<Arc<Shared>>,
    Path(channel): Path<u64>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let route = format!("GET /api/v10/channels/{channel}/messages");
    if let Some(refused) = unauthorized(&shared, &headers) {
        record(&shared, route, StatusCode::UNAUTHORIZED, Value::Null);
        return refused;
    }
    if let Some(limited) = over_global_limit(&shared) {
        record(&shared, route, StatusCode::TOO_MANY_REQUESTS, Value::Null);
        return limited;
    }
    let after: u64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let limit: usize = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        _ => {
            record(&shared, route, StatusCode::BAD_REQUEST, Value::Null);
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "message": "Invalid Form Body", "code": 50035 })),
            )
                .into_response();
        }
    };
    let mut found: Vec<Value> = {
        let inner = shared.lock();
        let bot = inner
            .messages
            .iter()
            .filter(|m| m.channel_id == channel)
            .map(|m| {
                super::payloads::message(
                    m.id,
                    channel,
                    super::payloads::user(super::payloads::BOT_ID, "Carebot", true),
                    &m.content,
                    None,
                )
            });
        let people = inner
            .written
            .iter()
            .filter(|(c, _)| *c == channel)
            .map(|(_, m)| m.clone());
        bot.chain(people)
            .filter(|m| {
                m["id"]
                    .as_str()
                    .and_then(|i| i.parse::<u64>().ok())
                    .is_some_and(|i| i > after)
            })
            .collect()
    };
    let id = |m: &Value| {
        m["id"]
            .as_str()
            .and_then(|i| i.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // With `after`, the `limit` messages just after it; without, the latest. Newest first.
    found.sort_by_key(id);
    if after > 0 {
        found.truncate(limit);
    } else {
        found = found.split_off(found.len().saturating_sub(limit));
    }
    found.reverse();
    record(&shared, route, StatusCode::OK, Value::Null);
    Json(Value::Array(found)).into_response()
}

/// Discord's rules for a message it will create; the reason it refuses one (400, 50035 or
/// 50006), else `None`: content of at most 2,000 characters; not empty unless it has
/// components or files; at most 5 rows of at most 5 buttons; every `custom_id` 1 to 100
/// characters and unique in the message; every label at most 80 characters.
pub(crate) fn refuse_message(payload: &Value, files: usize) -> Option<(&'static str, u32)> {
    let content = payload["content"].as_str().unwrap_or_default();
    if content.chars().count() > 2_000 {
        return Some(("content: Must be 2000 or fewer in length.", 50035));
    }
    let rows = payload["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if content.is_empty() && rows.is_empty() && files == 0 {
        return Some(("Cannot send an empty message", 50006));
    }
    if rows.len() > 5 {
        return Some(("components: Must be 5 or fewer in length.", 50035));
    }
    let mut ids = std::collections::HashSet::new();
    for row in &rows {
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        if buttons.is_empty() || buttons.len() > 5 {
            return Some((
                "components.components: Must be between 1 and 5 in length.",
                50035,
            ));
        }
        for b in &buttons {
            let id = b["custom_id"].as_str().unwrap_or_default();
            if id.is_empty() || id.chars().count() > 100 {
                return Some(("custom_id: Must be between 1 and 100 in length.", 50035));
            }
            if !ids.insert(id.to_string()) {
                return Some(("custom_id: Component custom id cannot be duplicated", 50035));
            }
            if b["label"].as_str().unwrap_or_default().chars().count() > 80 {
                return Some(("label: Must be 80 or fewer in length.", 50035));
            }
        }
    }
    None
}

/// Edits a message the bot made (here: its components, as taking buttons off does).
async fn edit_message(
    State(shared): State<Arc<Shared>>,
    Path((channel, message)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("PATCH /api/v10/channels/{channel}/messages/{message}");
    if let Some(refused) = unauthorized(&shared, &headers) {
        record(&shared, route, StatusCode::UNAUTHORIZED, Value::Null);
        return refused;
    }
    if let Some(limited) = over_global_limit(&shared) {
        record(&shared, route, StatusCode::TOO_MANY_REQUESTS, Value::Null);
        return limited;
    }
    let edit: Value = serde_json::from_slice(&body).unwrap_or_default();
    let found = {
        let mut inner = shared.lock();
        match inner
            .messages
            .iter_mut()
            .find(|m| m.id == message && m.channel_id == channel)
        {
            Some(m) => {
                if let Some(c) = edit.get("components") {
                    m.payload["components"] = c.clone();
                }
                Some(m.content.clone())
            }
            None => None,
        }
    };
    let Some(content) = found else {
        record(&shared, route, StatusCode::NOT_FOUND, edit);
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "Unknown Message", "code": 10008 })),
        )
            .into_response();
    };
    record(&shared, route, StatusCode::OK, edit);
    Json(super::payloads::message(
        message,
        channel,
        super::payloads::user(super::payloads::BOT_ID, "Carebot", true),
        &content,
        None,
    ))
    .into_response()
}

/// Why Discord refuses a response to a button press, if it does: the callback type must be
/// one a component interaction takes (4 a new message, 5 deferred, 6 deferred update, 7 an
/// update of the message, 9 a modal); 1 (PONG) is for pings only.
pub(crate) fn refuse_callback(body: &Value) -> Option<&'static str> {
    match body["type"].as_u64() {
        Some(4 | 5 | 6 | 7 | 9) => None,
        _ => Some("type: Value is not a valid interaction callback type for this interaction"),
    }
}

/// The user whose DM channel `channel` is.
fn user_of(inner: &Inner, channel: u64) -> Option<u64> {
    inner
        .dm_channels
        .iter()
        .find(|(_, c)| **c == channel)
        .map(|(u, _)| *u)
}

async fn open_dm(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = unauthorized(&shared, &headers) {
        record(
            &shared,
            "POST /api/v10/users/@me/channels".into(),
            StatusCode::UNAUTHORIZED,
            Value::Null,
        );
        return refused;
    }
    if let Some(limited) = over_global_limit(&shared) {
        record(
            &shared,
            "POST /api/v10/users/@me/channels".into(),
            StatusCode::TOO_MANY_REQUESTS,
            Value::Null,
        );
        return limited;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let user: u64 = body["recipient_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let channel = gateway::dm_channel(&mut shared.lock(), user);
    record(
        &shared,
        "POST /api/v10/users/@me/channels".into(),
        StatusCode::OK,
        body,
    );
    Json(json!({
        "id": channel.to_string(),
        "type": 1,
        "last_message_id": null,
        "recipients": [super::payloads::user(user, "someone", false)],
    }))
    .into_response()
}

async fn send_message(
    State(shared): State<Arc<Shared>>,
    Path(channel): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("POST /api/v10/channels/{channel}/messages");
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (payload, files) = match content_type.split_once("boundary=") {
        Some((_, boundary)) => multipart(&body, boundary.trim_matches('"')),
        None => (
            serde_json::from_slice(&body).unwrap_or_default(),
            Vec::new(),
        ),
    };
    if let Some(refused) = unauthorized(&shared, &headers) {
        record(&shared, route, StatusCode::UNAUTHORIZED, payload);
        return refused;
    }
    let fail = {
        let mut inner = shared.lock();
        match inner.fail_send {
            Some(1) => {
                inner.fail_send = None;
                true
            }
            Some(n) => {
                inner.fail_send = Some(n - 1);
                false
            }
            None => false,
        }
    };
    if fail {
        record(&shared, route, StatusCode::INTERNAL_SERVER_ERROR, payload);
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let hang = {
        let mut inner = shared.lock();
        let hang = inner.hang_sends > 0;
        inner.hang_sends = inner.hang_sends.saturating_sub(1);
        hang
    };
    if hang {
        // Recorded with status 599: asked, never answered.
        record(
            &shared,
            route,
            StatusCode::from_u16(599).expect("status"),
            payload,
        );
        // A stuck connection: no answer, ever (the client must give up by itself).
        return std::future::pending::<Response>().await;
    }
    if let Some(limited) = over_global_limit(&shared) {
        record(&shared, route, StatusCode::TOO_MANY_REQUESTS, payload);
        return limited;
    }
    if let Some((why, code)) = refuse_message(&payload, files.len()) {
        record(&shared, route, StatusCode::BAD_REQUEST, payload);
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": why, "code": code })),
        )
            .into_response();
    }
    let refuses = {
        let inner = shared.lock();
        user_of(&inner, channel).and_then(|u| inner.refusing_dms.get(&u).copied())
    };
    if let Some(code) = refuses {
        record(&shared, route, StatusCode::FORBIDDEN, payload);
        let message = match code {
            50278 => "Cannot send messages to this user: no mutual guilds",
            _ => "Cannot send messages to this user",
        };
        return (
            StatusCode::FORBIDDEN,
            Json(json!({ "message": message, "code": code })),
        )
            .into_response();
    }
    let limit = shared.lock().rate_limits.pop_front();
    if let Some((after, global)) = limit {
        record(&shared, route, StatusCode::TOO_MANY_REQUESTS, payload);
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "message": "You are being rate limited.", "retry_after": after, "global": global })),
        )
            .into_response();
        let h = response.headers_mut();
        h.insert("retry-after", after.to_string().parse().expect("header"));
        if global {
            h.insert("x-ratelimit-global", "true".parse().expect("header"));
        }
        return response;
    }
    let message = {
        let mut inner = shared.lock();
        let nonce = payload["nonce"].as_str().map(str::to_string);
        let enforce = payload["enforce_nonce"].as_bool().unwrap_or(false);
        let window = inner.nonce_window;
        let earlier = nonce
            .as_ref()
            .filter(|_| enforce)
            .and_then(|n| inner.nonces.get(&(channel, n.clone())).copied())
            .filter(|(_, at)| at.elapsed() < window)
            .map(|(id, _)| id);
        match earlier.and_then(|id| inner.messages.iter().find(|m| m.id == id).cloned()) {
            Some(m) => m,
            None => {
                let to = user_of(&inner, channel).unwrap_or(0);
                let m = SentMessage {
                    id: inner.id(),
                    channel_id: channel,
                    to,
                    content: payload["content"].as_str().unwrap_or_default().to_string(),
                    payload: payload.clone(),
                    files,
                };
                if let (Some(n), true) = (nonce, enforce) {
                    inner
                        .nonces
                        .insert((channel, n), (m.id, tokio::time::Instant::now()));
                }
                inner.messages.push(m.clone());
                m
            }
        }
    };
    let lost = {
        let mut inner = shared.lock();
        let lost = inner.lose_responses > 0;
        inner.lose_responses = inner.lose_responses.saturating_sub(1);
        lost
    };
    if lost {
        record(&shared, route, StatusCode::BAD_GATEWAY, payload);
        return StatusCode::BAD_GATEWAY.into_response();
    }
    record(&shared, route, StatusCode::OK, payload);
    Json(super::payloads::message(
        message.id,
        channel,
        super::payloads::user(super::payloads::BOT_ID, "Carebot", true),
        &message.content,
        None,
    ))
    .into_response()
}

/// Discord's rules for the first response to an interaction: within 3 seconds of it being
/// sent (later, the token is unknown: 404, code 10062), and once (again: 400, code 40060).
async fn interaction_callback(
    State(shared): State<Arc<Shared>>,
    Path((id, _token)): Path<(u64, String)>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (status, error) = {
        let mut inner = shared.lock();
        inner.callbacks.push((id, body.clone()));
        let sent = inner.pressed.get(&id).copied();
        match sent {
            _ if refuse_callback(&body).is_some() => (
                StatusCode::BAD_REQUEST,
                refuse_callback(&body).map(|why| (50035, why)),
            ),
            None => (StatusCode::NOT_FOUND, Some((10062, "Unknown interaction"))),
            Some(at) if at.elapsed() > Duration::from_secs(3) => {
                inner.late_callbacks += 1;
                (StatusCode::NOT_FOUND, Some((10062, "Unknown interaction")))
            }
            Some(_) if !inner.acknowledged.insert(id) => (
                StatusCode::BAD_REQUEST,
                Some((40060, "Interaction has already been acknowledged.")),
            ),
            Some(_) => (StatusCode::NO_CONTENT, None),
        }
    };
    record(
        &shared,
        format!("POST /api/v10/interactions/{id}/callback"),
        status,
        body,
    );
    match error {
        None => status.into_response(),
        Some((code, message)) => {
            (status, Json(json!({ "code": code, "message": message }))).into_response()
        }
    }
}

async fn unknown(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> StatusCode {
    record(
        &shared,
        format!("{method} {uri}"),
        StatusCode::NOT_FOUND,
        Value::Null,
    );
    StatusCode::NOT_FOUND
}

/// The `payload_json` and the files (name, whether the bytes are a PNG) of a multipart body.
fn multipart(body: &[u8], boundary: &str) -> (Value, Vec<(String, bool)>) {
    let delimiter = format!("--{boundary}");
    let mut payload = Value::Null;
    let mut files = Vec::new();
    for part in split(body, delimiter.as_bytes()) {
        let Some(at) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..at]);
        let content = &part[at + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        if head.contains("name=\"payload_json\"") {
            payload = serde_json::from_slice(content).unwrap_or_default();
        } else if let Some(name) = head.split("filename=\"").nth(1) {
            let name = name.split('"').next().unwrap_or_default().to_string();
            files.push((name, content.starts_with(b"\x89PNG")));
        }
    }
    (payload, files)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        parts.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    parts.push(body);
    parts
}

#[cfg(test)]
mod tests {
    use super::refuse_message;
    use serde_json::json;

    fn buttons(ids: &[&str]) -> serde_json::Value {
        json!({ "type": 1, "components": ids.iter().map(|i| json!({ "type": 2, "style": 2, "custom_id": i, "label": "Yes" })).collect::<Vec<_>>() })
    }

    #[test]
    fn only_callback_types_a_button_press_takes_are_accepted() {
        for ok in [4, 5, 6, 7, 9] {
            assert_eq!(super::refuse_callback(&json!({ "type": ok })), None, "{ok}");
        }
        for bad in [json!({ "type": 1 }), json!({ "type": 8 }), json!({})] {
            assert!(super::refuse_callback(&bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_message_within_discords_limits_is_accepted() {
        let ok = json!({ "content": "Hello", "components": [buttons(&["q:1:yes", "q:1:no"])] });
        assert_eq!(refuse_message(&ok, 0), None);
        assert_eq!(
            refuse_message(&json!({ "content": "" }), 1),
            None,
            "a file alone"
        );
    }

    #[test]
    fn too_long_or_empty_content_is_refused() {
        let long = json!({ "content": "x".repeat(2001) });
        assert_eq!(refuse_message(&long, 0).map(|r| r.1), Some(50035));
        assert_eq!(
            refuse_message(&json!({ "content": "" }), 0).map(|r| r.1),
            Some(50006)
        );
    }

    #[test]
    fn too_many_rows_or_buttons_bad_ids_and_long_labels_are_refused() {
        let six_rows: Vec<_> = (0..6).map(|i| buttons(&[&format!("q:{i}")])).collect();
        assert!(refuse_message(&json!({ "content": "a", "components": six_rows }), 0).is_some());
        let six = buttons(&["a", "b", "c", "d", "e", "f"]);
        assert!(refuse_message(&json!({ "content": "a", "components": [six] }), 0).is_some());
        let long_id = "x".repeat(101);
        assert!(refuse_message(
            &json!({ "content": "a", "components": [buttons(&[&long_id])] }),
            0
        )
        .is_some());
        assert!(refuse_message(
            &json!({ "content": "a", "components": [buttons(&[""])] }),
            0
        )
        .is_some());
        assert!(refuse_message(
            &json!({ "content": "a", "components": [buttons(&["same", "same"])] }),
            0
        )
        .is_some());
        let label = json!({ "type": 1, "components": [{ "type": 2, "custom_id": "a", "label": "y".repeat(81) }] });
        assert!(refuse_message(&json!({ "content": "a", "components": [label] }), 0).is_some());
    }
}
