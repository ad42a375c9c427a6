//! Care plans: staff write a resident's plan in plain sections (`carebot plan-set`), each
//! time a new version; the resident reads it by chat and says whether they agree. Agreement
//! is recorded like consent (the exact wording shown, the version, the time, the channel) and
//! audited; nothing is ever overwritten.

use super::audit::{self, AuditEntry};
use super::conn::{Conn, Sql};
use super::sql::{outbox_insert, reachable_accounts};
use super::turn::payload;
use super::{Result, Store};
use carebot_engine::domain::PlanSection;
use carebot_engine::engine::OutMessage;
use carebot_engine::ids::PersonId;
use serde_json::json;

/// A resident's answer about one version of their plan, written in the turn's transaction.
#[derive(Clone, Debug)]
pub struct NewPlanAnswer {
    /// The plan row (one version) it is about.
    pub plan: i64,
    /// Its version.
    pub version: i64,
    /// Agreed, or not.
    pub agreed: bool,
    /// The plan exactly as it was shown to them.
    pub wording: String,
    /// What they disagree with, in their words.
    pub words: Option<String>,
    /// The platform they answered on.
    pub channel: String,
}

impl Store {
    /// Writes a new version of `person`'s care plan and tells them (every reachable account
    /// of theirs gets `notice(version)`, through the outbox). Audited as
    /// `plan.written` (the version and how many sections; never the words). Returns the
    /// version.
    pub async fn set_plan(
        &self,
        person: PersonId,
        sections: &[PlanSection],
        written_by: &str,
        notice: impl FnOnce(i64) -> OutMessage,
        now_ms: i64,
    ) -> Result<i64> {
        let text = serde_json::to_string(sections)
            .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let (version,): (i64,) = c
            .fetch_one(
                Sql::new(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM care_plans WHERE person_id = $1",
                )
                .bind(person.0),
            )
            .await?;
        let (id,): (i64,) = c
            .fetch_one(
                Sql::new("INSERT INTO care_plans (person_id, version, sections, written_by, created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(person.0)
                    .bind(version)
                    .bind(text)
                    .bind(written_by)
                    .bind(now_ms),
            )
            .await?;
        let notice = notice(version);
        c.execute(
            Sql::new(concat!(
                outbox_insert!(),
                "SELECT 'plan.' || $1 || '.' || i.platform || '.' || i.address, i.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                reachable_accounts!(person = "$5"),
                "ON CONFLICT (idem_key) DO NOTHING"
            ))
            .bind(id.to_string())
            .bind(payload(&notice)?)
            .bind(notice.sensitive)
            .bind(now_ms)
            .bind(person.0),
        )
        .await?;
        let entry = AuditEntry {
            actor: written_by.to_string(),
            action: "plan.written".into(),
            subject: Some(person),
            detail: json!({ "version": version, "sections": sections.len() }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        tx.commit().await?;
        Ok(version)
    }
}

/// Records `person`'s answer about their plan, only for a plan of theirs, and audits it
/// (`plan.agreed` or `plan.not_agreed`: the version and the channel; never the words).
pub(crate) async fn write_plan_answer(
    c: &mut Conn<'_>,
    person: PersonId,
    answer: &NewPlanAnswer,
    now_ms: i64,
) -> Result<()> {
    let written = c
        .execute(
            Sql::new(
                "INSERT INTO plan_agreements (plan_id, person_id, version, agreed, wording, words, channel, decided_ms)
                 SELECT id, person_id, version, $3, $4, $5, $6, $7 FROM care_plans WHERE id = $1 AND person_id = $2 AND version = $8",
            )
            .bind(answer.plan)
            .bind(person.0)
            .bind(answer.agreed)
            .bind(answer.wording.as_str())
            .bind(answer.words.clone())
            .bind(answer.channel.as_str())
            .bind(now_ms)
            .bind(answer.version),
        )
        .await?;
    if written == 0 {
        return Ok(());
    }
    let entry = AuditEntry {
        actor: format!("person:{person}"),
        action: if answer.agreed {
            "plan.agreed"
        } else {
            "plan.not_agreed"
        }
        .into(),
        subject: Some(person),
        detail: json!({ "version": answer.version, "channel": answer.channel }),
    };
    audit::append(c, &entry, now_ms).await
}
