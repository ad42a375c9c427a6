//! Writing what one turn produced, inside the turn's transaction: answers, alerts fanned out to
//! staff, outgoing messages, timers, check-in records, consents, acknowledgements, reviews,
//! audit rows and finally the conversation's new state. Shared by the one-turn path
//! ([`super::turn`]), the SQLite group-commit writer ([`super::writer`]) and the scheduler's
//! batches ([`super::batch`]), so every path writes a turn the same way.

/// Writes `$writes` (a [`super::turn::TurnWrites`]) for `$person` inside transaction `$tx`, in a
/// fixed order (a check-in's start row exists before a record that ends it; the state last).
macro_rules! write_turn {
    ($store:expr, $tx:ident, $person:expr, $writes:expr, $now:expr) => {{
        let person: ::carebot_engine::ids::PersonId = $person;
        let now_ms: i64 = $now;
        let writes: &$crate::turn::TurnWrites = &$writes;
        for a in &writes.answers {
            sqlx::query(
                "INSERT INTO answers (person_id, flow, flow_version, run, step, answer_key, goal_id, value, raw, truncated_from, answered_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                .bind(person.0).bind(&a.flow).bind(&a.version).bind(a.run as i64).bind(&a.step).bind(&a.key)
                .bind(a.goal.map(|g| g.0)).bind(a.value.to_string()).bind(&a.raw)
                .bind(a.truncated_from.map(|n| n as i64)).bind(now_ms)
                .execute(&mut *$tx).await?;
        }
        for al in &writes.alerts {
            let relation = match al.target { ::carebot_engine::flow::Target::Keyworker => "keyworker", ::carebot_engine::flow::Target::Manager => "manager" };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO alerts (person_id, target, reason, words, created_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(al.about.0).bind(relation).bind(&al.reason).bind(&al.words).bind(now_ms)
                .fetch_one(&mut *$tx).await?;
            let mut to: Vec<i64> = sqlx::query_scalar(
                concat!(
                    crate::sql::outbox_insert!(),
                    "SELECT 'alert.' || $1 || '.' || i.platform || '.' || i.address, r.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                    crate::sql::reachable_staff!(resident = "$5", relation = "(r.relation = $6 OR ($7 AND r.relation = 'manager'))"),
                    "RETURNING person_id"
                ))
                .bind(id.to_string()).bind($crate::turn::payload(&al.message)?).bind(al.message.sensitive).bind(now_ms)
                .bind(al.about.0).bind(relation).bind(al.copy_to_manager)
                .fetch_all(&mut *$tx).await?;
            to.sort_unstable();
            to.dedup();
            // The alert quotes the resident: telling staff is a disclosure, so it is audited
            // (who was told, about whom, under which rule; never the words themselves).
            let entry = $crate::audit::AuditEntry {
                actor: "carebot".into(),
                action: "alert.sent".into(),
                subject: Some(al.about),
                detail: serde_json::json!({ "alert": id, "target": relation, "manager_too": al.copy_to_manager, "reason": &al.reason, "to": to }),
            };
            $crate::audit::append_audit!($store, $tx, entry, now_ms);
        }
        for o in &writes.outbox {
            $crate::turn::queue_message!($tx, o, now_ms);
        }
        for t in &writes.timers {
            sqlx::query("INSERT INTO timers (person_id, kind, flow, run, due_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(person.0).bind(t.kind).bind(&t.flow).bind(t.run as i64).bind(t.due_ms).execute(&mut *$tx).await?;
        }
        for id in &writes.timers_done {
            sqlx::query("UPDATE timers SET done_ms = $2 WHERE id = $1").bind(id).bind(now_ms).execute(&mut *$tx).await?;
        }
        for c in &writes.checkins {
            match c {
                $crate::turn::CheckinChange::Started { run, local_date } => sqlx::query(
                    "INSERT INTO checkins (person_id, run, local_date, status, started_ms) VALUES ($1, $2, $3, 'started', $4)")
                    .bind(person.0).bind(*run as i64).bind(local_date).bind(now_ms).execute(&mut *$tx).await?,
                $crate::turn::CheckinChange::Ended { run, status } => sqlx::query(
                    "UPDATE checkins SET status = $3, ended_ms = $4 WHERE person_id = $1 AND run = $2 AND status = 'started'")
                    .bind(person.0).bind(*run as i64).bind(*status).bind(now_ms).execute(&mut *$tx).await?,
                $crate::turn::CheckinChange::Skipped { local_date } => sqlx::query(
                    "UPDATE checkins SET status = 'skipped', ended_ms = $3 WHERE person_id = $1 AND local_date = $2 AND status = 'started'")
                    .bind(person.0).bind(local_date).bind(now_ms).execute(&mut *$tx).await?,
            };
        }
        if let Some(cadence) = &writes.update_cadence {
            sqlx::query("UPDATE people SET update_cadence = $2 WHERE id = $1 AND role = 'family'")
                .bind(person.0).bind(cadence).execute(&mut *$tx).await?;
        }
        if let Some(time) = &writes.checkin_time {
            sqlx::query("UPDATE people SET checkin_time = $2 WHERE id = $1").bind(person.0).bind(time).execute(&mut *$tx).await?;
        }
        for c in &writes.consents {
            $crate::consents::write_consent!($store, $tx, person, c, now_ms);
        }
        for alert in &writes.acks {
            // Only alerts about residents this person is keyworker or manager for.
            sqlx::query(
                "UPDATE alerts SET acked_ms = $2, acked_by = $1
                 WHERE acked_ms IS NULL AND (id = $3 OR CAST($3 AS BIGINT) IS NULL)
                   AND person_id IN (SELECT resident_id FROM relations WHERE person_id = $1
                                     AND relation IN ('keyworker', 'manager') AND revoked_ms IS NULL)")
                .bind(person.0).bind(now_ms).bind(*alert).execute(&mut *$tx).await?;
        }
        for (resident, date, took_part, next_due) in &writes.reviews {
            // Only for a resident this person looks after; the schedule moves on.
            let moved = sqlx::query(
                "UPDATE reviews SET next_due = $3 WHERE person_id = $1 AND person_id IN
                    (SELECT resident_id FROM relations WHERE person_id = $2 AND relation IN ('keyworker', 'manager') AND revoked_ms IS NULL)")
                .bind(resident.0).bind(person.0).bind(next_due).execute(&mut *$tx).await?.rows_affected();
            let entry = $crate::audit::AuditEntry {
                actor: format!("person:{person}"),
                action: "review.recorded".into(),
                subject: Some(*resident),
                detail: serde_json::json!({ "date": date, "took_part": took_part, "next_due": next_due, "schedule_moved": moved == 1 }),
            };
            $crate::audit::append_audit!($store, $tx, entry, now_ms);
        }
        for entry in &writes.audits {
            $crate::audit::append_audit!($store, $tx, entry, now_ms);
        }
        for k in &writes.claim {
            // Claimed for the batch, which was checked for replays before it was planned.
            let _ = $crate::turn::record_inbound!($tx, k, now_ms);
        }
        let state = serde_json::to_string(&writes.state).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO conversations (person_id, state, updated_ms) VALUES ($1, $2, $3)
             ON CONFLICT (person_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms")
            .bind(person.0).bind(state).bind(now_ms).execute(&mut *$tx).await?;
    }};
}

pub(crate) use write_turn;
