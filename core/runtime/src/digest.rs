//! Each keyworker's morning digest: for every resident they are keyworker for, yesterday's
//! check-in, their mood this week against last week, alerts still open, and a review that is
//! due within a week or overdue.

use super::Carebot;
use carebot_engine::access::{Action, Decision, Resource};
use carebot_engine::chart::{Chart, Series};
use carebot_engine::engine::render::render;
use carebot_engine::engine::OutMessage;
use carebot_store::audit::AuditEntry;
use carebot_store::digest::DigestRow;
use carebot_store::schedule::CheckinStatus;
use carebot_store::turn::NewOutbox;
use carebot_store::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

impl Carebot {
    /// Queues the digests for local `date`. Returns how many.
    pub(crate) async fn digests(&self, date: NaiveDate, now: DateTime<Utc>) -> Result<u64> {
        let yesterday = date
            .pred_opt()
            .unwrap_or(date)
            .format("%Y-%m-%d")
            .to_string();
        let mut queued = 0;
        for (keyworker, residents) in self.store.keyworkers().await? {
            let Some(to) = self.store.preferred_identity(keyworker.id).await? else {
                continue;
            };
            let mut lines = Vec::new();
            let mut series = Vec::new();
            let mut ids = Vec::new();
            for resident in &residents {
                // The access table: a relation row whose role no longer fits shows nothing.
                let access = self
                    .store
                    .access(
                        Some(keyworker.id),
                        Action::Read,
                        Resource::CheckinAnswers,
                        resident.id,
                    )
                    .await?;
                if access != Decision::Allow {
                    continue;
                }
                ids.push(resident.id.0);
                let row = self
                    .store
                    .digest_row(resident, &yesterday, now.timestamp_millis())
                    .await?;
                lines.push(self.digest_line(&row, date));
                let since = (now - chrono::Duration::days(28)).timestamp_millis();
                let moods = self.store.update_data(resident.id, since).await?.moods;
                if !moods.is_empty() {
                    let points = moods
                        .iter()
                        .map(|(t, v)| ((now.timestamp_millis() - t) / 86_400_000, *v))
                        .collect();
                    series.push(Series {
                        label: resident.name.clone(),
                        points,
                    });
                }
            }
            if lines.is_empty() {
                continue;
            }
            let chart = (!series.is_empty()).then(|| Chart {
                title: "Mood, last 4 weeks".into(),
                series,
            });
            let first = keyworker
                .name
                .split_whitespace()
                .next()
                .unwrap_or(&keyworker.name);
            let intro = render(
                self.dialogs
                    .system
                    .text("digest_intro", carebot_engine::flow::DEFAULT_LANGUAGE),
                json!({ "name": first })
                    .as_object()
                    .unwrap_or(&Default::default()),
            );
            let message = NewOutbox {
                key: format!("digest.{}.{date}", keyworker.id),
                person: Some(keyworker.id),
                platform: to.platform,
                address: to.address,
                message: OutMessage {
                    text: format!("{intro}\n{}", lines.join("\n")),
                    sensitive: true,
                    chart,
                    ..Default::default()
                },
                ..Default::default()
            };
            let audit = AuditEntry {
                actor: "carebot".into(),
                action: "digest.queued".into(),
                subject: None,
                detail: json!({ "to": keyworker.id, "residents": ids }),
            };
            if self
                .store
                .queue_disclosure(&message, &audit, now.timestamp_millis())
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }

    fn digest_line(&self, row: &DigestRow, today: NaiveDate) -> String {
        let checkin = match row.checkin {
            Some(CheckinStatus::Completed) => "checked in yesterday",
            Some(CheckinStatus::Missed) => "missed yesterday's check-in",
            Some(CheckinStatus::Skipped) => "skipped yesterday's check-in",
            Some(CheckinStatus::Started) => "started but did not finish yesterday's check-in",
            None => "no check-in yesterday",
        };
        let mood = match row.mood {
            (Some(now), Some(before)) if now - before >= 0.5 => {
                format!("mood {now:.1}/5, up from {before:.1}")
            }
            (Some(now), Some(before)) if before - now >= 0.5 => {
                format!("mood {now:.1}/5, down from {before:.1}")
            }
            (Some(now), _) => format!("mood {now:.1}/5"),
            (None, _) => "no mood this week".into(),
        };
        let review = row
            .review_due
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .and_then(|due| {
                let days = (due - today).num_days();
                match days {
                    d if d < 0 => Some(format!("review {} days overdue", -d)),
                    0 => Some("review due today".into()),
                    d if d <= 7 => Some(format!("review due in {d} days")),
                    _ => None,
                }
            });
        let vars = json!({
            "resident": row.resident.name, "checkin": checkin, "mood": mood,
            "alerts": row.open_alerts, "review": review.unwrap_or_default(),
            "goals": row.goal_changes.iter().map(|(goal, change)| json!({ "goal": goal, "change": change })).collect::<Vec<_>>(),
        });
        render(
            self.dialogs
                .system
                .text("digest_line", carebot_engine::flow::DEFAULT_LANGUAGE),
            vars.as_object().unwrap_or(&Default::default()),
        )
    }
}
