//! What the fake refuses before it looks at a call, as Discord does: a call without the
//! token it accepts (401), and a call over the global limit (429 with `global`), either the
//! limit in time (50 calls in any second unless told) or one a test sets by count.

use super::{Inner, Shared};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// A 401 for a call without the token the fake accepts.
pub(crate) fn unauthorized(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bot {}", shared.lock().token);
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    (given != expected).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "message": "401: Unauthorized", "code": 0 })),
        )
            .into_response()
    })
}

/// A global 429, if the global limit says so.
pub(crate) fn over_global_limit(shared: &Shared) -> Option<Response> {
    let mut inner = shared.lock();
    let now = tokio::time::Instant::now();
    if let Some(after) = too_fast(&mut inner, now) {
        inner.too_fast += 1;
        inner.global_429s += 1;
        return Some(global_429(after));
    }
    let (every, retry_after) = inner.global_limit?;
    let after = match inner.blocked_until {
        Some(until) if now < until => {
            inner.calls_after_429 += 1;
            until - now
        }
        _ => {
            inner.limited_calls += 1;
            if inner.limited_calls < every {
                return None;
            }
            inner.limited_calls = 0;
            inner.blocked_until = Some(now + retry_after);
            retry_after
        }
    };
    inner.global_429s += 1;
    Some(global_429(after))
}

/// Discord's limit in time: a call that would be more than `per_second` in the last second
/// is refused, and told how long until the oldest of them is a second old.
pub(crate) fn too_fast(inner: &mut Inner, now: tokio::time::Instant) -> Option<Duration> {
    let limit = inner.per_second?;
    let second = Duration::from_secs(1);
    while inner
        .recent_calls
        .front()
        .is_some_and(|t| now.duration_since(*t) >= second)
    {
        inner.recent_calls.pop_front();
    }
    if inner.recent_calls.len() >= limit {
        let oldest = *inner.recent_calls.front()?;
        return Some(second.saturating_sub(now.duration_since(oldest)));
    }
    inner.recent_calls.push_back(now);
    None
}

/// A global 429 asking the client to wait `after`.
fn global_429(after: Duration) -> Response {
    let after = after.as_secs_f64();
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({ "message": "You are being rate limited.", "retry_after": after, "global": true })),
    )
        .into_response();
    let h = response.headers_mut();
    h.insert("retry-after", after.to_string().parse().expect("header"));
    h.insert("x-ratelimit-global", "true".parse().expect("header"));
    response
}
