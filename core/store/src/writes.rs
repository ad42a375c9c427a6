//! Writing what one turn produced, inside the turn's transaction: answers, alerts fanned out to
//! staff, outgoing messages, timers, check-in records, consents, acknowledgements, reviews,
//! audit rows and finally the conversation's new state. Plain functions over [`Conn`], shared
//! by every path (the writer's batches write a turn row by row with [`write_turn`] unless it
//! writes only the rows [`super::batch`] writes in bulk), so every path writes a turn the same
//! way.

use super::audit::{self, AuditEntry};
use super::conn::{Arg, Conn, Sql};
use super::consents::write_consent;
use super::schedule::CheckinStatus;
use super::sql::{outbox_insert, reachable_accounts, reachable_staff, staff_residents};
use super::turn::{
    payload, queue_message, record_inbound, CheckinChange, NewAck, NewAlert, NewClose, NewRelay,
    NewReview, NewTimer, TurnWrites, ALERT_NUMBER,
};
use super::{Result, StoreError};
use carebot_engine::domain::GoalChange;
use carebot_engine::engine::{AnswerRecord, OutMessage};
use carebot_engine::ids::{GoalId, PersonId};

/// The columns of an answer row, for [`answer_row`].
pub(crate) const ANSWER_INSERT: &str = "INSERT INTO answers (person_id, flow, flow_version, run, step, answer_key, goal_id, value, raw, truncated_from, answered_ms)";

/// `a`, given by `person` at `now_ms`, as a row of [`ANSWER_INSERT`] (one builder for the
/// row-by-row and the bulk path).
pub(crate) fn answer_row(person: PersonId, a: &AnswerRecord, now_ms: i64) -> Vec<Arg> {
    vec![
        person.0.into(),
        a.flow.as_str().into(),
        a.version.as_str().into(),
        (a.run as i64).into(),
        a.step.as_str().into(),
        a.key.as_str().into(),
        a.goal.map(|g| g.0).into(),
        a.value.to_string().into(),
        a.raw.clone().into(),
        a.truncated_from.map(|n| n as i64).into(),
        now_ms.into(),
    ]
}

/// The statement that stores a conversation's new state (`person`, state JSON, `now_ms` per
/// row; the bulk path writes many rows with the same tail).
pub(crate) const STATE_INSERT: &str = "INSERT INTO conversations (person_id, state, updated_ms)";
/// What a state row does when the conversation is stored already.
pub(crate) const STATE_UPSERT: &str =
    "ON CONFLICT (person_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms";

