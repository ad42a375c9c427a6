//! The other side of a Matrix test: a real matrix-sdk client (with end-to-end encryption)
//! acting as a resident, a family member or a keyworker.
//!
//! Each behaves as today's Element does (MSC4153, "exclude insecure devices"): the person is
//! cross-signed, their client shares room keys only with devices their owner has
//! cross-signed ([`CollectStrategy::IdentityBasedStrategy`]), and it decrypts nothing from a
//! device that is not ([`TrustRequirement::CrossSigned`]).

use matrix_sdk::config::SyncSettings;
use matrix_sdk::deserialized_responses::{EncryptionInfo, VerificationLevel, VerificationState};
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoom;
use matrix_sdk::ruma::api::client::uiaa;
use matrix_sdk::ruma::events::room::encrypted::OriginalSyncRoomEncryptedEvent;
use matrix_sdk::ruma::events::room::encryption::RoomEncryptionEventContent;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, RoomMessageEventContent, SyncRoomMessageEvent,
};
use matrix_sdk::ruma::events::InitialStateEvent;
use matrix_sdk::ruma::events::{AnySyncMessageLikeEvent, AnySyncTimelineEvent};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomId, UserId};
use matrix_sdk::{Client, Room, RoomMemberships};
use matrix_sdk_base::crypto::{CollectStrategy, DecryptionSettings, TrustRequirement};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A message someone in the test saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The room.
    pub room: OwnedRoomId,
    /// Who sent it.
    pub sender: OwnedUserId,
    /// The body (for an image, its file name; for a message that could not be decrypted,
    /// why not).
    pub body: String,
    /// "text", "notice", "image", ...
    pub kind: String,
    /// Whether it arrived encrypted.
    pub encrypted: bool,
    /// The HTML `formatted_body` of a text message, if it had one.
    pub html: Option<String>,
    /// Whether it came from a device its owner has cross-signed (as Element requires), and
    /// which device.
    pub cross_signed: bool,
    /// The sending device, for an encrypted message.
    pub device: Option<String>,
}

/// Whether an encrypted message's sender device is cross-signed by its owner.
fn cross_signed(info: Option<&EncryptionInfo>) -> (bool, Option<String>) {
    let Some(info) = info else {
        return (false, None);
    };
    let signed = matches!(
        info.verification_state,
        VerificationState::Verified
            | VerificationState::Unverified(VerificationLevel::UnverifiedIdentity)
    );
    (signed, info.sender_device.as_ref().map(|d| d.to_string()))
}

/// A logged-in person with a background sync collecting what they receive.
pub struct Person {
    /// Their client.
    pub client: Client,
    /// Their user id.
    pub user_id: OwnedUserId,
    password: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    sync: tokio::task::JoinHandle<()>,
}

impl Person {
    /// Registers `localpart` on `homeserver`, logs in and sets up cross-signing, as Element
    /// does at first login.
    pub async fn new(synapse: &super::Synapse, localpart: &str) -> Self {
        Self::register(
            synapse,
            localpart,
            CollectStrategy::IdentityBasedStrategy,
            true,
        )
        .await
    }

    /// [`Self::new`] with Element's "only send messages to verified users" on: room keys go
    /// only to devices this person has verified, so the bot (cross-signed, but never verified
    /// by them) gets none.
    pub async fn new_verified_only(synapse: &super::Synapse, localpart: &str) -> Self {
        Self::register(
            synapse,
            localpart,
            CollectStrategy::OnlyTrustedDevices,
            true,
        )
        .await
    }

    /// Registers `localpart` and logs in without ever cross-signing: an old client, or a
    /// bot that never set up its identity.
    pub async fn new_without_cross_signing(synapse: &super::Synapse, localpart: &str) -> Self {
        Self::register(synapse, localpart, CollectStrategy::AllDevices, false).await
    }

    async fn register(
        synapse: &super::Synapse,
        localpart: &str,
        strategy: CollectStrategy,
        cross_sign: bool,
    ) -> Self {
        let password = format!("pw-{localpart}");
        synapse.register(localpart, &password, false).await;
        let person = Self::log_in(synapse, localpart, password, strategy).await;
        if cross_sign {
            person.set_up_cross_signing().await;
        }
        person
    }

