//! The other side of a Matrix test: a real matrix-sdk client (with end-to-end encryption)
//! acting as a resident, a family member or a keyworker.

use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoom;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, RoomMessageEventContent, SyncRoomMessageEvent,
};
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId};
use matrix_sdk::{Client, Room, RoomMemberships};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A message someone in the test saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The room.
    pub room: OwnedRoomId,
    /// Who sent it.
    pub sender: OwnedUserId,
    /// The body (for an image, its file name).
    pub body: String,
    /// "text", "notice", "image", ...
    pub kind: String,
    /// Whether it arrived encrypted.
    pub encrypted: bool,
    /// The HTML `formatted_body` of a text message, if it had one.
    pub html: Option<String>,
}

/// A logged-in person with a background sync collecting what they receive.
pub struct Person {
    /// Their client.
    pub client: Client,
    /// Their user id.
    pub user_id: OwnedUserId,
    seen: Arc<Mutex<Vec<Seen>>>,
    sync: tokio::task::JoinHandle<()>,
}

impl Person {
    /// Registers `localpart` on `homeserver` and logs in.
    pub async fn new(synapse: &super::Synapse, localpart: &str) -> Self {
        let password = format!("pw-{localpart}");
        synapse.register(localpart, &password, false).await;
        // Give up on a request quickly, so the sync loop below (not the SDK's own growing
        // backoff) decides when to try again: after a homeserver restart it reconnects at once.
        let client = Client::builder()
            .homeserver_url(&synapse.url)
            .request_config(
                matrix_sdk::config::RequestConfig::new()
                    .retry_limit(1)
                    .timeout(Duration::from_secs(20)),
            )
            .build()
            .await
            .expect("client");
        client
            .matrix_auth()
            .login_username(localpart, &password)
            .initial_device_display_name(localpart)
            .await
            .expect("login");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        client.add_event_handler(move |ev: OriginalSyncRoomMessageEvent, room: Room| {
            let sink = sink.clone();
            async move {
                let (kind, body, html) = describe(&ev.content.msgtype);
                let encrypted = room.is_encrypted().await.unwrap_or(false);
                if let Ok(mut s) = sink.lock() {
                    s.push(Seen {
                        room: room.room_id().to_owned(),
                        sender: ev.sender.clone(),
                        body,
                        kind: kind.into(),
                        encrypted,
                        html,
                    });
                }
            }
        });
        // A message's key can arrive a sync after the message itself; clients (Element too)
        // try again when it does. So an encrypted event is fetched again for a few seconds
        // before it is recorded as undecryptable.
        let late = seen.clone();
        client.add_event_handler(move |ev: OriginalSyncRoomEncryptedEvent, room: Room| {
            let late = late.clone();
            async move {
                let mut got = None;
                for _ in 0..40 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let Ok(event) = room.event(&ev.event_id, None).await else {
                        continue;
                    };
                    if let Ok(AnySyncTimelineEvent::MessageLike(
                        AnySyncMessageLikeEvent::RoomMessage(SyncRoomMessageEvent::Original(m)),
                    )) = event.raw().deserialize()
                    {
                        got = Some(m);
                        break;
                    }
                }
                let seen = match got {
                    Some(m) => {
                        let (kind, body, html) = describe(&m.content.msgtype);
                        Seen {
                            room: room.room_id().to_owned(),
                            sender: m.sender.clone(),
                            body,
                            kind: kind.into(),
                            encrypted: true,
                            html,
                        }
                    }
                    None => Seen {
                        room: room.room_id().to_owned(),
                        sender: ev.sender.clone(),
                        body: String::new(),
                        kind: "undecryptable".into(),
                        encrypted: true,
                        html: None,
                    },
                };
                if let Ok(mut s) = late.lock() {
                    s.push(seen);
                }
            }
        });
        client
            .sync_once(SyncSettings::default())
            .await
            .expect("first sync");
        let background = client.clone();
        let sync = tokio::spawn(async move {
            let settings = SyncSettings::default().timeout(Duration::from_secs(5));
            loop {
                if background.sync(settings.clone()).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        });
        let user_id = client.user_id().expect("logged in").to_owned();
        Self {
            client,
            user_id,
            seen,
            sync,
        }
    }

