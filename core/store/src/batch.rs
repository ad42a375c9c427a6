//! Many turns written in bulk: the 09:00 fan-out, and the SQLite writer's batches.
//!
//! A turn writes the same few kinds of row (its once-only key, answers, the reply, timers, a
//! check-in record, the new state). Written one statement at a time that is seven or more
//! round trips per turn, and on SQLite each round trip is a hand-off to sqlx's connection
//! thread: profiling showed those hand-offs, not the disk or the engine, were the cost. Here a
//! batch of turns shares one transaction and each kind of row is written with multi-row
//! statements. A turn that writes anything rarer (an alert, a consent, …) is written row by
//! row by the shared write path inside a savepoint, so its rules still apply and its failure
//! is its own. A batch that names someone twice runs turn by turn (each in a savepoint), so
//! the second turn sees the first one's state.

use super::conn::{Conn, Sql};
use super::sql::{inbound_event_insert, outbox_insert};
use super::turn::{outbox_row, record_inbound, BatchTurn, CheckinChange, InboundKey, TurnWrites};
use super::writes::{
    answer_row, started_row, state_json, timer_row, write_turn, ANSWER_INSERT, CHECKIN_INSERT,
    STATE_INSERT, STATE_UPSERT, TIMER_INSERT,
};
use super::{Db, Result, Store, StoreError};
use carebot_engine::engine::Conversation;
use carebot_engine::ids::PersonId;
use std::collections::{HashMap, HashSet};

/// Rows per multi-row statement: far below both backends' bind-parameter limits (SQLite
/// 32,766; PostgreSQL 65,535) at up to eleven columns a row.
const ROWS: usize = 1000;

/// Whether `w` writes only rows the bulk path writes: answers, messages, timers and the start
/// of a check-in. Destructured in full, so a new kind of write cannot be skipped silently.
fn bulk_only(w: &TurnWrites) -> bool {
    let TurnWrites {
        state: _,
        answers: _,
        outbox: _,
        timers: _,
        alerts,
        timers_done,
        checkins,
        checkin_time,
        update_cadence,
        claim,
        consents,
        audits,
        acks,
        closes,
        relays,
        goal_changes,
        plan_answers,
        reviews,
    } = w;
    alerts.is_empty()
        && timers_done.is_empty()
        && checkins
            .iter()
            .all(|c| matches!(c, CheckinChange::Started { .. }))
        && checkin_time.is_none()
        && update_cadence.is_none()
        && claim.is_empty()
        && consents.is_empty()
        && audits.is_empty()
        && acks.is_empty()
        && closes.is_empty()
        && relays.is_empty()
        && goal_changes.is_empty()
        && plan_answers.is_empty()
        && reviews.is_empty()
}

/// A turn waiting in a batch.
pub(crate) struct Pending<'a> {
    /// Whose conversation.
    pub person: PersonId,
    /// Its once-only key (none for a turn staff or the scheduler start without one).
    pub key: Option<InboundKey>,
    /// When it happens.
    pub now_ms: i64,
    /// Steps the stored conversation; an error fails this turn only.
    pub step: Box<dyn FnOnce(Conversation) -> Result<TurnWrites> + Send + 'a>,
}

/// The query that loads a conversation inside a turn; PostgreSQL locks its row, so two
/// instances cannot step the same conversation at once (SQLite has a single writer).
fn load_state(c: &Conn<'_>, person: PersonId) -> Sql {
    Sql::new(if c.is_postgres() {
        "SELECT state FROM conversations WHERE person_id = $1 FOR UPDATE"
    } else {
        "SELECT state FROM conversations WHERE person_id = $1"
    })
    .bind(person.0)
}

/// The conversation stored as `json` (none yet: a new one).
fn parse_state(person: PersonId, json: Option<&str>) -> Result<Conversation> {
    match json {
        None | Some("{}") => Ok(Conversation::default()),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("conversation of person {person}: {e}"))),
    }
}

/// Opens a savepoint: what one turn writes after it can be undone alone.
async fn savepoint(c: &mut Conn<'_>) -> Result<()> {
    c.execute(Sql::new("SAVEPOINT turn")).await.map(drop)
}

/// Closes the savepoint, keeping what was written since if `kept`, undoing it if not; the
/// rest of the transaction stays as it was. A failure here is the transaction's.
async fn release(c: &mut Conn<'_>, kept: bool) -> Result<()> {
    if !kept {
        c.execute(Sql::new("ROLLBACK TO turn")).await?;
    }
    c.execute(Sql::new("RELEASE turn")).await.map(drop)
}

