//! A fake Discord for driving the real adapter (serenity and all) in tests.
//!
//! One local port serves the REST API (`/api/v10/...`, reached through serenity's `proxy`) and
//! the gateway websocket (`/gateway`). The fake records what it is sent, so tests can assert on
//! exactly what reached "Discord", and lets a test act as Discord does: deliver a DM or a button
//! press, replay an event, close the connection and accept a RESUME, or answer 429.
//!
//! - `rest.rs`: the REST routes and what they record.
//! - `limits.rs`: the token check and the global limit every REST call meets.
//! - `gateway.rs`: the websocket: HELLO, IDENTIFY → READY, heartbeats, RESUME with replay.
//! - `payloads.rs`: the JSON, each checked against serenity's types.

mod gateway;
mod limits;
pub mod payloads;
mod rest;

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// A message the bot created (once per nonce, as Discord does with `enforce_nonce`).
#[derive(Clone, Debug)]
pub struct SentMessage {
    /// The message id the fake gave it.
    pub id: u64,
    /// The DM channel.
    pub channel_id: u64,
    /// The user whose DM channel it is.
    pub to: u64,
    /// `content`.
    pub content: String,
    /// The whole JSON body (or `payload_json`) as sent.
    pub payload: Value,
    /// Attached files: (file name, whether it is a PNG image).
    pub files: Vec<(String, bool)>,
}

