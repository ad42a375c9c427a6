//! The Prometheus endpoint serves the same counts as `carebot status`, and nothing personal.

use carebot_tests::app::{spawn_app, Backend};
use std::io::{Read, Write};

/// A plain HTTP/1.0 GET (no client library needed for one request).
fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("request");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("response");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_status_counts_and_name_nobody() {
    let app = spawn_app(Backend::Sqlite).await.expect("sqlite");
    app.channel.down(
        "kim",
        carebot_runtime::DeliveryError::Permanent {
            reason: "HTTP 403".into(),
        },
    );
    app.say("ava", "I need help now, my hip hurts").await;
    app.say("ben", "check in").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(carebot::metrics::serve(
        app.bot.store.clone(),
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let body = tokio::task::spawn_blocking(move || get(addr, "/metrics"))
        .await
        .expect("get");
    let _ = stop.send(());
    server.await.expect("join").expect("served");
    assert!(
        body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200"),
        "{body}"
    );
    let status = app.bot.store.status("2026-11-23").await.expect("status");
    let (_, pending, sent, dead, _, _) = status.channels[0].clone();
    assert!(
        body.contains(&format!(
            "carebot_outbox_messages{{platform=\"test\",status=\"sent\"}} {sent}"
        )),
        "{body}"
    );
    assert!(body.contains(&format!(
        "carebot_outbox_messages{{platform=\"test\",status=\"dead\"}} {dead}"
    )));
    assert!(body.contains(&format!(
        "carebot_outbox_messages{{platform=\"test\",status=\"pending\"}} {pending}"
    )));
    assert!(dead >= 1, "Kim's alert was dead-lettered");
    assert!(body.contains("carebot_alerts_unacknowledged 1"), "{body}");
    for personal in ["Ava", "ava", "Kim", "kim", "hip", "help now", "Ben"] {
        assert!(!body.contains(personal), "'{personal}' in metrics: {body}");
    }
}