/// One turn on its own: records its key (a replay ends it, as `None`), loads and locks the
/// conversation, steps it and writes what the step returns.
async fn one_turn(c: &mut Conn<'_>, t: Pending<'_>) -> Result<Option<TurnWrites>> {
    if let Some(k) = &t.key {
        if !record_inbound(c, k, t.now_ms).await? {
            return Ok(None);
        }
    }
    let stored: Option<(String,)> = c.fetch_optional(load_state(c, t.person)).await?;
    let state = parse_state(t.person, stored.as_ref().map(|(s,)| s.as_str()))?;
    let writes = (t.step)(state)?;
    write_turn(c, t.person, &writes, t.now_ms).await?;
    Ok(Some(writes))
}

/// Runs `turns` inside the transaction of `c`; one result per turn: `Ok(Some(writes))` ran,
/// `Ok(None)` its key was seen before, `Err` it failed and left nothing (not even its key, so
/// it can be retried). A failed statement of the batch itself is the outer `Err`: the caller
/// must then not commit.
async fn turns_in(
    c: &mut Conn<'_>,
    turns: Vec<Pending<'_>>,
) -> Result<Vec<Result<Option<TurnWrites>>>> {
    let mut seen = HashSet::with_capacity(turns.len());
    let distinct = turns.iter().all(|t| seen.insert(t.person));
    let mut results: Vec<Result<Option<TurnWrites>>> = Vec::with_capacity(turns.len());
    if !distinct {
        // Someone twice: turn by turn, so the second sees the first one's state.
        for t in turns {
            savepoint(c).await?;
            let result = one_turn(c, t).await;
            release(c, result.is_ok()).await?;
            results.push(result);
        }
        return Ok(results);
    }
    // 1. The once-only keys: a key already taken is a replay, and does not run. (Keys are
    // copied out: a step is `Send` but not `Sync`, so no reference to the turns may be held
    // across an await.)
    let mut keys: Vec<(InboundKey, i64)> = turns
        .iter()
        .filter_map(|t| t.key.clone().map(|k| (k, t.now_ms)))
        .collect();
    // In a fixed order, so two PostgreSQL instances inserting the same keys wait for each
    // other instead of deadlocking (the rows below are locked in id order too).
    keys.sort_by(|(a, _), (b, _)| (&a.platform, &a.event_id).cmp(&(&b.platform, &b.event_id)));
    let mut fresh: HashSet<(String, String)> = HashSet::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS) {
        let rows = chunk
            .iter()
            .map(|(k, now_ms)| {
                vec![
                    k.platform.as_str().into(),
                    k.event_id.as_str().into(),
                    (*now_ms).into(),
                ]
            })
            .collect();
        if let Some(q) = Sql::rows(
            inbound_event_insert!(),
            rows,
            "ON CONFLICT DO NOTHING RETURNING platform, event_id",
        ) {
            fresh.extend(c.fetch_all::<(String, String)>(q).await?);
        }
    }
    // A key given twice in one batch runs once: the first turn takes it.
    let runs: Vec<bool> = turns
        .iter()
        .map(|t| {
            t.key
                .as_ref()
                .is_none_or(|k| fresh.remove(&(k.platform.clone(), k.event_id.clone())))
        })
        .collect();
    // 2. The stored conversations of the turns that run (locked on PostgreSQL).
    let mut people: Vec<i64> = turns
        .iter()
        .zip(&runs)
        .filter(|(_, run)| **run)
        .map(|(t, _)| t.person.0)
        .collect();
    people.sort_unstable();
    let mut stored: HashMap<i64, String> = HashMap::with_capacity(people.len());
    for chunk in people.chunks(ROWS) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let lock = if c.is_postgres() { " FOR UPDATE" } else { "" };
        let mut q = Sql::new(&format!(
            "SELECT person_id, state FROM conversations WHERE person_id IN ({list}) ORDER BY person_id{lock}"
        ))
        .sequential();
        for id in chunk {
            q = q.bind(*id);
        }
        stored.extend(c.fetch_all::<(i64, String)>(q).await?);
    }
    // 3. Step each turn; rare writes go row by row now (in a savepoint), the rest is
    // gathered. A turn that fails gives its key back.
    let mut bulk: Vec<(PersonId, i64, TurnWrites)> = Vec::with_capacity(people.len());
    let mut slots: Vec<Option<usize>> = Vec::with_capacity(turns.len());
    for (t, run) in turns.into_iter().zip(runs) {
        if !run {
            results.push(Ok(None));
            slots.push(None);
            continue;
        }
        let (person, now_ms) = (t.person, t.now_ms);
        let stepped =
            parse_state(person, stored.get(&person.0).map(String::as_str)).and_then(t.step);
        let outcome = match stepped {
            Ok(writes) if bulk_only(&writes) => {
                bulk.push((person, now_ms, writes));
                slots.push(Some(bulk.len() - 1));
                results.push(Ok(None));
                continue;
            }
            Ok(writes) => {
                savepoint(c).await?;
                let written = write_turn(c, person, &writes, now_ms).await;
                release(c, written.is_ok()).await?;
                written.map(|()| Some(writes))
            }
            Err(e) => Err(e),
        };
        if outcome.is_err() {
            if let Some(k) = &t.key {
                c.execute(
                    Sql::new("DELETE FROM inbound_events WHERE platform = $1 AND event_id = $2")
                        .bind(k.platform.as_str())
                        .bind(k.event_id.as_str()),
                )
                .await?;
            }
        }
        results.push(outcome);
        slots.push(None);
    }
    // 4. The gathered rows, a statement per kind of row and chunk.
    write_bulk(c, &bulk).await?;
    // The bulk turns' writes go back to their callers.
    let mut written: Vec<Option<TurnWrites>> = bulk.into_iter().map(|(_, _, w)| Some(w)).collect();
    for (result, slot) in results.iter_mut().zip(slots) {
        if let Some(i) = slot {
            *result = Ok(written[i].take());
        }
    }
    Ok(results)
}

