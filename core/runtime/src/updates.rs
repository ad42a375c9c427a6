//! Family updates: at the home's update time (daily, or weekly on Sundays, as each family
//! member chose), and whenever a family member asks. Always built at that moment from the
//! consents in force then; every disclosure is audited; nothing shared means nothing sent.

use super::Carebot;
use carebot_engine::access::{Action, Decision, Resource};
use carebot_engine::domain::Relative;
use carebot_engine::engine::OutMessage;
use carebot_engine::ids::PersonId;
use carebot_engine::scheduler::occurrences;
use carebot_engine::updates::{build, Period, Update};
use carebot_store::audit::AuditEntry;
use carebot_store::turn::NewOutbox;
use carebot_store::Result;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use serde_json::json;

const MARK: &str = "family_updates";

/// An update built for a family member, ready to queue.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// Whom it is about.
    pub resident: Relative,
    /// What it says and discloses.
    pub update: Update,
}

impl Carebot {
    /// The update about `resident` for `family` covering the time since `since`, if the
    /// resident shares anything with them that has something to say.
    pub(crate) async fn prepare_update(
        &self,
        resident: &Relative,
        family: PersonId,
        since: DateTime<Utc>,
        chart: bool,
    ) -> Result<Option<Prepared>> {
        // The access table first: only someone who is this resident's family now, by an
        // active relation and by role, hears anything, and then only what is consented.
        let access = self
            .store
            .access(
                Some(family),
                Action::Read,
                Resource::CheckinAnswers,
                resident.id,
            )
            .await?;
        if access != Decision::IfConsented {
            return Ok(None);
        }
        let shared = self.store.shared_categories(resident.id, family).await?;
        if shared.is_empty() {
            return Ok(None);
        }
        let now = self.clock.now();
        // A chart looks back four weeks; the words cover `since` onwards.
        let from = if chart {
            now - Duration::days(28)
        } else {
            since
        };
        let data = self
            .store
            .update_data(resident.id, from.timestamp_millis())
            .await?;
        let period = Period {
            since_ms: since.timestamp_millis(),
            now_ms: now.timestamp_millis(),
            chart,
        };
        let lang = carebot_engine::flow::DEFAULT_LANGUAGE;
        let update = build(
            &self.dialogs.system,
            lang,
            &resident.name,
            &shared,
            &data,
            period,
        );
        Ok(update.map(|update| Prepared {
            resident: resident.clone(),
            update,
        }))
    }

    /// Queues the scheduled family updates due since the last tick. Returns how many.
    pub(crate) async fn queue_family_updates(&self, now: DateTime<Utc>) -> Result<usize> {
        let last = self
            .store
            .scheduler_mark(MARK)
            .await?
            .and_then(DateTime::from_timestamp_millis);
        let floor = now - self.schedule.catch_up;
        let after = last.map_or(floor, |l| l.max(floor));
        let time = NaiveTime::parse_from_str(&self.schedule.update_time, "%H:%M")
            .unwrap_or(NaiveTime::MIN);
        let mut queued = 0;
        for (date, _) in occurrences(time, self.settings.timezone, after, now) {
            for link in self.store.family_links().await? {
                let weekly = link.cadence == "weekly";
                if weekly && date.weekday() != Weekday::Sun {
                    continue;
                }
                let Some(to) = self.store.preferred_identity(link.family).await? else {
                    continue;
                };
                let since = now
                    - if weekly {
                        Duration::days(7)
                    } else {
                        Duration::days(1)
                    };
                let Some(p) = self
                    .prepare_update(&link.resident, link.family, since, weekly)
                    .await?
                else {
                    continue;
                };
                let message = NewOutbox {
                    key: format!("update.{}.{}.{date}", link.resident.id, link.family),
                    person: Some(link.family),
                    platform: to.platform,
                    address: to.address,
                    message: OutMessage {
                        text: p.update.text.clone(),
                        chart: p.update.chart.clone(),
                        sensitive: true,
                        ..Default::default()
                    },
                    about: Some(link.resident.id),
                    categories: p.update.categories.clone(),
                };
                if self
                    .store
                    .queue_disclosure(
                        &message,
                        &disclosure(link.family, &p),
                        now.timestamp_millis(),
                    )
                    .await?
                {
                    queued += 1;
                }
            }
        }
        let mark = last.map_or(now, |l| l.max(now));
        self.store
            .set_scheduler_mark(MARK, mark.timestamp_millis())
            .await?;
        Ok(queued)
    }
}

/// The audit row for disclosing `p` to `family`.
pub(crate) fn disclosure(family: PersonId, p: &Prepared) -> AuditEntry {
    AuditEntry {
        actor: "carebot".into(),
        action: "update.queued".into(),
        subject: Some(p.resident.id),
        detail: json!({ "to": family, "categories": p.update.categories }),
    }
}
