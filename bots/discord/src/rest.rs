//! Calling Discord's REST API and reading how it went, rate limits included.
//!
//! Serenity's high-level calls turn a 429 into an error without its `Retry-After`, so the
//! outbox could only guess when to try again. Calls go through here instead: serenity builds
//! the request, and the response's status and headers decide between success, "retry after
//! this long" and "never". In production serenity's rate limiter sends the request (it waits
//! out buckets and the global limit before and after a 429); behind a proxy (and the fake
//! Discord in tests) the request goes straight to the proxy, which must do that job, and a
//! global 429 pauses every call here until it has passed, so a large fan-out does not keep
//! hitting a limit it has already been told about. Either way calls are paced evenly below
//! Discord's global limit of 50 a second (serenity only reacts to a global 429), so a morning
//! fan-out to thousands of people meets none.

use carebot_runtime::DeliveryError;
use reqwest::StatusCode;
use serenity::http::{Http, Request};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// How long one REST call may take before it is given up on (and retried later): one hung
/// connection must not hold every delivery up.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// After Discord rejects the token (401), how long no call at all is made. Discord asks bots
/// to stop, and blocks an address after 10,000 invalid requests in 10 minutes.
pub const TOKEN_PAUSE: Duration = Duration::from_secs(300);

/// REST calls a second the adapter makes at most: Discord allows 50 in all, and interaction
/// responses (which do not count) are not paced.
pub const PER_SECOND: u32 = 45;

/// Discord's REST API, as the adapter uses it.
pub struct Rest {
    /// Serenity's client: token, proxy and (in production) its rate limiter.
    pub(crate) http: Arc<Http>,
    /// Sends requests when serenity's rate limiter is off (a proxy is in front).
    direct: reqwest::Client,
    /// After a global 429 or a 401, no call is made before this.
    paused_until: Mutex<Option<Instant>>,
    /// How long a 401 pauses every call.
    token_pause: Duration,
    /// Whether the last answer was a 401, so the reason is logged once, not per message.
    token_refused: std::sync::atomic::AtomicBool,
    /// Spaces calls evenly at no more than the configured rate (no bursts: any one second
    /// holds at most one more call than the rate).
    pace: governor::DefaultDirectRateLimiter,
}

impl Rest {
    /// Calls through `http` (and its rate limiter, when it has one), at most `per_second`
    /// a second; each call gives up after `timeout`, and a 401 pauses every call for
    /// `token_pause`.
    pub fn new(http: Arc<Http>, timeout: Duration, token_pause: Duration, per_second: u32) -> Self {
        let rate = std::num::NonZeroU32::new(per_second).unwrap_or(std::num::NonZeroU32::MIN);
        let quota = governor::Quota::per_second(rate).allow_burst(std::num::NonZeroU32::MIN);
        Self {
            http,
            direct: client(timeout),
            paused_until: Mutex::new(None),
            token_pause,
            token_refused: std::sync::atomic::AtomicBool::new(false),
            pace: governor::RateLimiter::direct(quota),
        }
    }