/// Writes the gathered turns' rows with multi-row statements, one per kind of row and chunk
/// (the same row builders as [`write_turn`]).
async fn write_bulk(c: &mut Conn<'_>, bulk: &[(PersonId, i64, TurnWrites)]) -> Result<()> {
    let mut answers = Vec::new();
    let mut outbox = Vec::new();
    let mut timers = Vec::new();
    let mut started = Vec::new();
    let mut states = Vec::with_capacity(bulk.len());
    for (p, now, w) in bulk {
        answers.extend(w.answers.iter().map(|a| answer_row(*p, a, *now)));
        for o in &w.outbox {
            outbox.push(outbox_row(o, *now)?);
        }
        timers.extend(w.timers.iter().map(|t| timer_row(*p, t)));
        started.extend(w.checkins.iter().filter_map(|change| match change {
            CheckinChange::Started { run, local_date } => {
                Some(started_row(*p, *run, local_date, *now))
            }
            _ => None,
        }));
        states.push(vec![p.0.into(), state_json(w)?.into(), (*now).into()]);
    }
    let statements = [
        (ANSWER_INSERT, answers, ""),
        // A key already queued is skipped, as on the row-by-row path.
        (
            outbox_insert!(),
            outbox,
            "ON CONFLICT (idem_key) DO NOTHING",
        ),
        (TIMER_INSERT, timers, ""),
        (CHECKIN_INSERT, started, ""),
        (STATE_INSERT, states, STATE_UPSERT),
    ];
    for (head, rows, tail) in statements {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(ROWS).collect();
            if let Some(q) = Sql::rows(head, chunk, tail) {
                c.execute(q).await?;
            }
        }
    }
    Ok(())
}

impl Db {
    /// Runs `pending` in one transaction and commits it; one result per turn (see
    /// [`turns_in`]). An `Err` overall means the batch was not committed: none of it stored.
    pub(crate) async fn run_batch(
        &self,
        pending: Vec<Pending<'_>>,
    ) -> Result<Vec<Result<Option<TurnWrites>>>> {
        let mut tx = self.begin().await?;
        let results = turns_in(&mut tx.conn(), pending).await?;
        tx.commit().await?;
        Ok(results)
    }
}

impl Store {
    /// Runs many turns in one transaction (one commit, one fsync): the scheduler's fan-out.
    /// Returns, per turn, whether it ran (false: its key had been seen before). Any failure
    /// fails the whole batch, and nothing of it is stored.
    pub async fn run_turns(&self, turns: Vec<BatchTurn<'_>>, now_ms: i64) -> Result<Vec<bool>> {
        let pending: Vec<Pending<'_>> = turns
            .into_iter()
            .map(|t| {
                let step = t.step;
                Pending {
                    person: t.person,
                    key: Some(t.key),
                    now_ms,
                    step: Box::new(move |s| Ok(step(s))),
                }
            })
            .collect();
        let mut tx = self.db().begin().await?;
        let results = turns_in(&mut tx.conn(), pending).await?;
        let ran = results
            .into_iter()
            .map(|r| r.map(|w| w.is_some()))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(ran)
    }
}