impl SentMessage {
    /// The labels and custom ids of its buttons, in order.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let rows = self.payload["components"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        rows.iter()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .map(|b| {
                (
                    b["label"].as_str().unwrap_or_default().to_string(),
                    b["custom_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

/// A call the bot made, whatever came of it.
#[derive(Clone, Debug)]
pub struct Call {
    /// "POST /api/v10/channels/1/messages".
    pub route: String,
    /// The HTTP status the fake answered.
    pub status: u16,
    /// The JSON body, if any.
    pub body: Value,
}

/// What the fake has seen and been told to do.
#[derive(Default)]
pub(crate) struct Inner {
    /// Every REST call, in order.
    pub calls: Vec<Call>,
    /// Messages created.
    pub messages: Vec<SentMessage>,
    /// (channel, nonce) → (message id, when), for `enforce_nonce`.
    pub nonces: HashMap<(u64, String), (u64, tokio::time::Instant)>,
    /// How long a nonce is remembered: Discord honours `enforce_nonce` for a few minutes.
    pub nonce_window: Duration,
    /// User → DM channel.
    pub dm_channels: HashMap<u64, u64>,
    /// Interaction callbacks: (interaction id, body), every attempt, refused ones too.
    pub callbacks: Vec<(u64, Value)>,
    /// When each interaction was sent to the bot: Discord takes its first response only
    /// within 3 seconds of that, and only once.
    pub pressed: HashMap<u64, tokio::time::Instant>,
    /// Interactions already acknowledged.
    pub acknowledged: std::collections::HashSet<u64>,
    /// Callbacks Discord would have refused as too late (after 3 s): each is a button the
    /// person saw fail.
    pub late_callbacks: usize,
    /// 429s to answer to the next message sends: (retry after in seconds, global).
    pub rate_limits: VecDeque<(f64, bool)>,
    /// Message sends to answer with 502 after making the message (a response lost on the way).
    pub lose_responses: usize,
    /// A global limit: every this-many calls, a global 429 with this `Retry-After`.
    pub global_limit: Option<(usize, Duration)>,
    /// REST calls since the last global 429.
    pub limited_calls: usize,
    /// Discord's global limit in time: at most this many REST calls (interaction responses
    /// aside) in any one second; more are answered with a global 429.
    pub per_second: Option<usize>,
    /// When the REST calls of the last second came.
    pub recent_calls: VecDeque<tokio::time::Instant>,
    /// Global 429s served because calls came faster than `per_second`.
    pub too_fast: usize,
    /// Until when the last global 429 holds.
    pub blocked_until: Option<tokio::time::Instant>,
    /// Global 429s served.
    pub global_429s: usize,
    /// Calls that came while a global 429 still held: a client that honours `Retry-After`
    /// makes none, so any here is the start of a 429 storm.
    pub calls_after_429: usize,
    /// Every dispatch of the current session, for RESUME: (sequence number, frame).
    pub history: Vec<(u64, Value)>,
    /// The last sequence number of the current session (each session counts from 1).
    pub seq: u64,
    /// The intents the current session identified with: what they do not cover is not sent.
    pub intents: u64,
    /// The heartbeat interval HELLO gives; a connection that sends no heartbeat for longer
    /// (with a little grace) is closed, as Discord closes a client that has gone quiet.
    pub heartbeat_interval: Duration,
    /// Heartbeats received, on every connection.
    pub heartbeats: usize,
    /// How long after its connection drops a session can still be resumed (`None`: always).
    pub session_ttl: Option<Duration>,
    /// When the live connection last went away.
    pub dropped_at: Option<tokio::time::Instant>,
    /// The live, identified connection's outgoing queue.
    pub conn: Option<mpsc::UnboundedSender<gateway::Out>>,
    /// The current session.
    pub session: Option<String>,
    /// How many times a client identified, and resumed.
    pub identifies: usize,
    /// How many RESUMEs were accepted.
    pub resumes: usize,
    /// On RESUME, also send again this many events the client had already seen (Discord may).
    pub replay_overlap: usize,
    /// Ids handed out for channels, messages and interactions.
    pub next_id: u64,
    /// The bot token Discord accepts; any other in IDENTIFY closes with 4004.
    pub token: String,
    /// Whether the bot has the privileged Message Content intent switched on in the portal;
    /// without it, an IDENTIFY asking for it closes with 4014.
    pub message_content_denied: bool,
    /// Close codes the gateway closed with, in order.
    pub closes: Vec<u16>,
    /// Users who do not accept the bot's direct messages, with the code a send to them gets
    /// (403): 50007 (DMs closed, or the bot blocked) or 50278 (no server in common).
    pub refusing_dms: HashMap<u64, u64>,
    /// Message sends to leave hanging (never answered), as a stuck connection does.
    pub hang_sends: usize,
    /// Message sends counted from the next one: this one (1 = the next) fails with 500
    /// before anything is made.
    pub fail_send: Option<usize>,
    /// What people wrote in DMs, as Discord keeps it (for reading a channel's history):
    /// (channel, message object).
    pub written: Vec<(u64, Value)>,
}

/// Discord's global limit: REST calls per second.
pub const PER_SECOND: usize = 50;

/// How long the fake remembers a nonce unless told otherwise (Discord: "a few minutes").
pub const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Discord's heartbeat interval, as its HELLO gives it.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(41_250);

impl Inner {
    /// A fake as strict as Discord: its token, its global limit, its nonce window and
    /// heartbeat interval.
    pub(crate) fn new() -> Self {
        Self {
            token: TOKEN.into(),
            per_second: Some(PER_SECOND),
            nonce_window: NONCE_WINDOW,
            heartbeat_interval: HEARTBEAT_INTERVAL,
            ..Inner::default()
        }
    }

    pub(crate) fn id(&mut self) -> u64 {
        self.next_id += 1;
        500_000_000_000_000_000 + self.next_id
    }
}

/// The shared state behind the routes.
pub(crate) struct Shared {
    pub inner: Mutex<Inner>,
    /// Woken whenever anything is recorded or a connection changes.
    pub changed: Notify,
    /// `ws://127.0.0.1:PORT/gateway`.
    pub ws_url: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The bot token the fake accepts unless told otherwise.
pub const TOKEN: &str = "fake-bot-token";

/// Discord's privileged Message Content intent (1 << 15).
pub const MESSAGE_CONTENT: u64 = 1 << 15;

/// A running fake Discord.
pub struct FakeDiscord {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    /// Starts one on a free local port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::new()),
            changed: Notify::new(),
            ws_url: format!("ws://{addr}/gateway"),
        });
        let app = rest::routes(shared.clone()).merge(gateway::routes(shared.clone()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, shared }
    }

    /// From now on only `token` is accepted (as when the bot's token is reset in the portal).
    pub fn accept_only_token(&self, token: &str) {
        self.shared.lock().token = token.into();
    }

    /// Message send number `n` from now (1 = the next) fails with a 500, making nothing.
    pub fn fail_send_number(&self, n: usize) {
        self.shared.lock().fail_send = Some(n);
    }

    /// The few minutes for which Discord honours a nonce have passed: a resend is a new
    /// message again.
    pub fn forget_nonces(&self) {
        self.shared.lock().nonces.clear();
    }

    /// The next `n` message sends get no answer at all (the connection hangs).
    pub fn hang_next_sends(&self, n: usize) {
        self.shared.lock().hang_sends = n;
    }

    /// `user` no longer accepts the bot's direct messages (closed DMs, or blocked the bot):
    /// sends to them get 403 with code 50007.
    pub fn refuse_dms(&self, user: u64) {
        self.shared.lock().refusing_dms.insert(user, 50007);
    }

    /// `user` shares no server with the bot (it was removed, or they left): sends to them get
    /// 403 with code 50278.
    pub fn share_no_server_with(&self, user: u64) {
        self.shared.lock().refusing_dms.insert(user, 50278);
    }

    /// Nonces are remembered for `window` from now on (Discord: a few minutes).
    pub fn remember_nonces_for(&self, window: Duration) {
        self.shared.lock().nonce_window = window;
    }

    /// Discord's global limit, per second, from now on (`None`: no limit in time).
    pub fn allow_per_second(&self, calls: Option<usize>) {
        self.shared.lock().per_second = calls;
    }

    /// Global 429s served because calls came faster than the per-second limit.
    pub fn too_fast(&self) -> usize {
        self.shared.lock().too_fast
    }

    /// HELLO gives `interval` from the next connection on, and a connection that stops
    /// heartbeating for longer is closed.
    pub fn heartbeat_every(&self, interval: Duration) {
        self.shared.lock().heartbeat_interval = interval;
    }

    /// Heartbeats received so far.
    pub fn heartbeats(&self) -> usize {
        self.shared.lock().heartbeats
    }

    /// The bot's Message Content intent is switched off in the portal.
    pub fn deny_message_content(&self) {
        self.shared.lock().message_content_denied = true;
    }

    /// The close codes the gateway sent, in order.
    pub fn closes(&self) -> Vec<u16> {
        self.shared.lock().closes.clone()
    }

    /// What to give serenity's `HttpBuilder::proxy`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every message created so far.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.shared.lock().messages.clone()
    }

    /// Every REST call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Interaction callbacks so far: (interaction id, body).
    pub fn callbacks(&self) -> Vec<(u64, Value)> {
        self.shared.lock().callbacks.clone()
    }

    /// Callbacks that came after Discord's 3-second window.
    pub fn late_callbacks(&self) -> usize {
        self.shared.lock().late_callbacks
    }

    /// (identifies, resumes) so far.
    pub fn sessions(&self) -> (usize, usize) {
        let i = self.shared.lock();
        (i.identifies, i.resumes)
    }

    /// Answers the next `n` message sends with 429 and `Retry-After: retry_after` seconds.
    pub fn rate_limit_next(&self, n: usize, retry_after: f64, global: bool) {
        let mut i = self.shared.lock();
        i.rate_limits
            .extend(std::iter::repeat_n((retry_after, global), n));
    }

    /// Answers every `every`-th REST call with a global 429 and `Retry-After: retry_after`
    /// (and every call while that holds, as Discord does). Counting calls rather than time
    /// makes the number of limits the same on a fast machine and a slow one.
    pub fn global_limit(&self, every: usize, retry_after: Duration) {
        self.shared.lock().global_limit = Some((every.max(1), retry_after));
    }

    /// (global 429s served, calls made in a window after its 429).
    pub fn global_limit_report(&self) -> (usize, usize) {
        let i = self.shared.lock();
        (i.global_429s, i.calls_after_429)
    }

    /// Makes the next `n` messages but answers 502, as if the response were lost.
    pub fn lose_next_responses(&self, n: usize) {
        self.shared.lock().lose_responses += n;
    }

    /// On RESUME, also replay this many events the client already had.
    pub fn replay_overlap_on_resume(&self, n: usize) {
        self.shared.lock().replay_overlap = n;
    }

    /// Waits (up to 10 s) until `done` holds, panicking with `what` if it never does.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&FakeView<'_>) -> bool) {
        self.wait_until_within(what, Duration::from_secs(10), done)
            .await;
    }