    /// Makes one call and returns the response body of a success. `what` names the call for
    /// operators ("sending a message"); reasons never include bodies or the token.
    pub async fn call(&self, what: &str, req: Request<'_>) -> Result<Vec<u8>, DeliveryError> {
        self.wait_out_global_limit().await;
        self.pace.until_ready().await;
        let sent = match &self.http.ratelimiter {
            Some(limiter) => limiter.perform(req).await.map_err(|e| error_kind(&e)),
            None => self.send_direct(req).await,
        };
        let response = sent.map_err(|kind| DeliveryError::Retry {
            after: None,
            reason: format!("{what}: Discord could not be reached ({kind})"),
        })?;
        let status = response.status();
        if status != StatusCode::UNAUTHORIZED
            && self
                .token_refused
                .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::info!("Discord accepts the bot token again; sending resumes");
        }
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        if status.is_success() {
            return Ok(body);
        }
        Err(self.failure(what, status, &headers, &body))
    }

    /// Sends without serenity's rate limiter, to the proxy.
    async fn send_direct(&self, req: Request<'_>) -> Result<reqwest::Response, &'static str> {
        let built = req
            .build(&self.direct, self.http.token(), self.http.proxy.as_deref())
            .map_err(|e| error_kind(&e))?;
        let request = built
            .build()
            .map_err(|_| "the request could not be built")?;
        self.direct
            .execute(request)
            .await
            .map_err(|e| request_error_kind(&e))
    }

    /// What a failed response means for the outbox.
    fn failure(
        &self,
        what: &str,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> DeliveryError {
        let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let after = retry_after(headers, &json);
            let global = headers.contains_key("x-ratelimit-global")
                || json["global"].as_bool().unwrap_or(false);
            if global {
                self.pause_for(after.unwrap_or(Duration::from_secs(1)));
            }
            let scope = if global { "global" } else { "route" };
            return DeliveryError::Retry {
                after,
                reason: format!("{what}: rate limited by Discord ({scope} limit, 429)"),
            };
        }
        // Discord's numeric error code tells an operator what went wrong (50007: the person
        // does not accept direct messages) without repeating anything that was sent.
        let code = json["code"].as_i64().unwrap_or(0);
        let reason = format!("{what}: Discord answered {} (code {code})", status.as_u16());
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            DeliveryError::Retry {
                after: None,
                reason,
            }
        } else if status == StatusCode::UNAUTHORIZED {
            // A wrong or revoked token: no call at all for a while (one 401, not one per
            // waiting message), said once; fixing the configuration lets every waiting
            // message through, so none is given up on for it.
            self.pause_for(self.token_pause);
            if !self
                .token_refused
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                tracing::error!(
                    pause_seconds = self.token_pause.as_secs(),
                    "Discord rejected the bot token (401): all sending is paused; set the bot's current token in CAREBOT_DISCORD_TOKEN or [discord] token and restart"
                );
            }
            DeliveryError::Retry {
                after: Some(self.token_pause),
                reason: format!("{what}: Discord rejected the bot token (401)"),
            }
        } else {
            DeliveryError::Permanent { reason }
        }
    }

    /// No call is made for `d` from now (or longer, if already paused longer).
    fn pause_for(&self, d: Duration) {
        let until = Instant::now() + d;
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        *paused = Some(paused.map_or(until, |p| p.max(until)));
    }

    /// Sleeps until a global rate limit or a token pause has passed.
    async fn wait_out_global_limit(&self) {
        let until = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }
}

/// An HTTP client whose every request gives up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .build()
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "an HTTP client with a timeout could not be built; using the default");
            reqwest::Client::new()
        })
}

/// `Retry-After` (seconds, possibly fractional), else the body's `retry_after`.
fn retry_after(headers: &reqwest::header::HeaderMap, json: &serde_json::Value) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .or_else(|| json["retry_after"].as_f64())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// A short, body-free name for a transport error.
fn error_kind(e: &serenity::Error) -> &'static str {
    match e {
        serenity::Error::Http(serenity::http::HttpError::Request(r)) => request_error_kind(r),
        serenity::Error::Http(_) => "HTTP error",
        _ => "error",
    }
}

fn request_error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "HTTP error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn rest() -> Rest {
        Rest::new(
            Arc::new(
                serenity::http::HttpBuilder::new("token")
                    .proxy("http://127.0.0.1:9")
                    .ratelimiter_disabled(true)
                    .build(),
            ),
            TIMEOUT,
            TOKEN_PAUSE,
            PER_SECOND,
        )
    }

    #[tokio::test]
    async fn a_429_gives_its_retry_after_and_a_global_one_pauses_every_call() {
        let rest = rest();
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2.5"));
        let e = rest.failure("sending", StatusCode::TOO_MANY_REQUESTS, &headers, b"{}");
        assert!(
            matches!(e, DeliveryError::Retry { after: Some(d), .. } if d == Duration::from_millis(2500))
        );
        assert!(rest.paused_until.lock().expect("lock").is_none());
        let body = br#"{"message":"You are being rate limited.","retry_after":1.0,"global":true}"#;
        let e = rest.failure(
            "sending",
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            body,
        );
        assert!(
            matches!(e, DeliveryError::Retry { after: Some(d), .. } if d == Duration::from_secs(1))
        );
        assert!(rest.paused_until.lock().expect("lock").is_some());
    }

    #[test]
    fn refusals_are_permanent_and_outages_are_retried_and_neither_repeats_the_body() {
        let rest = rest();
        let body = br#"{"code":50007,"message":"Cannot send messages to this user"}"#;
        let e = rest.failure("sending", StatusCode::FORBIDDEN, &HeaderMap::new(), body);
        assert_eq!(
            e,
            DeliveryError::Permanent {
                reason: "sending: Discord answered 403 (code 50007)".into()
            }
        );
        let e = rest.failure(
            "sending",
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"oops",
        );
        assert!(matches!(e, DeliveryError::Retry { after: None, .. }));
    }
}
