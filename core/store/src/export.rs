//! Everything held about one person, for a subject access request (`carebot export`).

use super::audit::AuditEntry;
use super::{with_read, Result, Store, StoreError};
use carebot_engine::ids::PersonId;
use serde_json::{json, Value};
use sqlx::Row;

impl Store {
    /// Everything held about `handle`, as JSON, and an audit row saying it was exported by
    /// `actor`.
    pub async fn export_person(&self, handle: &str, actor: &str, now_ms: i64) -> Result<Value> {
        let person = self
            .person_by_handle(handle)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("there is nobody called '{handle}'")))?;
        let id = person.id;
        let rows = |sql: &'static str| async move {
            let rows = with_read!(self, pool => sqlx::query(sql).bind(id.0).fetch_all(pool).await?
                .into_iter()
                .map(|r| {
                    let mut o = serde_json::Map::new();
                    for (i, c) in sqlx::Row::columns(&r).iter().enumerate() {
                        let name = sqlx::Column::name(c).to_string();
                        // Booleans by declared type: SQLite would otherwise read them as 0/1.
                        let boolean = matches!(sqlx::TypeInfo::name(sqlx::Column::type_info(c)), "BOOLEAN" | "BOOL");
                        let v = if boolean { r.try_get::<Option<bool>, _>(i).map(|v| json!(v)) } else { Err(sqlx::Error::RowNotFound) };
                        let v = v.or_else(|_| r.try_get::<Option<i64>, _>(i).map(|v| json!(v)))
                            .or_else(|_| r.try_get::<Option<i32>, _>(i).map(|v| json!(v)))
                            .or_else(|_| r.try_get::<Option<String>, _>(i).map(|v| json!(v)))
                            .or_else(|_| r.try_get::<Option<bool>, _>(i).map(|v| json!(v)))
                            .unwrap_or(Value::Null);
                        o.insert(name, v);
                    }
                    Value::Object(o)
                })
                .collect::<Vec<_>>());
            Ok::<_, StoreError>(rows)
        };
        let export = json!({
            "person": rows("SELECT handle, display_name, role, language, checkin_time, update_cadence, created_ms FROM people WHERE id = $1").await?,
            "chat_accounts": rows("SELECT platform, address, linked_ms, revoked_ms FROM identities WHERE person_id = $1 ORDER BY linked_ms").await?,
            "people_linked_to_them": rows(
                "SELECT p.display_name, r.relation, r.created_ms, r.revoked_ms FROM relations r JOIN people p ON p.id = r.person_id
                 WHERE r.resident_id = $1 ORDER BY r.id").await?,
            "they_are_linked_to": rows(
                "SELECT p.display_name, r.relation, r.created_ms, r.revoked_ms FROM relations r JOIN people p ON p.id = r.resident_id
                 WHERE r.person_id = $1 ORDER BY r.id").await?,
            "goals": rows("SELECT text, state, cadence, created_ms, changed_ms FROM goals WHERE person_id = $1 ORDER BY id").await?,
            "care_plans": rows("SELECT version, sections, written_by, created_ms FROM care_plans WHERE person_id = $1 ORDER BY version").await?,
            "care_plan_agreements": rows("SELECT version, agreed, wording, words, channel, decided_ms FROM plan_agreements WHERE person_id = $1 ORDER BY id").await?,
            "goal_history": rows(
                "SELECT g.text AS goal, c.change, c.text AS words, c.at_ms FROM goal_changes c JOIN goals g ON g.id = c.goal_id
                 WHERE c.person_id = $1 ORDER BY c.id").await?,
            "goal_answers": rows(
                "SELECT g.text AS goal, a.raw, a.answered_ms FROM answers a JOIN goals g ON g.id = a.goal_id
                 WHERE a.person_id = $1 ORDER BY a.id").await?,
            "answers": rows("SELECT flow, step, answer_key, value, raw, truncated_from, answered_ms FROM answers WHERE person_id = $1 ORDER BY id").await?,
            "consent_decisions": rows(
                "SELECT p.display_name AS family, c.category, c.decision, c.wording, c.channel, c.basis, c.basis_detail, c.decided_ms
                 FROM consents c JOIN people p ON p.id = c.family_id WHERE c.resident_id = $1 ORDER BY c.id").await?,
            "check_ins": rows("SELECT local_date, status, started_ms, ended_ms FROM checkins WHERE person_id = $1 ORDER BY started_ms").await?,
            "alerts_about_them": rows("SELECT reason, words, created_ms, acked_ms, escalated_ms FROM alerts WHERE person_id = $1 ORDER BY id").await?,
            "reviews": rows("SELECT interval_days, next_due FROM reviews WHERE person_id = $1").await?,
            "audit_trail": rows("SELECT at_ms, actor, action, detail FROM audit_log WHERE subject_id = $1 ORDER BY id").await?,
        });
        let entry = AuditEntry {
            actor: actor.into(),
            action: "person.exported".into(),
            subject: Some(PersonId(id.0)),
            detail: json!({}),
        };
        self.audit(&entry, now_ms).await?;
        Ok(export)
    }
}