    /// Opens a direct chat with `bot` (encrypted or not) and waits until the bot has joined.
    pub async fn open_chat(&self, bot: &UserId, encrypted: bool) -> Room {
        let mut request = CreateRoom::new();
        request.invite = vec![bot.to_owned()];
        request.is_direct = true;
        if encrypted {
            request.initial_state = vec![InitialStateEvent::new(
                RoomEncryptionEventContent::with_recommended_defaults(),
            )
            .to_raw_any()];
        }
        let room = self.client.create_room(request).await.expect("room");
        self.wait_for_member(room.room_id(), bot).await;
        room
    }

    /// Waits until `user` has joined `room`.
    pub async fn wait_for_member(&self, room: &RoomId, user: &UserId) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(r) = self.client.get_room(room) {
                if let Ok(members) = r.members(RoomMemberships::JOIN).await {
                    if members.iter().any(|m| m.user_id() == user) {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{user} did not join {room}");
    }

    /// Who has joined or been invited to `room`, as this person's client knows it.
    pub async fn members_of(&self, room: &RoomId) -> Vec<OwnedUserId> {
        let Some(r) = self.client.get_room(room) else {
            return Vec::new();
        };
        r.members(RoomMemberships::JOIN | RoomMemberships::INVITE)
            .await
            .map(|m| m.iter().map(|m| m.user_id().to_owned()).collect())
            .unwrap_or_default()
    }

    /// Accepts every pending invite (a chat the bot opened), returning the rooms joined.
    pub async fn accept_invites(&self) -> Vec<OwnedRoomId> {
        let mut joined = Vec::new();
        for room in self.client.invited_rooms() {
            room.join().await.expect("join");
            joined.push(room.room_id().to_owned());
        }
        joined
    }

    /// Says `text` in `room`.
    pub async fn say(&self, room: &Room, text: &str) {
        room.send(RoomMessageEventContent::text_plain(text))
            .await
            .expect("send");
    }

    /// Everything received from `sender` so far.
    pub fn from(&self, sender: &UserId) -> Vec<Seen> {
        self.seen
            .lock()
            .map(|s| s.iter().filter(|m| m.sender == sender).cloned().collect())
            .unwrap_or_default()
    }

    /// Waits until `count` messages from `sender` have arrived in all; returns them all.
    pub async fn wait_for(&self, sender: &UserId, count: usize) -> Vec<Seen> {
        self.wait_for_within(sender, count, Duration::from_secs(30))
            .await
    }

    /// [`Self::wait_for`] with a chosen patience.
    pub async fn wait_for_within(
        &self,
        sender: &UserId,
        count: usize,
        patience: Duration,
    ) -> Vec<Seen> {
        let deadline = Instant::now() + patience;
        loop {
            let got = self.from(sender);
            if got.len() >= count || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Says `text` in `room`, then waits for the bot's next `replies` messages; returns their
    /// bodies.
    pub async fn ask(&self, room: &Room, bot: &UserId, text: &str, replies: usize) -> Vec<String> {
        self.ask_within(room, bot, text, replies, Duration::from_secs(30))
            .await
    }

    /// [`Self::ask`] with a chosen patience.
    pub async fn ask_within(
        &self,
        room: &Room,
        bot: &UserId,
        text: &str,
        replies: usize,
        patience: Duration,
    ) -> Vec<String> {
        let before = self.from(bot).len();
        self.say(room, text).await;
        let all = self.wait_for_within(bot, before + replies, patience).await;
        assert!(
            all.len() >= before + replies,
            "after {text:?} expected {replies} more message(s) from the bot; got {:?}",
            &all[before..]
        );
        all[before..].iter().map(|m| m.body.clone()).collect()
    }
}

/// The kind, body and HTML body of a message, for [`Seen`].
fn describe(msgtype: &MessageType) -> (&'static str, String, Option<String>) {
    match msgtype {
        MessageType::Text(t) => (
            "text",
            t.body.clone(),
            t.formatted.as_ref().map(|f| f.body.clone()),
        ),
        MessageType::Notice(t) => ("notice", t.body.clone(), None),
        // "image" only when the picture itself is encrypted media (an `EncryptedFile`, whose
        // key travels in the encrypted event); a plain `url` would leave it readable on the
        // homeserver even in an encrypted room.
        MessageType::Image(i) => match i.source {
            matrix_sdk::ruma::events::room::MediaSource::Encrypted(_) => {
                ("image", i.body.clone(), None)
            }
            matrix_sdk::ruma::events::room::MediaSource::Plain(_) => {
                ("unencrypted image", i.body.clone(), None)
            }
        },
        other => ("other", other.body().to_string(), None),
    }
}

impl Drop for Person {
    fn drop(&mut self) {
        self.sync.abort();
    }
}