    /// Creates a new cryptographic identity for this person, as "reset your identity" in
    /// Element does (a lost recovery key, or someone who took over the account).
    pub async fn reset_identity(&self) {
        let handle = self
            .client
            .encryption()
            .reset_cross_signing()
            .await
            .expect("reset starts");
        if let Some(handle) = handle {
            let matrix_sdk::encryption::CrossSigningResetAuthType::Uiaa(prompt) =
                handle.auth_type()
            else {
                panic!("Synapse asks for a password, not OAuth");
            };
            let auth = self.password_answer(prompt.session.clone());
            handle
                .auth(Some(uiaa::AuthData::Password(auth)))
                .await
                .expect("reset with the password");
        }
    }

    /// Turns on secret storage and key backup behind `passphrase`, as Element's "set up
    /// recovery" does.
    pub async fn enable_recovery(&self, passphrase: &str) {
        self.client
            .encryption()
            .recovery()
            .enable()
            .with_passphrase(passphrase)
            .await
            .expect("recovery is set up");
    }

    /// Logs this person in on another device, which proves it is theirs with `passphrase`
    /// (see [`Self::enable_recovery`]): a new device of the same identity, cross-signed.
    pub async fn another_device(&self, synapse: &super::Synapse, passphrase: &str) -> Self {
        let other = Self::log_in(
            synapse,
            self.user_id.localpart(),
            self.password.clone(),
            CollectStrategy::IdentityBasedStrategy,
        )
        .await;
        let encryption = other.client.encryption();
        encryption
            .recovery()
            .recover(passphrase)
            .await
            .expect("the new device recovers");
        encryption
            .request_user_identity(&other.user_id)
            .await
            .expect("keys query");
        let own = encryption
            .get_own_device()
            .await
            .expect("own device")
            .expect("keys");
        assert!(
            own.is_cross_signed_by_owner(),
            "the new device is cross-signed"
        );
        other
    }

