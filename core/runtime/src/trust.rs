//! What an adapter learns about an account's security, turned into care.
//!
//! - **A changed identity.** Matrix accounts have a cryptographic identity (a master key).
//!   The first one seen after an account is linked is recorded. If a different one appears
//!   (the person reset their encryption, or someone else has the account), health text is
//!   held back from it and the person's keyworker is told once, until staff confirm with a
//!   fresh link code, which records the new identity. A new device of the same identity
//!   changes nothing.
//! - **A message that could not be read.** Its sender gets a short plain notice saying so and
//!   what to try (rate-limited like any reply), and `carebot status` counts it.

use super::limiter::Verdict;
use super::Carebot;
use carebot_engine::engine::{Input, OutMessage};
use carebot_store::people::Identity;
use carebot_store::turn::{InboundKey, NewOutbox};
use carebot_store::Result;

/// Whether health text may go to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTrust {
    /// Its identity is the one it was linked with (or it has none on record yet).
    Trusted,
    /// Its identity changed since it was linked: hold health text back.
    Changed,
}

impl Carebot {
    /// Checks the cryptographic identity `fingerprint` an adapter sees for `who` against the
    /// one on record (see the module docs). `None`: the account has no identity now.
    pub async fn check_identity_key(
        &self,
        who: &Identity,
        fingerprint: Option<&str>,
    ) -> Result<KeyTrust> {
        let Some(record) = self.store.identity_key(who).await? else {
            // Not linked: such an account is told nothing about anyone anyway.
            return Ok(KeyTrust::Trusted);
        };
        if record.changed_ms.is_some() {
            return Ok(KeyTrust::Changed);
        }
        match (record.fingerprint.as_deref(), fingerprint) {
            (_, None) if record.fingerprint.is_none() => Ok(KeyTrust::Trusted),
            (None, Some(seen)) => {
                self.store.pin_identity_key(who, seen).await?;
                Ok(KeyTrust::Trusted)
            }
            (Some(known), Some(seen)) if known == seen => Ok(KeyTrust::Trusted),
            (_, seen) => {
                // One alert per new identity: the turn is de-duplicated by this key, so a
                // crash between the alert and the mark below repeats neither.
                let key = InboundKey {
                    platform: who.platform.clone(),
                    event_id: format!(
                        "identity-changed.{}.{}",
                        record.person.0,
                        seen.unwrap_or("none")
                    ),
                };
                let input = Input::AccountChanged {
                    platform: who.platform.clone(),
                };
                let now = self.clock.now();
                self.turn(record.person, who, Some(&key), input, now, None)
                    .await?;
                self.store
                    .mark_identity_key_changed(who, now.timestamp_millis())
                    .await?;
                tracing::warn!(platform = %who.platform, "a linked account's identity changed: health text held back and staff told");
                Ok(KeyTrust::Changed)
            }
        }
    }

    /// A message `event_id` from `sender` could not be read (`reason`: a code such as
    /// `m.unverified`). Records it once and tells the sender; true if it was new.
    pub async fn unreadable(
        &self,
        platform: &str,
        sender: &str,
        event_id: &str,
        reason: &str,
    ) -> Result<bool> {
        let who = Identity {
            platform: platform.into(),
            address: sender.into(),
        };
        let key = InboundKey {
            platform: platform.into(),
            event_id: event_id.into(),
        };
        let now_ms = self.clock.now().timestamp_millis();
        let tell = self.limiter.check(platform, sender, now_ms) == Verdict::Allow;
        let notice = if tell {
            Some(NewOutbox {
                key: format!("unreadable.{event_id}"),
                person: self.store.person_for(&who).await?,
                platform: platform.into(),
                address: sender.into(),
                message: OutMessage {
                    text: self
                        .dialogs
                        .system
                        .text("unreadable", carebot_engine::flow::DEFAULT_LANGUAGE)
                        .to_string(),
                    ..Default::default()
                },
                ..Default::default()
            })
        } else {
            None
        };
        self.store
            .note_unreadable(&key, reason, notice.as_ref(), now_ms)
            .await
    }
}
