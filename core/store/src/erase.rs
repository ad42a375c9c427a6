//! Erasure (`carebot erase --person X`): everything about a person is deleted or anonymised
//! in one transaction, and the erasure itself is audited.
//!
//! **Why the audit log's hash chain survives.** Each audit row's hash covers its text, so
//! changing a row would break the chain `carebot audit-verify` checks. Instead, audit rows are
//! written to hold no personal text at all: ids (`person:12`), actions, categories, dates.
//! The person's row is kept, anonymised, so those ids still point at something, but at
//! nothing personal. The audit trail then says *that* things happened to person 12 (consent
//! recorded, update delivered, erased) and nothing about who person 12 was. As a check, the
//! erasure scans every audit row for the person's name, handle and account addresses (an
//! older version wrote account addresses as actors) and reports any it had to keep.
//!
//! Messages to other people that carried this person's words (alerts to staff, family
//! updates, review reminders) are deleted; other messages that name them (a keyworker's
//! digest, a resident asked about sharing with them) have their body replaced, since they also
//! speak of other people.

use super::audit::{self, AuditEntry};
use super::conn::Sql;
use super::{Result, Store};
use carebot_engine::ids::PersonId;
use serde_json::json;

/// What an erasure did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// (what, rows) deleted or emptied.
    pub removed: Vec<(&'static str, u64)>,
    /// (what, rows, why) kept.
    pub kept: Vec<(&'static str, u64, &'static str)>,
}

/// Deletes, in order (messages before the alerts their keys name), with `$1` the person.
const DELETES: &[(&str, &str)] = &[
    (
        "messages to, from or about them (including alerts and reminders about them)",
        "DELETE FROM outbox WHERE person_id = $1 OR about_id = $1
        OR idem_key LIKE 'review.' || CAST($1 AS TEXT) || '.%'
        OR EXISTS (SELECT 1 FROM alerts a WHERE a.person_id = $1 AND (
             outbox.idem_key LIKE 'alert.' || CAST(a.id AS TEXT) || '.%'
          OR outbox.idem_key LIKE 'esc.' || CAST(a.id AS TEXT) || '.%'
          OR outbox.idem_key LIKE 'oncall.' || CAST(a.id AS TEXT) || '.%'
          OR outbox.idem_key LIKE 'due.' || CAST(a.id AS TEXT) || '.%'
          OR outbox.idem_key = 'told.' || CAST(a.id AS TEXT)))",
    ),
    (
        "alerts about them",
        "DELETE FROM alerts WHERE person_id = $1",
    ),
    (
        "check-in answers",
        "DELETE FROM answers WHERE person_id = $1",
    ),
    (
        "consent decisions (theirs, or about sharing with them)",
        "DELETE FROM consents WHERE resident_id = $1 OR family_id = $1",
    ),
    (
        "care plan agreements",
        "DELETE FROM plan_agreements WHERE person_id = $1",
    ),
    ("care plans", "DELETE FROM care_plans WHERE person_id = $1"),
    (
        "goal history",
        "DELETE FROM goal_changes WHERE person_id = $1",
    ),
    ("goals", "DELETE FROM goals WHERE person_id = $1"),
    (
        "review schedule",
        "DELETE FROM reviews WHERE person_id = $1",
    ),
    (
        "check-in records",
        "DELETE FROM checkins WHERE person_id = $1",
    ),
    (
        "follow-up timers",
        "DELETE FROM timers WHERE person_id = $1",
    ),
    (
        "chat accounts",
        "DELETE FROM identities WHERE person_id = $1",
    ),
    ("link codes", "DELETE FROM link_codes WHERE person_id = $1"),
    (
        "who is whose (family, keyworker, manager)",
        "DELETE FROM relations WHERE resident_id = $1 OR person_id = $1",
    ),
    (
        "conversation state",
        "UPDATE conversations SET state = '{}' WHERE person_id = $1 AND state <> '{}'",
    ),
    (
        "their name on alerts they acknowledged",
        "UPDATE alerts SET acked_by = NULL WHERE acked_by = $1",
    ),
    (
        "their name on requests they closed",
        "UPDATE alerts SET closed_by = NULL WHERE closed_by = $1",
    ),
    (
        "their name on consent they recorded for others",
        "UPDATE consents SET recorded_by = NULL WHERE recorded_by = $1",
    ),
];

