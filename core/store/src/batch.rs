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

use super::turn::{turn_in_tx, BatchTurn, CheckinChange, InboundKey, TurnWrites};
use super::{with_db, Result, Store, StoreError};
use carebot_engine::engine::Conversation;
use carebot_engine::ids::PersonId;
use sqlx::QueryBuilder;
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

/// Runs `$turns` (a `Vec<Pending>`) inside transaction `$tx`; evaluates to one result per turn:
/// `Ok(Some(writes))` ran, `Ok(None)` its key was seen before, `Err` it failed and left nothing
/// (not even its key, so it can be retried). A failed statement of the batch itself returns
/// the error from the enclosing function: the caller must then not commit.
macro_rules! turns_in_tx {
    ($store:expr, $tx:ident, $turns:expr) => {{
        let turns: Vec<Pending<'_>> = $turns;
        let mut seen = HashSet::with_capacity(turns.len());
        let distinct = turns.iter().all(|t| seen.insert(t.person));
        let mut results: Vec<Result<Option<TurnWrites>>> = Vec::with_capacity(turns.len());
        if !distinct {
            let load = $store.load_state_sql();
            for t in turns {
                sqlx::query("SAVEPOINT turn").execute(&mut *$tx).await?;
                let step = t.step;
                let result: Result<Option<TurnWrites>> =
                    async { Ok(turn_in_tx!($store, $tx, load, t.person, t.key.as_ref(), t.now_ms, step)) }.await;
                if result.is_err() {
                    sqlx::query("ROLLBACK TO turn").execute(&mut *$tx).await?;
                }
                sqlx::query("RELEASE turn").execute(&mut *$tx).await?;
                results.push(result);
            }
        } else {
            // 1. The once-only keys: a key already taken is a replay, and does not run. (Keys
            // are copied out: a step is `Send` but not `Sync`, so no reference to the turns
            // may be held across an await.)
            let mut keys: Vec<(InboundKey, i64)> = turns.iter().filter_map(|t| t.key.clone().map(|k| (k, t.now_ms))).collect();
            // In a fixed order, so two PostgreSQL instances inserting the same keys wait for
            // each other instead of deadlocking (the rows below are locked in id order too).
            keys.sort_by(|(a, _), (b, _)| (&a.platform, &a.event_id).cmp(&(&b.platform, &b.event_id)));
            let mut fresh: HashSet<(String, String)> = HashSet::with_capacity(keys.len());
            for chunk in keys.chunks(ROWS) {
                let mut q = QueryBuilder::new(crate::sql::inbound_event_insert!());
                q.push_values(chunk, |mut row, (k, now_ms)| {
                    row.push_bind(k.platform.clone()).push_bind(k.event_id.clone()).push_bind(*now_ms);
                });
                q.push(" ON CONFLICT DO NOTHING RETURNING platform, event_id");
                fresh.extend(q.build_query_as::<(String, String)>().fetch_all(&mut *$tx).await?);
            }
            // A key given twice in one batch runs once: the first turn takes it.
            let runs: Vec<bool> = turns.iter().map(|t| t.key.as_ref()
                .map_or(true, |k| fresh.remove(&(k.platform.clone(), k.event_id.clone())))).collect();
            // 2. The stored conversations of the turns that run (locked on PostgreSQL).
            let mut people: Vec<i64> = turns.iter().zip(&runs).filter(|(_, run)| **run).map(|(t, _)| t.person.0).collect();
            people.sort_unstable();
            let mut stored: HashMap<i64, String> = HashMap::with_capacity(people.len());
            for chunk in people.chunks(ROWS) {
                let mut q = QueryBuilder::new("SELECT person_id, state FROM conversations WHERE person_id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(*id);
                }
                q.push(") ORDER BY person_id");
                if matches!($store, Store::Postgres(_)) {
                    q.push(" FOR UPDATE");
                }
                stored.extend(q.build_query_as::<(i64, String)>().fetch_all(&mut *$tx).await?);
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
                let stepped = match stored.get(&person.0).map(String::as_str) {
                    None | Some("{}") => Ok(Conversation::default()),
                    Some(json) => serde_json::from_str(json)
                        .map_err(|e| StoreError::Corrupt(format!("conversation of person {person}: {e}"))),
                }
                .and_then(t.step);
                let outcome = match stepped {
                    Ok(writes) if bulk_only(&writes) => {
                        bulk.push((person, now_ms, writes));
                        slots.push(Some(bulk.len() - 1));
                        results.push(Ok(None));
                        continue;
                    }
                    Ok(writes) => {
                        sqlx::query("SAVEPOINT turn").execute(&mut *$tx).await?;
                        let written: Result<()> = async {
                            $crate::writes::write_turn!($store, $tx, person, writes, now_ms);
                            Ok(())
                        }.await;
                        if written.is_err() {
                            sqlx::query("ROLLBACK TO turn").execute(&mut *$tx).await?;
                        }
                        sqlx::query("RELEASE turn").execute(&mut *$tx).await?;
                        written.map(|()| Some(writes))
                    }
                    Err(e) => Err(e),
                };
                if outcome.is_err() {
                    if let Some(k) = &t.key {
                        sqlx::query("DELETE FROM inbound_events WHERE platform = $1 AND event_id = $2")
                            .bind(&k.platform).bind(&k.event_id).execute(&mut *$tx).await?;
                    }
                }
                results.push(outcome);
                slots.push(None);
            }
            // 4. The gathered rows, a statement per kind of row and chunk.
            let answers: Vec<_> = bulk.iter().flat_map(|(p, now, w)| w.answers.iter().map(move |a| (*p, *now, a))).collect();
            for chunk in answers.chunks(ROWS) {
                let mut q = QueryBuilder::new("INSERT INTO answers (person_id, flow, flow_version, run, step, answer_key, goal_id, value, raw, truncated_from, answered_ms) ");
                q.push_values(chunk, |mut row, (p, now, a)| {
                    row.push_bind(p.0).push_bind(a.flow.clone()).push_bind(a.version.clone()).push_bind(a.run as i64)
                        .push_bind(a.step.clone()).push_bind(a.key.clone()).push_bind(a.goal.map(|g| g.0))
                        .push_bind(a.value.to_string()).push_bind(a.raw.clone())
                        .push_bind(a.truncated_from.map(|n| n as i64)).push_bind(*now);
                });
                q.build().execute(&mut *$tx).await?;
            }
            let mut outbox = Vec::new();
            for (o, now) in bulk.iter().flat_map(|(_, now, w)| w.outbox.iter().map(move |o| (o, *now))) {
                let categories = (!o.categories.is_empty()).then(|| serde_json::json!(o.categories).to_string());
                outbox.push((o, now, $crate::turn::payload(&o.message)?, categories));
            }
            for chunk in outbox.chunks(ROWS) {
                let mut q = QueryBuilder::new(crate::sql::outbox_insert!());
                q.push_values(chunk, |mut row, (o, now, payload, categories)| {
                    row.push_bind(o.key.clone()).push_bind(o.person.map(|p| p.0)).push_bind(o.platform.clone())
                        .push_bind(o.address.clone()).push_bind(payload.clone()).push_bind(o.message.sensitive)
                        .push_bind("pending").push_bind(*now).push_bind(*now)
                        .push_bind(o.about.map(|p| p.0)).push_bind(categories.clone());
                });
                // A key already queued is skipped, as on the one-turn path.
                q.push(" ON CONFLICT (idem_key) DO NOTHING");
                q.build().execute(&mut *$tx).await?;
            }
            let timers: Vec<_> = bulk.iter().flat_map(|(p, _, w)| w.timers.iter().map(move |t| (*p, t))).collect();
            for chunk in timers.chunks(ROWS) {
                let mut q = QueryBuilder::new("INSERT INTO timers (person_id, kind, flow, run, due_ms) ");
                q.push_values(chunk, |mut row, (p, t)| {
                    row.push_bind(p.0).push_bind(t.kind).push_bind(t.flow.clone()).push_bind(t.run as i64).push_bind(t.due_ms);
                });
                q.build().execute(&mut *$tx).await?;
            }
            let started: Vec<_> = bulk.iter().flat_map(|(p, now, w)| w.checkins.iter().filter_map(move |c| match c {
                CheckinChange::Started { run, local_date } => Some((*p, *now, *run, local_date)),
                _ => None,
            })).collect();
            for chunk in started.chunks(ROWS) {
                let mut q = QueryBuilder::new("INSERT INTO checkins (person_id, run, local_date, status, started_ms) ");
                q.push_values(chunk, |mut row, (p, now, run, date)| {
                    row.push_bind(p.0).push_bind(*run as i64).push_bind((*date).clone()).push_bind("started").push_bind(*now);
                });
                q.build().execute(&mut *$tx).await?;
            }
            let mut states = Vec::with_capacity(bulk.len());
            for (p, now, w) in &bulk {
                states.push((p.0, *now, serde_json::to_string(&w.state).map_err(|e| StoreError::Corrupt(e.to_string()))?));
            }
            for chunk in states.chunks(ROWS) {
                let mut q = QueryBuilder::new("INSERT INTO conversations (person_id, state, updated_ms) ");
                q.push_values(chunk, |mut row, (p, now, state)| {
                    row.push_bind(*p).push_bind(state.clone()).push_bind(*now);
                });
                q.push(" ON CONFLICT (person_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms");
                q.build().execute(&mut *$tx).await?;
            }
            // The bulk turns' writes go back to their callers.
            let mut written: Vec<Option<TurnWrites>> = bulk.into_iter().map(|(_, _, w)| Some(w)).collect();
            for (result, slot) in results.iter_mut().zip(slots) {
                if let Some(i) = slot {
                    *result = Ok(written[i].take());
                }
            }
        }
        results
    }};
}

impl Store {
    /// Runs `pending` in one transaction and commits it; one result per turn (see
    /// `turns_in_tx!`). An `Err` overall means the batch was not committed: none of it stored.
    pub(crate) async fn run_batch(
        &self,
        pending: Vec<Pending<'_>>,
    ) -> Result<Vec<Result<Option<TurnWrites>>>> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let results = turns_in_tx!(self, tx, pending);
            tx.commit().await?;
            Ok(results)
        })
    }

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
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let results = turns_in_tx!(self, tx, pending);
            let ran = results.into_iter().map(|r| r.map(|w| w.is_some())).collect::<Result<Vec<_>>>()?;
            tx.commit().await?;
            Ok(ran)
        })
    }
}