/// The conversation `writes` leaves, as the JSON stored.
pub(crate) fn state_json(writes: &TurnWrites) -> Result<String> {
    serde_json::to_string(&writes.state).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Writes `writes` for `person` inside the transaction of `c`, in a fixed order (a check-in's
/// start row exists before a record that ends it; the state last).
pub(crate) async fn write_turn(
    c: &mut Conn<'_>,
    person: PersonId,
    writes: &TurnWrites,
    now_ms: i64,
) -> Result<()> {
    for a in &writes.answers {
        c.execute(Sql::row(ANSWER_INSERT, answer_row(person, a, now_ms), ""))
            .await?;
    }
    for alert in &writes.alerts {
        raise_alert(c, alert, now_ms).await?;
    }
    for o in &writes.outbox {
        queue_message(c, o, now_ms).await?;
    }
    for t in &writes.timers {
        c.execute(Sql::row(TIMER_INSERT, timer_row(person, t), ""))
            .await?;
    }
    for id in &writes.timers_done {
        c.execute(
            Sql::new("UPDATE timers SET done_ms = $2 WHERE id = $1")
                .bind(*id)
                .bind(now_ms),
        )
        .await?;
    }
    for change in &writes.checkins {
        c.execute(checkin_sql(person, change, now_ms)).await?;
    }
    if let Some(cadence) = &writes.update_cadence {
        c.execute(
            Sql::new("UPDATE people SET update_cadence = $2 WHERE id = $1 AND role = 'family'")
                .bind(person.0)
                .bind(cadence.as_str()),
        )
        .await?;
    }
    if let Some(time) = &writes.checkin_time {
        c.execute(
            Sql::new("UPDATE people SET checkin_time = $2 WHERE id = $1")
                .bind(person.0)
                .bind(time.as_str()),
        )
        .await?;
    }
    for consent in &writes.consents {
        write_consent(c, person, consent, now_ms).await?;
    }
    for ack in &writes.acks {
        acknowledge(c, person, ack, now_ms).await?;
    }
    for close in &writes.closes {
        close_request(c, person, close, now_ms).await?;
    }
    for relay in &writes.relays {
        pass_on(c, person, relay, now_ms).await?;
    }
    for answer in &writes.plan_answers {
        super::plans::write_plan_answer(c, person, answer, now_ms).await?;
    }
    for (goal, change) in &writes.goal_changes {
        change_goal(c, person, *goal, change, now_ms).await?;
    }
    for review in &writes.reviews {
        let NewReview {
            resident,
            date,
            took_part,
            next_due,
            notice,
        } = review;
        // Only for a resident this person looks after; the schedule moves on.
        let moved = c
            .execute(
                Sql::new(
                    "UPDATE reviews SET next_due = $3 WHERE person_id = $1 AND person_id IN
                    (SELECT resident_id FROM relations WHERE person_id = $2 AND relation IN ('keyworker', 'manager') AND revoked_ms IS NULL)",
                )
                .bind(resident.0)
                .bind(person.0)
                .bind(next_due.as_str()),
            )
            .await?;
        let entry = AuditEntry {
            actor: format!("person:{person}"),
            action: "review.recorded".into(),
            subject: Some(*resident),
            detail: serde_json::json!({ "date": date, "took_part": took_part, "next_due": next_due, "schedule_moved": moved == 1 }),
        };
        audit::append(c, &entry, now_ms).await?;
        // Only for a resident this person looks after (whether or not a schedule was set).
        let (looks_after,): (i64,) = c
            .fetch_one(
                Sql::new(
                    "SELECT COUNT(*) FROM relations WHERE resident_id = $1 AND person_id = $2 AND relation IN ('keyworker', 'manager') AND revoked_ms IS NULL",
                )
                .bind(resident.0)
                .bind(person.0),
            )
            .await?;
        if looks_after > 0 {
            // The resident hears what was agreed, on every account of theirs that is reachable.
            c.execute(
                Sql::new(concat!(
                    outbox_insert!(),
                    "SELECT 'review.' || $1 || '.' || i.platform || '.' || i.address, i.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                    reachable_accounts!(person = "$5"),
                    "ON CONFLICT (idem_key) DO NOTHING"
                ))
                .bind(format!("{resident}.{now_ms}"))
                .bind(payload(notice)?)
                .bind(notice.sensitive)
                .bind(now_ms)
                .bind(resident.0),
            )
            .await?;
        }
    }
    for entry in &writes.audits {
        audit::append(c, entry, now_ms).await?;
    }
    for k in &writes.claim {
        // Claimed for the batch, which was checked for replays before it was planned.
        let _ = record_inbound(c, k, now_ms).await?;
    }
    c.execute(Sql::row(
        STATE_INSERT,
        vec![person.0.into(), state_json(writes)?.into(), now_ms.into()],
        STATE_UPSERT,
    ))
    .await?;
    Ok(())
}

/// The statement recording one change to `person`'s scheduled check-ins.
pub(crate) fn checkin_sql(person: PersonId, change: &CheckinChange, now_ms: i64) -> Sql {
    match change {
        CheckinChange::Started { run, local_date } => Sql::row(
            CHECKIN_INSERT,
            started_row(person, *run, local_date, now_ms),
            "",
        ),
        CheckinChange::Ended { run, status } => Sql::new(
            "UPDATE checkins SET status = $3, ended_ms = $4 WHERE person_id = $1 AND run = $2 AND status = $5",
        )
        .bind(person.0)
        .bind(*run as i64)
        .bind(status.as_sql())
        .bind(now_ms)
        .bind(CheckinStatus::Started.as_sql()),
        CheckinChange::Done { run, local_date } => Sql::row(
            "INSERT INTO checkins (person_id, run, local_date, status, started_ms, ended_ms)",
            vec![
                person.0.into(),
                (*run as i64).into(),
                local_date.as_str().into(),
                CheckinStatus::Completed.as_sql().into(),
                now_ms.into(),
                now_ms.into(),
            ],
            "ON CONFLICT (person_id, run) DO UPDATE SET status = excluded.status, ended_ms = excluded.ended_ms WHERE checkins.status = 'started'",
        ),
        CheckinChange::Skipped { local_date } => Sql::new(
            "UPDATE checkins SET status = $4, ended_ms = $3 WHERE person_id = $1 AND local_date = $2 AND status = $5",
        )
        .bind(person.0)
        .bind(local_date.as_str())
        .bind(now_ms)
        .bind(CheckinStatus::Skipped.as_sql())
        .bind(CheckinStatus::Started.as_sql()),
    }
}

/// The columns of a check-in's start row, for [`started_row`].
pub(crate) const CHECKIN_INSERT: &str =
    "INSERT INTO checkins (person_id, run, local_date, status, started_ms)";

/// The row recording that `person`'s check-in `run` for `local_date` began at `now_ms`.
pub(crate) fn started_row(person: PersonId, run: u64, local_date: &str, now_ms: i64) -> Vec<Arg> {
    vec![
        person.0.into(),
        (run as i64).into(),
        local_date.into(),
        CheckinStatus::Started.as_sql().into(),
        now_ms.into(),
    ]
}

/// The columns of a timer row, for [`timer_row`].
pub(crate) const TIMER_INSERT: &str = "INSERT INTO timers (person_id, kind, flow, run, due_ms)";

/// `t`, set for `person`, as a row of [`TIMER_INSERT`].
pub(crate) fn timer_row(person: PersonId, t: &NewTimer) -> Vec<Arg> {
    vec![
        person.0.into(),
        t.kind.as_str().into(),
        t.flow.as_str().into(),
        (t.run as i64).into(),
        t.due_ms.into(),
    ]
}

/// `staff` acknowledges `ack`: only alerts about residents they are keyworker or manager for.
/// Each resident whose acknowledged alerts include one raised from their own words (a concern
/// or a request, not a missed check-in) is told once who has seen it, and each resident's
/// acknowledgement is audited (who, which alerts, whether the resident was told).
async fn acknowledge(c: &mut Conn<'_>, staff: PersonId, ack: &NewAck, now_ms: i64) -> Result<()> {
    let mut acked: Vec<(i64, i64, i64)> = c
        .fetch_all(
            Sql::new(concat!(
                "UPDATE alerts SET acked_ms = $2, acked_by = $1
                 WHERE acked_ms IS NULL AND (id = $3 OR CAST($3 AS BIGINT) IS NULL) AND person_id IN ",
                staff_residents!(staff = "$1"),
                " RETURNING person_id, id, CAST(CASE WHEN words IS NULL THEN 0 ELSE 1 END AS BIGINT)",
            ))
            .bind(staff.0)
            .bind(now_ms)
            .bind(ack.alert),
        )
        .await?;
    acked.sort_unstable();
    let mut residents: Vec<i64> = acked.iter().map(|(r, _, _)| *r).collect();
    residents.dedup();
    for resident in residents {
        let alerts: Vec<i64> = acked
            .iter()
            .filter(|(r, _, _)| *r == resident)
            .map(|(_, id, _)| *id)
            .collect();
        let said = acked
            .iter()
            .filter(|(r, _, words)| *r == resident && *words == 1)
            .map(|(_, id, _)| *id)
            .next();
        let mut told = 0;
        if let Some(first) = said {
            told = c
                .execute(
                    Sql::new(concat!(
                        outbox_insert!(),
                        "SELECT 'alert-seen.' || $1 || '.' || i.platform || '.' || i.address, i.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                        reachable_accounts!(person = "$5"),
                        "ON CONFLICT (idem_key) DO NOTHING"
                    ))
                    .bind(first.to_string())
                    .bind(payload(&ack.notice)?)
                    .bind(ack.notice.sensitive)
                    .bind(now_ms)
                    .bind(resident),
                )
                .await?;
        }
        let entry = AuditEntry {
            actor: format!("person:{staff}"),
            action: "alert.acknowledged".into(),
            subject: Some(PersonId(resident)),
            detail: serde_json::json!({ "alerts": alerts, "resident_told": told > 0 }),
        };
        audit::append(c, &entry, now_ms).await?;
    }
    Ok(())
}

/// `staff` closes a request with what was done: only a request (not a concern) about a
/// resident they are keyworker or manager for, and only once. Closing counts as having seen
/// it. The resident is told, in staff's words, on every account they have, and the closing is
/// audited (which request, whether the resident was told; never the words).
async fn close_request(
    c: &mut Conn<'_>,
    staff: PersonId,
    close: &NewClose,
    now_ms: i64,
) -> Result<()> {
    let closed: Option<(i64,)> = c
        .fetch_optional(
            Sql::new(concat!(
                "UPDATE alerts SET closed_ms = $2, closed_by = $1, outcome = $4,
                        acked_ms = COALESCE(acked_ms, $2), acked_by = COALESCE(acked_by, $1)
                 WHERE id = $3 AND request IS NOT NULL AND closed_ms IS NULL AND person_id IN ",
                staff_residents!(staff = "$1"),
                " RETURNING person_id",
            ))
            .bind(staff.0)
            .bind(now_ms)
            .bind(close.request)
            .bind(close.outcome.as_str()),
        )
        .await?;
    let Some((resident,)) = closed else {
        return Ok(());
    };
    let told = c
        .execute(
            Sql::new(concat!(
                outbox_insert!(),
                "SELECT 'request-closed.' || $1 || '.' || i.platform || '.' || i.address, i.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                reachable_accounts!(person = "$5"),
                "ON CONFLICT (idem_key) DO NOTHING"
            ))
            .bind(close.request.to_string())
            .bind(payload(&close.notice)?)
            .bind(close.notice.sensitive)
            .bind(now_ms)
            .bind(resident),
        )
        .await?;
    let entry = AuditEntry {
        actor: format!("person:{staff}"),
        action: "request.closed".into(),
        subject: Some(PersonId(resident)),
        detail: serde_json::json!({ "request": close.request, "resident_told": told > 0 }),
    };
    audit::append(c, &entry, now_ms).await
}

/// Passes `relay` from `from` to every reachable account of its recipient, and audits it
/// (who to whom, whether it could be delivered; never the words).
async fn pass_on(c: &mut Conn<'_>, from: PersonId, relay: &NewRelay, now_ms: i64) -> Result<()> {
    let delivered = c
        .execute(
            Sql::new(concat!(
                outbox_insert!(),
                "SELECT 'relay.' || $1 || '.' || i.platform || '.' || i.address, i.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                reachable_accounts!(person = "$5"),
                // Only between a resident and a member of their family, by an active relation.
                "AND EXISTS (SELECT 1 FROM relations r WHERE r.relation = 'family' AND r.revoked_ms IS NULL
                   AND ((r.person_id = $6 AND r.resident_id = $5) OR (r.person_id = $5 AND r.resident_id = $6))) ",
                "ON CONFLICT (idem_key) DO NOTHING"
            ))
            .bind(relay.key.as_str())
            .bind(payload(&relay.notice)?)
            .bind(relay.notice.sensitive)
            .bind(now_ms)
            .bind(relay.to.0)
            .bind(from.0),
        )
        .await?;
    let entry = AuditEntry {
        actor: format!("person:{from}"),
        action: "message.passed_on".into(),
        subject: Some(relay.resident),
        detail: serde_json::json!({ "from": from, "to": relay.to, "delivered": delivered > 0 }),
    };
    audit::append(c, &entry, now_ms).await
}

/// Applies a resident's change to one of their own goals: only their own, and only from a
/// state the change applies to (a button pressed twice changes nothing). Each change that
/// applies is kept in `goal_changes` (the goal's history, with the words only of a new or
/// reworded goal) and audited as `goal.changed` (which goal, what change; never the words).
async fn change_goal(
    c: &mut Conn<'_>,
    person: PersonId,
    goal: Option<GoalId>,
    change: &GoalChange,
    now_ms: i64,
) -> Result<()> {
    let id = match (goal, change) {
        (None, GoalChange::Add { text }) => {
            let (id,): (i64,) = c
                .fetch_one(
                    Sql::new("INSERT INTO goals (person_id, text, active, state, created_ms, changed_ms) VALUES ($1, $2, TRUE, 'active', $3, $3) RETURNING id")
                        .bind(person.0)
                        .bind(text.as_str())
                        .bind(now_ms),
                )
                .await?;
            id
        }
        (Some(goal), change) => {
            let states: Vec<&str> = change.applies_to().iter().map(|s| s.as_str()).collect();
            let from = states
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ");
            let state = change.state_after();
            let cadence = match change {
                GoalChange::Often { cadence } => Some(cadence.as_str()),
                _ => None,
            };
            let changed = c
                .execute(
                    Sql::new(&format!(
                        "UPDATE goals SET state = COALESCE($3, state), active = (COALESCE($3, state) = 'active'),
                             text = COALESCE($4, text), cadence = COALESCE($5, cadence), changed_ms = $6
                         WHERE id = $1 AND person_id = $2 AND state IN ({from})"
                    ))
                    .bind(goal.0)
                    .bind(person.0)
                    .bind(state.map(|s| s.as_str()))
                    .bind(change.text().map(str::to_string))
                    .bind(cadence)
                    .bind(now_ms),
                )
                .await?;
            if changed == 0 {
                return Ok(());
            }
            goal.0
        }
        (None, _) => return Ok(()),
    };
    c.execute(
        Sql::new("INSERT INTO goal_changes (goal_id, person_id, change, text, at_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(person.0)
            .bind(change.name())
            .bind(change.text().map(str::to_string))
            .bind(now_ms),
    )
    .await?;
    let entry = AuditEntry {
        actor: format!("person:{person}"),
        action: "goal.changed".into(),
        subject: Some(person),
        detail: serde_json::json!({ "goal": id, "change": change.name() }),
    };
    audit::append(c, &entry, now_ms).await
}

/// Raises `alert`: its row, a message to every reachable member of staff of its target role
/// (and the managers too when it says so), and an audit row naming who was told.
async fn raise_alert(c: &mut Conn<'_>, alert: &NewAlert, now_ms: i64) -> Result<()> {
    let relation = match alert.target {
        carebot_engine::flow::Target::Keyworker => "keyworker",
        carebot_engine::flow::Target::Manager => "manager",
    };
    let (id,): (i64,) = c
        .fetch_one(
            Sql::new("INSERT INTO alerts (person_id, target, reason, words, created_ms, request) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(alert.about.0)
                .bind(relation)
                .bind(alert.reason.as_str())
                .bind(alert.words.clone())
                .bind(now_ms)
                .bind(alert.request.clone()),
        )
        .await?;
    // A request's message tells staff its number, which exists only now.
    let numbered;
    let message = if alert.message.text.contains(ALERT_NUMBER) {
        numbered = OutMessage {
            text: alert.message.text.replace(ALERT_NUMBER, &id.to_string()),
            ..alert.message.clone()
        };
        &numbered
    } else {
        &alert.message
    };
    let to: Vec<(i64,)> = c
        .fetch_all(
            Sql::new(concat!(
                outbox_insert!(),
                "SELECT 'alert.' || $1 || '.' || i.platform || '.' || i.address, r.person_id, i.platform, i.address, $2, $3, 'pending', $4, $4, NULL, NULL",
                reachable_staff!(resident = "$5", relation = "(r.relation = $6 OR ($7 AND r.relation = 'manager'))"),
                "RETURNING person_id"
            ))
            .bind(id.to_string())
            .bind(payload(message)?)
            .bind(message.sensitive)
            .bind(now_ms)
            .bind(alert.about.0)
            .bind(relation)
            .bind(alert.copy_to_manager),
        )
        .await?;
    let mut to: Vec<i64> = to.into_iter().map(|(p,)| p).collect();
    to.sort_unstable();
    to.dedup();
    // The alert quotes the resident: telling staff is a disclosure, so it is audited (who was
    // told, about whom, under which rule; never the words themselves).
    let entry = AuditEntry {
        actor: "carebot".into(),
        action: "alert.sent".into(),
        subject: Some(alert.about),
        detail: serde_json::json!({ "alert": id, "target": relation, "manager_too": alert.copy_to_manager, "reason": &alert.reason, "request": &alert.request, "to": to }),
    };
    audit::append(c, &entry, now_ms).await
}