impl Store {
    /// Erases `person`, writing `actor` in the audit row. Runs in one transaction: all of it
    /// happens or none of it.
    pub async fn erase_person(
        &self,
        person: PersonId,
        actor: &str,
        now_ms: i64,
    ) -> Result<Erasure> {
        let mut report = Erasure::default();
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let (name, handle): (String, String) = c
            .fetch_one(
                Sql::new("SELECT display_name, handle FROM people WHERE id = $1").bind(person.0),
            )
            .await?;
        let addresses: Vec<(String,)> = c
            .fetch_all(
                Sql::new("SELECT address FROM identities WHERE person_id = $1").bind(person.0),
            )
            .await?;
        // Other people's messages that name them (a keyworker's digest, a resident asked about
        // sharing with them) also say things about others: keep the row, drop the body; one
        // not yet sent is withdrawn. Deleted below if it was theirs anyway. The payload is
        // JSON, so a name with quotes in it is stored escaped: look for both forms, then keep
        // only messages whose words name them as a whole word (so a short name like "Al"
        // leaves "Always" alone).
        let mut naming = 0;
        if !name.trim().is_empty() {
            let escaped = json!(name).to_string();
            let escaped = escaped.trim_matches('"');
            let candidates: Vec<(i64, String)> = c
                .fetch_all(
                    Sql::new("SELECT id, payload FROM outbox WHERE payload LIKE $1 ESCAPE '!' OR payload LIKE $2 ESCAPE '!'")
                        .bind(containing(&name))
                        .bind(containing(escaped)),
                )
                .await?;
            for (id, payload) in candidates {
                if !names(&payload, &name) {
                    continue;
                }
                naming += c
                    .execute(
                        Sql::new(
                            "UPDATE outbox SET payload = '{\"text\":\"(removed: it named a person whose records were erased)\"}',
                                 status = CASE WHEN status = 'pending' THEN 'withdrawn' ELSE status END
                             WHERE id = $1",
                        )
                        .bind(id),
                    )
                    .await?;
            }
        }
        report.removed.push((
            "their name in other people's messages (body removed)",
            naming,
        ));
        for (what, sql) in DELETES {
            let n = c.execute(Sql::new(sql).bind(person.0)).await?;
            report.removed.push((what, n));
        }
        c.execute(
            Sql::new(
                "UPDATE people SET display_name = 'Erased person', handle = 'erased-' || CAST(id AS TEXT),
                     checkin_time = NULL, language = 'en', erased_ms = $2 WHERE id = $1",
            )
            .bind(person.0)
            .bind(now_ms),
        )
        .await?;
        report.removed.push((
            "name and handle (the row stays, anonymised, for the ids below)",
            1,
        ));
        let (audit_rows,): (i64,) = c
            .fetch_one(
                Sql::new("SELECT COUNT(*) FROM audit_log WHERE subject_id = $1").bind(person.0),
            )
            .await?;
        report.kept.push(("audit rows about them", audit_rows as u64,
            "the audit log is hash-chained and holds ids, actions and dates only, no personal text; with the name gone they say nothing about who this was"));
        let mut personal = 0i64;
        let needles = [name.as_str(), handle.as_str()]
            .into_iter()
            .chain(addresses.iter().map(|(a,)| a.as_str()));
        for needle in needles {
            if needle.trim().len() < 3 {
                continue;
            }
            let (n,): (i64,) = c
                .fetch_one(
                    Sql::new("SELECT COUNT(*) FROM audit_log WHERE actor LIKE '%' || $1 || '%' OR detail LIKE '%' || $1 || '%'")
                        .bind(needle),
                )
                .await?;
            personal += n;
        }
        if personal > 0 {
            report.kept.push(("audit rows that still contain their name, handle or an account address", personal as u64,
                "written by an older version; changing them would break the hash chain, so restrict who may read the audit log"));
        }
        let entry = AuditEntry {
            actor: actor.into(),
            action: "person.erased".into(),
            subject: Some(person),
            detail: json!({ "rows_removed": report.removed.iter().map(|(_, n)| n).sum::<u64>() }),
        };
        audit::append(&mut c, &entry, now_ms).await?;
        tx.commit().await?;
        self.scrub_free_space().await?;
        Ok(report)
    }

    /// After an erasure, leaves no copy of the deleted rows in the database files. SQLite
    /// keeps deleted rows in free pages and the write-ahead log until they are reused, so the
    /// file is rebuilt (`VACUUM`) and the log emptied (`wal_checkpoint(TRUNCATE)`). On
    /// PostgreSQL the server reclaims dead rows itself (autovacuum); see the README on what
    /// that and backups mean for erased data.
    async fn scrub_free_space(&self) -> Result<()> {
        if let crate::Db::Sqlite(db) = self.db() {
            sqlx::query("VACUUM").execute(&db.write).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&db.write)
                .await?;
        }
        Ok(())
    }
}

/// A LIKE pattern (with `ESCAPE '!'`) for text containing `s` as it is: PostgreSQL would
/// otherwise take a backslash in it (a JSON-escaped quote) as an escape.
fn containing(s: &str) -> String {
    let s = s.replace('!', "!!").replace('%', "!%").replace('_', "!_");
    format!("%{s}%")
}

/// Whether the message `payload` (an outbox row's JSON) names `name` as a whole word.
fn names(payload: &str, name: &str) -> bool {
    /// Every string in a JSON value (the text, and the labels of any buttons).
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let mut words = Vec::new();
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(v) => strings(&v, &mut words),
        Err(_) => words.push(payload.to_string()),
    }
    let pattern = format!(r"(?i)(^|\W){}($|\W)", regex::escape(name.trim()));
    regex::Regex::new(&pattern).is_ok_and(|re| words.iter().any(|w| re.is_match(w)))
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn a_name_is_found_as_a_whole_word_in_any_text_of_a_message() {
        let asked = r#"{"text":"May I share your mood with Al?","choices":[{"answer":"yes","label":"Yes"}]}"#;
        assert!(names(asked, "Al"));
        assert!(!names(r#"{"text":"Always here. Also: all fine."}"#, "Al"));
        let quoted = serde_json::json!({ "text": "Share with Robert \"Rob\" Family?" }).to_string();
        assert!(names(&quoted, r#"Robert "Rob" Family"#));
        let button = r#"{"text":"Who?","choices":[{"answer":"1","label":"Sam Thompson"}]}"#;
        assert!(names(button, "Sam Thompson"));
    }
}
