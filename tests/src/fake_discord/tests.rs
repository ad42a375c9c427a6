//! The fake's rules, tried from outside as a client would: each refuses what Discord does.

use super::*;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as Ws;

/// POSTs `body` to `path` with the fake's token; returns the status and the JSON answer.
async fn post(fake: &FakeDiscord, path: &str, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v10{path}", fake.api_base()))
        .header("authorization", format!("Bot {TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the fake answers");
    let status = answer.status().as_u16();
    let bytes = answer.bytes().await.expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// Opens the DM channel with `user`.
async fn dm_channel(fake: &FakeDiscord, user: u64) -> String {
    let (status, channel) = post(
        fake,
        "/users/@me/channels",
        json!({ "recipient_id": user.to_string() }),
    )
    .await;
    assert_eq!(status, 200);
    channel["id"].as_str().expect("an id").to_string()
}

fn with_nonce(text: &str, nonce: &str) -> Value {
    json!({ "content": text, "nonce": nonce, "enforce_nonce": true })
}

#[tokio::test]
async fn a_nonce_is_honoured_only_within_its_window() {
    let fake = FakeDiscord::start().await;
    let channel = dm_channel(&fake, 7).await;
    let path = format!("/channels/{channel}/messages");
    let (_, first) = post(&fake, &path, with_nonce("Hello", "n1")).await;
    let (_, again) = post(&fake, &path, with_nonce("Hello", "n1")).await;
    assert_eq!(
        first["id"], again["id"],
        "within the window: the same message"
    );
    assert_eq!(fake.messages().len(), 1);
    fake.remember_nonces_for(Duration::ZERO);
    let (_, late) = post(&fake, &path, with_nonce("Hello", "n1")).await;
    assert_ne!(first["id"], late["id"], "past the window: a second message");
    assert_eq!(fake.messages().len(), 2);
}

#[tokio::test]
async fn a_send_to_someone_who_refuses_dms_is_403_with_discords_code() {
    let fake = FakeDiscord::start().await;
    fake.refuse_dms(7);
    fake.share_no_server_with(8);
    for (user, code) in [(7, 50007), (8, 50278)] {
        let channel = dm_channel(&fake, user).await;
        let path = format!("/channels/{channel}/messages");
        let (status, error) = post(&fake, &path, json!({ "content": "Hello" })).await;
        assert_eq!((status, error["code"].as_u64()), (403, Some(code)));
    }
    assert!(fake.messages().is_empty());
}

#[tokio::test]
async fn calls_faster_than_the_global_limit_get_a_global_429_saying_how_long() {
    let fake = FakeDiscord::start().await;
    fake.allow_per_second(Some(3));
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for user in 0..4 {
        let (status, answer) = post(
            &fake,
            "/users/@me/channels",
            json!({ "recipient_id": (100 + user).to_string() }),
        )
        .await;
        statuses.push(status);
        if status == 429 {
            assert_eq!(answer["global"], true);
            retry_after = answer["retry_after"].as_f64();
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429], "the fourth within a second");
    let wait = retry_after.expect("a wait");
    assert!(wait > 0.0 && wait <= 1.0, "told to wait {wait} s");
    assert_eq!(fake.too_fast(), 1);
}

#[test]
fn the_limit_counts_the_last_second_only() {
    let mut inner = Inner::new();
    inner.per_second = Some(2);
    let t0 = tokio::time::Instant::now();
    assert_eq!(limits::too_fast(&mut inner, t0), None);
    assert_eq!(limits::too_fast(&mut inner, t0), None);
    let wait = limits::too_fast(&mut inner, t0 + Duration::from_millis(400));
    assert_eq!(wait, Some(Duration::from_millis(600)));
    assert_eq!(
        limits::too_fast(&mut inner, t0 + Duration::from_secs(1)),
        None,
        "a second later the first two no longer count"
    );
}

/// Connects a bare client to the fake's gateway; returns it with HELLO's interval.
async fn connect(
    fake: &FakeDiscord,
) -> (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    u64,
) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/gateway", fake.addr))
        .await
        .expect("the gateway takes the connection");
    let Some(Ok(Ws::Text(hello))) = ws.next().await else {
        panic!("no HELLO");
    };
    let hello: Value = serde_json::from_str(&hello).expect("JSON");
    let interval = hello["d"]["heartbeat_interval"].as_u64().expect("interval");
    (ws, interval)
}

/// Reads until the fake closes the connection; returns the close code.
async fn close_code(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<u16> {
    while let Some(frame) = ws.next().await {
        if let Ok(Ws::Close(close)) = frame {
            return close.map(|c| u16::from(c.code));
        }
    }
    None
}

#[tokio::test]
async fn a_connection_that_stops_heartbeating_is_closed() {
    let fake = FakeDiscord::start().await;
    fake.heartbeat_every(Duration::from_millis(100));
    let (mut ws, interval) = connect(&fake).await;
    assert_eq!(interval, 100, "HELLO gives the interval");
    let started = tokio::time::Instant::now();
    // Heartbeats on time keep it open past the point a silent one is closed...
    for _ in 0..5 {
        ws.send(Ws::Text(json!({ "op": 1, "d": null }).to_string().into()))
            .await
            .expect("sent");
        let Some(Ok(Ws::Text(ack))) = ws.next().await else {
            panic!("no HEARTBEAT_ACK");
        };
        assert_eq!(serde_json::from_str::<Value>(&ack).expect("JSON")["op"], 11);
        tokio::time::sleep(Duration::from_millis(interval / 2)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(2 * interval));
    assert!(fake.closes().is_empty(), "still open while it heartbeats");
    // ...and then silence closes it.
    assert_eq!(close_code(&mut ws).await, Some(4000));
    assert_eq!(fake.closes(), [4000]);
    assert_eq!(fake.heartbeats(), 5);
}
