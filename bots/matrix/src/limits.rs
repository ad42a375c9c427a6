//! The startup check for homeserver rate limits.
//!
//! Synapse limits every account to `rc_message` (0.2 messages a second by default): a morning
//! of 10,000 check-ins would take about 14 hours. An administrator exempts the bot with the
//! admin API (`override_ratelimit`, see the README). The bot can only read that setting when
//! it is itself an admin, so otherwise it says it could not check.

use matrix_sdk::Client;

/// Logs a clear warning when the bot account is (or may be) rate limited.
pub async fn check(client: &Client) {
    let (Some(user), Some(token)) = (client.user_id(), client.access_token()) else {
        return;
    };
    let url = format!(
        "{}/_synapse/admin/v1/users/{}/override_ratelimit",
        client.homeserver().as_str().trim_end_matches('/'),
        user
    );
    let response = client
        .http_client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => {
            let body: serde_json::Value =
                serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or_default();
            let exempt = body.get("messages_per_second").and_then(|v| v.as_i64()) == Some(0);
            if exempt {
                tracing::info!("the homeserver does not rate limit the bot account");
            } else {
                tracing::warn!("the homeserver rate limits the bot account: a morning of check-ins may take hours. Exempt it with Synapse's override_ratelimit admin API (README: 'Matrix rate limits')");
            }
        }
        Ok(r) => {
            // The homeserver's own error code and words (no one's data), for the operator.
            let status = r.status().as_u16();
            let body: serde_json::Value =
                serde_json::from_str(&r.text().await.unwrap_or_default()).unwrap_or_default();
            let said = |key: &str| {
                body.get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            tracing::warn!(
                status,
                errcode = %said("errcode"),
                error = %said("error"),
                "could not check whether the homeserver rate limits the bot account (that needs admin rights). If it does, check-ins will queue for hours; see README: 'Matrix rate limits'"
            )
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not reach the homeserver to check its rate limits")
        }
    }
}
