//! A member of staff asks how a resident they look after has been ("how is Ava"): a short
//! summary of the last week, built before the turn for the residents the message names (the
//! engine says which, [`carebot_engine::engine::staff::named_residents`]) and sent only if
//! the engine's `summary` intent asks for it. The access table is asked first for each
//! resident; each summary sent is audited as a disclosure to that member of staff.

use super::Carebot;
use carebot_engine::access::{Action, Decision, Resource};
use carebot_engine::domain::{Profile, Relative};
use carebot_engine::engine::render::render;
use carebot_engine::engine::staff::named_residents;
use carebot_engine::engine::Input;
use carebot_store::audit::AuditEntry;
use carebot_store::schedule::CheckinStatus;
use carebot_store::Result;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// The days a summary looks back over.
const DAYS: i64 = 7;

/// A summary built for a member of staff, ready to send if asked for.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// Whom it is about.
    pub resident: Relative,
    /// What it says.
    pub text: String,
}

impl Carebot {
    /// For a keyworker or manager sending a message: the summaries of the residents it names
    /// whom the access table lets them read. Nothing for anyone else or any other input.
    pub(crate) async fn staff_summaries_for(
        &self,
        profile: &Profile,
        input: &Input,
        now: DateTime<Utc>,
    ) -> Result<Vec<Prepared>> {
        let Input::Message(text) = input else {
            return Ok(Vec::new());
        };
        if profile.caring_for.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for id in named_residents(profile, text) {
            let Some(resident) = profile.caring_for.iter().find(|r| r.id == id) else {
                continue;
            };
            let access = self
                .store
                .access(Some(profile.id), Action::Read, Resource::CheckinAnswers, id)
                .await?;
            if access != Decision::Allow {
                continue;
            }
            out.push(self.summary(resident, now).await?);
        }
        Ok(out)
    }

    /// The last week of `resident`'s check-ins, in the words of the `staff_summary` text.
    async fn summary(&self, resident: &Relative, now: DateTime<Utc>) -> Result<Prepared> {
        let today = carebot_engine::scheduler::local_date(now, self.settings.timezone);
        let from = (today - Duration::days(DAYS - 1))
            .format("%Y-%m-%d")
            .to_string();
        // Check-ins done: every check-in answered, whoever started it; missed and skipped:
        // the scheduled ones of the last `DAYS` local days.
        let since = (now - Duration::days(DAYS)).timestamp_millis();
        let done = self
            .store
            .checkins_answered_since(resident.id, since)
            .await?;
        let last = done
            .last()
            .and_then(|ms| DateTime::from_timestamp_millis(*ms))
            .map(|at| {
                carebot_engine::scheduler::local_date(at, self.settings.timezone)
                    .format("%Y-%m-%d")
                    .to_string()
            });
        let missed = self
            .store
            .checkin_history(resident.id)
            .await?
            .into_iter()
            .filter(|(date, status)| {
                *date >= from && matches!(status, CheckinStatus::Missed | CheckinStatus::Skipped)
            })
            .count();
        // Mood this week and last, and open alerts, as the digest reads them (no day's
        // check-in: the week's are counted above).
        let row = self
            .store
            .digest_row(resident, "", now.timestamp_millis())
            .await?;
        let data = self.store.update_data(resident.id, since).await?;
        // The latest words about each goal.
        let mut goals: Vec<(&String, &String)> = Vec::new();
        for (goal, answer) in &data.goals {
            goals.retain(|(g, _)| *g != goal);
            goals.push((goal, answer));
        }
        let one = |m: Option<f64>| m.map(|v| format!("{v:.1}").trim_end_matches(".0").to_string());
        let vars = json!({
            "resident": resident.name,
            "days": DAYS,
            "completed": done.len(),
            "missed": missed,
            "last": last,
            "mood": one(row.mood.0),
            "before": one(row.mood.1),
            "goals": goals.iter().map(|(g, a)| json!({ "goal": g, "answer": a })).collect::<Vec<_>>(),
            "alerts": row.open_alerts,
        });
        let text = render(
            self.dialogs
                .system
                .text("staff_summary", carebot_engine::flow::DEFAULT_LANGUAGE),
            vars.as_object().unwrap_or(&Default::default()),
        );
        Ok(Prepared {
            resident: resident.clone(),
            text,
        })
    }
}

/// The audit row for showing `p` to member of staff `to`.
pub(crate) fn disclosure(to: carebot_engine::ids::PersonId, p: &Prepared) -> AuditEntry {
    AuditEntry {
        actor: "carebot".into(),
        action: "summary.queued".into(),
        subject: Some(p.resident.id),
        detail: json!({ "to": to, "days": DAYS }),
    }
}
