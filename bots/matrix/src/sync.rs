//! The sync loop.
//!
//! matrix-sdk records a sync token as soon as a response arrives. If Carebot relied on that,
//! a crash between receiving a resident's answer and storing it would skip the answer for
//! good. So the loop keeps its own token (`carebot-sync-token` beside the stores), written only
//! after every event in a batch has been handled. After a crash the batch comes again, and the
//! inbound-event table makes anything already handled a no-op. (matrix-sdk would drop that
//! replay as a repeat of the batch it last stored; `login` makes it forget its own token.)

use super::{events, MatrixChannel};
use anyhow::{Context, Result};
use carebot::serve::Service;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::api::client::filter::{FilterDefinition, RoomEventFilter, RoomFilter};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::events::AnyStrippedStateEvent;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId, UInt};
use matrix_sdk::Client;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Carebot's own sync token, beside matrix-sdk's stores.
pub(super) const TOKEN_FILE: &str = "carebot-sync-token";

/// Syncs until `shutdown`; each batch is handled completely before the next is fetched.
pub async fn run(
    client: &Client,
    service: &Arc<Service<MatrixChannel>>,
    store_dir: &Path,
    grace: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let token_path = store_dir.join(TOKEN_FILE);
    let mut since = std::fs::read_to_string(&token_path)
        .ok()
        .map(|t| t.trim().to_string());
    let first_start = since.is_none();
    if !first_start {
        events::leave_unlinked_rooms_later(client, service, grace).await;
    }
    let mut failures = 0u32;
    let mut waiting: Vec<Waiting> = Vec::new();
    loop {
        let mut settings = SyncSettings::default()
            .timeout(Duration::from_secs(10))
            .filter(filter());
        if let Some(t) = &since {
            settings = settings.token(t.clone());
        }
        let response = tokio::select! {
            r = client.sync_once(settings) => r,
            _ = shutdown.changed() => {
                if *shutdown.borrow() { return Ok(()); }
                continue;
            }
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                failures += 1;
                let wait = Duration::from_millis(500 * 2u64.pow(failures.min(5)));
                tracing::warn!(error = %e, ?wait, "sync failed; trying again");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        failures = 0;
        let me = client.user_id().map(|u| u.to_owned());
        for (room_id, invited) in &response.rooms.invited {
            let inviter = inviter(&invited.invite_state.events, me.as_deref());
            events::on_invite(client, service, room_id, inviter, grace).await;
        }
        // Keys that came with this batch may open messages from earlier ones.
        retry_waiting(client, service, &mut waiting).await;
        // On the very first start, what is already in the rooms is history: skip it.
        if !(first_start && since.is_none()) {
            for (room_id, joined) in &response.rooms.joined {
                let Some(room) = client.get_room(room_id) else {
                    continue;
                };
                let events = after_own_join(&joined.timeline.events, me.as_deref());
                tracing::debug!(
                    room = %room_id,
                    events = joined.timeline.events.len(),
                    after_join = events.len(),
                    "a sync batch for a room"
                );
                for ev in events {
                    if events::on_event(client, service, &room, ev, false).await
                        == events::Outcome::WaitingForKey
                    {
                        if let Some(event) = ev.event_id() {
                            waiting.push(Waiting {
                                room: room_id.clone(),
                                event,
                                since: since.clone(),
                                first_seen: Instant::now(),
                            });
                        }
                    }
                }
            }
        }
        // While a message waits for its key, the token stays at the batch before it: after
        // a crash that message comes again (what was handled meanwhile is skipped as a replay).
        match waiting.first() {
            None => save_token(&token_path, &response.next_batch)?,
            Some(Waiting { since: Some(t), .. }) => save_token(&token_path, t)?,
            Some(Waiting { since: None, .. }) => {}
        }
        since = Some(response.next_batch);
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

/// How long a message waits for its room key before its sender is told it could not be read.
const KEY_PATIENCE: Duration = Duration::from_secs(20);

/// A message that arrived before its room key.
struct Waiting {
    room: OwnedRoomId,
    event: OwnedEventId,
    /// The token of the batch it came in.
    since: Option<String>,
    first_seen: Instant,
}

/// Tries the waiting messages again (their keys may have come with the latest batch); the
/// ones still locked after [`KEY_PATIENCE`] are handled as unreadable.
async fn retry_waiting(
    client: &Client,
    service: &Arc<Service<MatrixChannel>>,
    waiting: &mut Vec<Waiting>,
) {
    let mut still = Vec::new();
    for w in waiting.drain(..) {
        let Some(room) = client.get_room(&w.room) else {
            continue;
        };
        let last_try = w.first_seen.elapsed() > KEY_PATIENCE;
        match room.event(&w.event, None).await {
            Ok(event) => {
                if events::on_event(client, service, &room, &event, last_try).await
                    == events::Outcome::WaitingForKey
                {
                    still.push(w);
                }
            }
            Err(e) if last_try => {
                tracing::warn!(error = %e, "a message waiting for its key could not be fetched again; given up")
            }
            Err(_) => still.push(w),
        }
    }
    *waiting = still;
}

/// Who sent the invite (the sender of the bot's own invite membership event).
fn inviter(
    state: &[matrix_sdk::ruma::serde::Raw<AnyStrippedStateEvent>],
    me: Option<&matrix_sdk::ruma::UserId>,
) -> Option<OwnedUserId> {
    state.iter().find_map(|raw| match raw.deserialize() {
        Ok(AnyStrippedStateEvent::RoomMember(m)) if Some(m.state_key.as_ref()) == me => {
            Some(m.sender)
        }
        _ => None,
    })
}

/// The events after the bot's own join, when the join is in this batch: what came before
/// was said before the bot was there, and is not its business.
fn after_own_join<'a>(
    events: &'a [matrix_sdk::deserialized_responses::TimelineEvent],
    me: Option<&matrix_sdk::ruma::UserId>,
) -> &'a [matrix_sdk::deserialized_responses::TimelineEvent] {
    let join = events.iter().rposition(|ev| {
        let raw = ev.raw();
        raw.get_field::<String>("type").ok().flatten().as_deref() == Some("m.room.member")
            && raw
                .get_field::<String>("state_key")
                .ok()
                .flatten()
                .as_deref()
                == me.map(|u| u.as_str())
            && raw
                .get_field::<serde_json::Value>("content")
                .ok()
                .flatten()
                .and_then(|c| {
                    c.get("membership")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .as_deref()
                == Some("join")
    });
    match join {
        Some(i) => &events[i + 1..],
        None => events,
    }
}

/// A generous timeline per room, so a bot that was down for a while still sees every message.
fn filter() -> Filter {
    let mut timeline = RoomEventFilter::default();
    timeline.limit = Some(UInt::from(200u32));
    let mut room = RoomFilter::default();
    room.timeline = timeline;
    let mut def = FilterDefinition::default();
    def.room = room;
    Filter::FilterDefinition(def)
}

/// Writes the token so a crash leaves either the old one or the new one.
fn save_token(path: &Path, token: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, token).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