    /// This person's password, as the answer to the homeserver's prompt `session`.
    fn password_answer(&self, session: Option<String>) -> uiaa::Password {
        let mut auth = uiaa::Password::new(
            uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(
                self.user_id.localpart().into(),
            )),
            self.password.clone(),
        );
        auth.session = session;
        auth
    }

    async fn set_up_cross_signing(&self) {
        let encryption = self.client.encryption();
        if let Err(e) = encryption.bootstrap_cross_signing_if_needed(None).await {
            let prompt = e.as_uiaa_response().expect("only a password prompt");
            let auth = self.password_answer(prompt.session.clone());
            encryption
                .bootstrap_cross_signing(Some(uiaa::AuthData::Password(auth)))
                .await
                .expect("cross-signing");
        }
        // What the homeserver now holds, signatures included.
        encryption
            .request_user_identity(&self.user_id)
            .await
            .expect("keys query");
        let own = encryption
            .get_own_device()
            .await
            .expect("own device")
            .expect("keys");
        assert!(
            own.is_cross_signed_by_owner(),
            "{} is cross-signed",
            self.user_id
        );
    }

    async fn log_in(
        synapse: &super::Synapse,
        localpart: &str,
        password: String,
        strategy: CollectStrategy,
    ) -> Self {
        // Give up on a request quickly, so the sync loop below (not the SDK's own growing
        // backoff) decides when to try again: after a homeserver restart it reconnects at once.
        let client = Client::builder()
            .homeserver_url(&synapse.url)
            .with_room_key_recipient_strategy(strategy)
            .with_decryption_settings(DecryptionSettings {
                sender_device_trust_requirement: TrustRequirement::CrossSigned,
            })
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
        client.add_event_handler(
            move |ev: OriginalSyncRoomMessageEvent, room: Room, info: Option<EncryptionInfo>| {
                let sink = sink.clone();
                async move {
                    let (kind, body, html) = describe(&ev.content.msgtype);
                    let (cross_signed, device) = cross_signed(info.as_ref());
                    if let Ok(mut s) = sink.lock() {
                        s.push(Seen {
                            room: room.room_id().to_owned(),
                            sender: ev.sender.clone(),
                            body,
                            kind: kind.into(),
                            encrypted: info.is_some(),
                            html,
                            cross_signed,
                            device,
                        });
                    }
                }
            },
        );
        // A message's key can arrive a sync after the message itself; clients (Element too)
        // try again when it does. So an encrypted event is fetched again for a few seconds
        // before it is recorded as undecryptable.
        let late = seen.clone();
        client.add_event_handler(move |ev: OriginalSyncRoomEncryptedEvent, room: Room| {
            let late = late.clone();
            let client = room.client();
            async move {
                // Element fetches the sender's keys again when it cannot place a message
                // (a device it has not seen cross-signed yet), then tries again.
                let _ = client.encryption().request_user_identity(&ev.sender).await;
                let mut got = None;
                let mut info = None;
                let mut why = None;
                for _ in 0..40 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let Ok(event) = room.event(&ev.event_id, None).await else {
                        continue;
                    };
                    if let matrix_sdk::deserialized_responses::TimelineEventKind::UnableToDecrypt {
                        utd_info,
                        ..
                    } = &event.kind
                    {
                        why = Some(format!("{:?}", utd_info.reason));
                    }
                    if let Ok(AnySyncTimelineEvent::MessageLike(
                        AnySyncMessageLikeEvent::RoomMessage(SyncRoomMessageEvent::Original(m)),
                    )) = event.raw().deserialize()
                    {
                        info = event.encryption_info().map(|i| (**i).clone());
                        got = Some(m);
                        break;
                    }
                }
                let seen = match got {
                    Some(m) => {
                        let (kind, body, html) = describe(&m.content.msgtype);
                        let (cross_signed, device) = cross_signed(info.as_ref());
                        Seen {
                            room: room.room_id().to_owned(),
                            sender: m.sender.clone(),
                            body,
                            kind: kind.into(),
                            encrypted: true,
                            html,
                            cross_signed,
                            device,
                        }
                    }
                    None => Seen {
                        room: room.room_id().to_owned(),
                        sender: ev.sender.clone(),
                        body: why.unwrap_or_default(),
                        kind: "undecryptable".into(),
                        encrypted: true,
                        html: None,
                        cross_signed: false,
                        device: None,
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
            password,
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
            request.initial_state = vec![InitialStateEvent::with_empty_state_key(
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
        let deadline = Instant::now() + super::PATIENCE;
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
        self.wait_for_within(sender, count, super::PATIENCE).await
    }

    /// Waits (up to [`super::PATIENCE`]) until a message from `sender` contains `part`; returns all from
    /// `sender` so far.
    pub async fn wait_for_text(&self, sender: &UserId, part: &str) -> Vec<Seen> {
        let deadline = Instant::now() + super::PATIENCE;
        loop {
            let got = self.from(sender);
            if got.iter().any(|m| m.body.contains(part)) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

    /// Shows that nothing more from `bot` is on its way, without sleeping: says `text` (a
    /// message whose answer changes nothing, such as "help") in `room` and waits (up to two
    /// minutes) for the answer, a message containing `answer`. The bot delivers to a person
    /// in order, each message only once the one before it is sent, so when the answer is
    /// here everything sent before it has arrived too. Returns everything from `bot` but
    /// the answer.
    pub async fn settle(&self, room: &Room, bot: &UserId, text: &str, answer: &str) -> Vec<Seen> {
        let before = self.from(bot).len();
        self.say(room, text).await;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut got = self.from(bot);
            if let Some(at) = got[before..].iter().position(|m| m.body.contains(answer)) {
                got.remove(before + at);
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "no answer to {text:?} (containing {answer:?}) arrived: {:?}",
                &got[before..]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Says `text` in `room`, then waits for the bot's next `replies` messages; returns their
    /// bodies.
    pub async fn ask(&self, room: &Room, bot: &UserId, text: &str, replies: usize) -> Vec<String> {
        self.ask_within(room, bot, text, replies, super::PATIENCE)
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
