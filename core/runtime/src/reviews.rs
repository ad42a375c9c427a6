//! Care-plan review reminders, each morning at the staff time: to the keyworker 7 days and 1
//! day before, on the day, and every day while overdue; to the manager too once a review is
//! `manager_after_days` overdue. Seven days before, the resident is asked what they want to
//! raise, and their words go with every reminder after that.

use super::Carebot;
use carebot_engine::engine::{Input, OutMessage};
use carebot_store::turn::InboundKey;
use carebot_store::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// The resident's flow asking what they want to raise at their review.
const REVIEW_PREP: &str = "review_prep";

impl Carebot {
    /// Sends the review reminders due on local `date`. Returns how many messages were queued.
    pub(crate) async fn review_reminders(
        &self,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut queued = 0;
        for review in self.store.reviews().await? {
            let Ok(due) = NaiveDate::parse_from_str(&review.next_due, "%Y-%m-%d") else {
                continue;
            };
            let days = (due - date).num_days();
            let when = match days {
                7 => "is due in 7 days".to_string(),
                1 => "is due tomorrow".to_string(),
                0 => "is due today".to_string(),
                d if d < 0 => format!("is {} day{} overdue", -d, if d == -1 { "" } else { "s" }),
                _ => continue,
            };
            if days == 7 {
                self.ask_resident_about_review(review.resident, &review.next_due, now)
                    .await?;
            }
            let since = (due - chrono::Duration::days(8))
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis())
                .unwrap_or(0);
            let topics = self
                .store
                .review_topics(review.resident, since)
                .await?
                .unwrap_or_default();
            let vars = json!({ "resident": review.name, "due": review.next_due, "when": when, "topics": topics });
            let text = carebot_engine::engine::render::render(
                self.dialogs
                    .system
                    .text("review_reminder", carebot_engine::flow::DEFAULT_LANGUAGE),
                vars.as_object().unwrap_or(&Default::default()),
            );
            let message = OutMessage {
                text,
                sensitive: true,
                ..Default::default()
            };
            let key = format!("review.{}.{}.{date}", review.resident, review.next_due);
            queued += self
                .store
                .queue_to_staff(
                    review.resident,
                    "keyworker",
                    &format!("{key}.k"),
                    &message,
                    now.timestamp_millis(),
                )
                .await?;
            if -days >= i64::from(self.schedule.manager_after_days) {
                queued += self
                    .store
                    .queue_to_staff(
                        review.resident,
                        "manager",
                        &format!("{key}.m"),
                        &message,
                        now.timestamp_millis(),
                    )
                    .await?;
            }
        }
        Ok(queued)
    }

    /// Starts the resident's "anything to raise?" flow, once per review.
    async fn ask_resident_about_review(
        &self,
        resident: carebot_engine::ids::PersonId,
        due: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let Some(who) = self.store.preferred_identity(resident).await? else {
            return Ok(());
        };
        let key = InboundKey {
            platform: "scheduler".into(),
            event_id: format!("review_prep.{resident}.{due}"),
        };
        self.turn(
            resident,
            &who,
            Some(&key),
            Input::Start {
                flow: REVIEW_PREP.into(),
            },
            now,
            None,
        )
        .await?;
        Ok(())
    }
}