    /// Waits (up to `patience`) until `done` holds, panicking with `what` if it never does.
    pub async fn wait_until_within(
        &self,
        what: &str,
        patience: Duration,
        done: impl Fn(&FakeView<'_>) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let notified = self.shared.changed.notified();
            {
                let inner = self.shared.lock();
                if done(&FakeView(&inner)) {
                    return;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let inner = self.shared.lock();
                let sent: Vec<&str> = inner.messages.iter().map(|m| m.content.as_str()).collect();
                panic!("timed out waiting for {what}; messages so far: {sent:#?}");
            }
        }
    }

    /// Waits until `n` messages in all have been created; returns them all.
    pub async fn wait_for_messages(&self, n: usize) -> Vec<SentMessage> {
        self.wait_until(&format!("{n} messages"), |v| v.messages().len() >= n)
            .await;
        self.messages()
    }

    /// Waits until a client has identified `identifies` times and resumed `resumes` times.
    pub async fn wait_for_sessions(&self, identifies: usize, resumes: usize) {
        self.wait_until("the gateway session", |v| {
            v.0.identifies >= identifies && v.0.resumes >= resumes && v.0.conn.is_some()
        })
        .await;
    }

    /// Sends a dispatch now, or (while disconnected) keeps it for the RESUME replay, as
    /// Discord does. Returns its sequence number.
    pub fn dispatch(&self, t: &str, d: Value) -> u64 {
        gateway::dispatch(&self.shared, t, d)
    }

    /// `user` (named `name`) sends a DM saying `text`. Returns the message id (to replay it).
    pub fn dm(&self, user: u64, name: &str, text: &str) -> u64 {
        let (id, m) = self.write_dm(user, name, text);
        self.dispatch("MESSAGE_CREATE", m);
        id
    }

    /// `user` sends a DM while the bot has no session: Discord keeps it in the channel, but a
    /// fresh session (after the old one expired) never delivers it as an event.
    pub fn dm_while_away(&self, user: u64, name: &str, text: &str) -> u64 {
        self.write_dm(user, name, text).0
    }

    fn write_dm(&self, user: u64, name: &str, text: &str) -> (u64, Value) {
        let mut i = self.shared.lock();
        let id = i.id();
        let channel = gateway::dm_channel(&mut i, user);
        let m = payloads::message(id, channel, payloads::user(user, name, false), text, None);
        i.written.push((channel, m.clone()));
        (id, m)
    }

    /// The session expires: the connection drops and a RESUME is refused (op 9, `false`), so
    /// the client must IDENTIFY afresh, and nothing from the gap is replayed.
    pub fn expire_session(&self) {
        self.shared.lock().session = None;
        gateway::drop_connection(&self.shared);
    }

    /// From now on a session can be resumed only within `ttl` of its connection dropping;
    /// later, RESUME gets op 9 (`false`) and the client must identify afresh.
    pub fn expire_sessions_after(&self, ttl: Duration) {
        self.shared.lock().session_ttl = Some(ttl);
    }

    /// Sends MESSAGE_CREATE for a message id already delivered (a replay).
    pub fn replay_dm(&self, id: u64, user: u64, name: &str, text: &str) {
        let channel = gateway::dm_channel(&mut self.shared.lock(), user);
        let m = payloads::message(id, channel, payloads::user(user, name, false), text, None);
        self.dispatch("MESSAGE_CREATE", m);
    }

    /// `user` writes `text` in a server channel.
    pub fn server_message(&self, user: u64, name: &str, text: &str) -> u64 {
        let id = self.shared.lock().id();
        let m = payloads::message(id, 42, payloads::user(user, name, false), text, Some(4242));
        self.dispatch("MESSAGE_CREATE", m);
        id
    }

    /// `user` presses the button labelled `label` on `message`. Returns the interaction id.
    pub fn press(&self, user: u64, name: &str, message: &SentMessage, label: &str) -> u64 {
        let custom_id = message
            .buttons()
            .into_iter()
            .find(|(l, _)| l == label)
            .map(|(_, id)| id)
            .unwrap_or_else(|| panic!("no button {label:?} on {:?}", message.content));
        let id = {
            let mut inner = self.shared.lock();
            let id = inner.id();
            inner.pressed.insert(id, tokio::time::Instant::now());
            id
        };
        let shown = payloads::message(
            message.id,
            message.channel_id,
            payloads::user(payloads::BOT_ID, "Carebot", true),
            &message.content,
            None,
        );
        let d = payloads::button_press(
            id,
            &format!("token{id}"),
            payloads::user(user, name, false),
            message.channel_id,
            &custom_id,
            shown,
        );
        self.dispatch("INTERACTION_CREATE", d);
        id
    }

    /// Closes the gateway connection (code 4000, resumable), as Discord does at times.
    pub fn drop_connection(&self) {
        gateway::drop_connection(&self.shared);
    }
}

/// A read-only look at the fake's records, for [`FakeDiscord::wait_until`].
pub struct FakeView<'a>(&'a Inner);

impl FakeView<'_> {
    /// Heartbeats received.
    pub fn heartbeats(&self) -> usize {
        self.0.heartbeats
    }

    /// Messages created.
    pub fn messages(&self) -> &[SentMessage] {
        &self.0.messages
    }

    /// REST calls made.
    pub fn calls(&self) -> &[Call] {
        &self.0.calls
    }

    /// Interaction callbacks: (interaction id, body).
    pub fn callbacks(&self) -> &[(u64, Value)] {
        &self.0.callbacks
    }
}

#[cfg(test)]
mod tests;
