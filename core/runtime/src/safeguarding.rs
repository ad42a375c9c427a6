//! The safeguarding ladder after an alert is raised (the keyworker is told in the turn that
//! raised it):
//!
//! 1. not acknowledged within `ack_within`, or no keyworker message can arrive (nobody has an
//!    account, or every message was dead-lettered): the resident's managers and the on-call
//!    member of staff are told;
//! 2. and if no message about it can arrive to anyone: the resident is told, once, that
//!    nobody could be reached by message, and given a phone number (and 999).
//!
//! A resident's request has one more rung: still not closed when the home's procedure says it
//! should have been answered (`[requests] reply_days`), it is brought back to the staff it
//! went to and the resident's managers, once.
//!
//! [`Carebot::safeguard`] climbs the ladder. It runs on every tick, straight after a turn that
//! raised an alert, and whenever a delivery round dead-letters something, so a channel that is
//! down does not leave a resident waiting for the next tick to be told.

use super::Carebot;
use carebot_engine::engine::render::render;
use carebot_engine::engine::OutMessage;
use carebot_engine::flow::DEFAULT_LANGUAGE;
use carebot_store::turn::NewOutbox;
use carebot_store::Result;
use chrono::{DateTime, Utc};
use serde_json::json;

impl Carebot {
    /// Climbs the ladder for every open alert. Returns how many alerts were passed on.
    pub async fn safeguard(&self, now: DateTime<Utc>) -> Result<usize> {
        let escalated = self.escalate_alerts(now).await?;
        self.hand_back_undeliverable(now).await?;
        self.remind_overdue_requests(now).await?;
        Ok(escalated)
    }

    /// Brings each resident's request still open when the home's procedure says it should
    /// have been answered (`[requests] reply_days`) back to the staff it went to and the
    /// resident's managers, once.
    async fn remind_overdue_requests(&self, now: DateTime<Utc>) -> Result<()> {
        for request in self.store.open_requests().await? {
            let days = self.settings.reply_days.for_kind(&request.kind);
            let due_ms = request.created_ms + i64::from(days) * 86_400_000;
            if due_ms > now.timestamp_millis() {
                continue;
            }
            let vars = json!({
                "resident": request.resident_name, "reason": request.reason,
                "alert": request.id.0, "days": days,
            });
            let vars = vars.as_object().cloned().unwrap_or_default();
            let text = render(
                self.dialogs
                    .system
                    .text("request_overdue", DEFAULT_LANGUAGE),
                &vars,
            );
            let message = OutMessage {
                text,
                sensitive: true,
                ..Default::default()
            };
            self.store
                .remind_overdue_request(&request, &message, now.timestamp_millis())
                .await?;
        }
        Ok(())
    }

    /// Passes alerts to managers and the on-call contact: after `ack_within`, or at once when
    /// no keyworker can receive them.
    async fn escalate_alerts(&self, now: DateTime<Utc>) -> Result<usize> {
        let cutoff = (now - self.schedule.ack_within).timestamp_millis();
        let mut escalated = 0;
        for alert in self.store.alerts_to_escalate(cutoff).await? {
            let waited = elapsed((now.timestamp_millis() - alert.created_ms) / 60_000);
            let vars = json!({
                "resident": alert.resident_name, "reason": alert.reason,
                "words": alert.words.clone().unwrap_or_default(), "waited": waited,
            });
            let vars = vars.as_object().cloned().unwrap_or_default();
            let key = if alert.created_ms <= cutoff {
                "staff_escalation"
            } else {
                "staff_unreachable"
            };
            let text = render(self.dialogs.system.text(key, DEFAULT_LANGUAGE), &vars);
            let message = OutMessage {
                text,
                sensitive: true,
                ..Default::default()
            };
            let on_call = self.schedule.on_call.as_deref();
            self.store
                .escalate_alert(&alert, &message, on_call, now.timestamp_millis())
                .await?;
            escalated += 1;
        }
        Ok(escalated)
    }

    /// Tells each resident whose alert can reach nobody, once, with a number to ring.
    async fn hand_back_undeliverable(&self, now: DateTime<Utc>) -> Result<()> {
        let since = (now - chrono::Duration::days(1)).timestamp_millis();
        for (alert, resident) in self.store.alerts_nobody_can_receive(since).await? {
            let profile = self.store.profile(resident).await?;
            let phone = self
                .schedule
                .phone
                .clone()
                .unwrap_or_else(|| profile.home_phone.clone());
            let vars = json!({ "phone": phone });
            let vars = vars.as_object().cloned().unwrap_or_default();
            let text = render(
                self.dialogs
                    .system
                    .text("alert_undeliverable", &profile.language),
                &vars,
            );
            let message = self
                .store
                .preferred_identity(resident)
                .await?
                .map(|who| NewOutbox {
                    key: format!("told.{alert}"),
                    person: Some(resident),
                    platform: who.platform,
                    address: who.address,
                    message: OutMessage {
                        text,
                        ..Default::default()
                    },
                    ..Default::default()
                });
            self.store
                .tell_resident_nobody_was_reached(alert, message.as_ref(), now.timestamp_millis())
                .await?;
        }
        Ok(())
    }
}

/// "35 minutes", "3 hours": how long an alert has waited, in words.
fn elapsed(minutes: i64) -> String {
    match minutes {
        1 => "1 minute".into(),
        m if m < 120 => format!("{m} minutes"),
        m => format!("{} hours", m / 60),
    }
}
