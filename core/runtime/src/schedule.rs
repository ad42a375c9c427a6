//! The scheduler's runtime half: each `tick` starts the daily check-ins that have fallen due
//! since the last tick (see [`carebot_engine::scheduler`] for the local-time rules) and fires due
//! follow-up timers. Every start and every timer is an ordinary engine turn, keyed so the
//! store accepts it once: ticking twice, restarting, or running two instances on PostgreSQL
//! never sends a check-in twice.

use super::effects::{self, Extras};
use super::Carebot;
use carebot_engine::domain::Profile;
use carebot_engine::engine::turn::CHECKIN;
use carebot_engine::engine::{self, Context, Input};
use carebot_engine::ids::PersonId;
use carebot_engine::scheduler::occurrences;
use carebot_store::people::Identity;
use carebot_store::turn::BatchTurn;
use carebot_store::turn::InboundKey;
use carebot_store::Result;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

/// Timing of scheduled check-ins and their follow-ups.
#[derive(Clone, Debug)]
pub struct SchedulePolicy {
    /// One gentle reminder after this long with no answer.
    pub nudge_after: Duration,
    /// Recorded as missed after this long with no answer.
    pub missed_after: Duration,
    /// The keyworker is alerted after this many missed in a row.
    pub alert_after_misses: u32,
    /// After downtime, check-ins due longer ago than this are not sent late.
    pub catch_up: Duration,
    /// Local time family updates go out ("HH:MM"); weekly ones on Sundays.
    pub update_time: String,
    /// An alert not acknowledged within this long goes to the resident's manager too.
    pub ack_within: Duration,
    /// Local time of the morning jobs for staff (review reminders, digest), "HH:MM".
    pub staff_time: String,
    /// A review this many days overdue is also sent to the manager.
    pub manager_after_days: u32,
    /// Whether keyworkers get a morning digest.
    pub digest: bool,
    /// The on-call member of staff's handle: told, with the managers, of an alert nobody
    /// acknowledged in time (`[safeguarding] on_call`).
    pub on_call: Option<String>,
    /// The number given to a resident whose alert could reach nobody by message
    /// (`[safeguarding] phone`); the home's number when unset.
    pub phone: Option<String>,
    /// Days conversation records are kept (`[retention] turns_days`); 0 keeps them.
    pub retention_days: u32,
    /// Days after an "ask me later" before the resident is asked again, once
    /// (`[schedule] ask_again_after_days`); 0 never asks again.
    pub ask_again_after_days: u32,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        Self {
            nudge_after: Duration::minutes(60),
            missed_after: Duration::minutes(180),
            alert_after_misses: 2,
            catch_up: Duration::hours(6),
            update_time: "18:00".into(),
            ack_within: Duration::minutes(30),
            staff_time: "08:00".into(),
            manager_after_days: 3,
            digest: true,
            on_call: None,
            phone: None,
            retention_days: 90,
            ask_again_after_days: 14,
        }
    }
}

/// The once-only key of a person's scheduled check-in on a local date.
pub fn checkin_key(person: PersonId, local_date: &str) -> InboundKey {
    InboundKey {
        platform: "scheduler".into(),
        event_id: format!("checkin.{person}.{local_date}"),
    }
}

/// What a tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Check-ins started.
    pub started: usize,
    /// Timers handled.
    pub timers: usize,
    /// Family updates queued.
    pub updates: usize,
    /// Alerts passed on to managers.
    pub escalated: usize,
    /// Messages to staff from the morning jobs (review reminders, digests).
    pub staff_messages: u64,
    /// Old conversation records deleted by retention.
    pub retention_deleted: u64,
    /// Residents asked again about an "ask me later".
    pub asked_again: usize,
    /// What failed, pass by pass (`"check-ins: …"`), with no personal details. Every other
    /// pass, and every other person, still ran.
    pub errors: Vec<String>,
}

const MARK: &str = "checkin";

/// Scheduled check-ins started per transaction: one commit for many, while holding the SQLite
/// writer only briefly (interactive turns wait at most one batch).
const BATCH: usize = 250;

/// Runs one pass of the tick: its error is reported in `errors`, and the tick goes on.
async fn pass<T: Default>(
    errors: &mut Vec<String>,
    name: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> T {
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            errors.push(format!("{name}: {e}"));
            T::default()
        }
        Err(_) => {
            errors.push(format!("{name}: the pass panicked"));
            T::default()
        }
    }
}

impl Carebot {
    /// Starts due check-ins and fires due timers. Call it every minute or so.
    ///
    /// Safeguarding runs first, and each pass runs on its own: a pass that fails is reported
    /// in [`TickReport::errors`] and the next one still runs; inside the check-in and timer
    /// passes a turn that fails (or panics) is left out alone. One unreadable conversation
    /// never stops an alert from climbing the ladder, nor anyone else's check-in.
    pub async fn tick(&self) -> Result<TickReport> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        let mut errors = Vec::new();
        report.escalated = pass(&mut errors, "safeguarding", self.safeguard(now)).await;
        let mut failed = Vec::new();
        report.started = pass(
            &mut errors,
            "check-ins",
            self.due_checkins(now, &mut failed),
        )
        .await;
        errors.extend(failed);
        let mut failed = Vec::new();
        report.timers = pass(&mut errors, "timers", self.due_timers(now, &mut failed)).await;
        errors.extend(failed);
        report.updates = pass(
            &mut errors,
            "family updates",
            self.queue_family_updates(now),
        )
        .await;
        // A second look after the other passes: alerts they raised climb on time too.
        report.escalated += pass(&mut errors, "safeguarding", self.safeguard(now)).await;
        report.staff_messages = pass(&mut errors, "morning jobs", self.morning_jobs(now)).await;
        report.retention_deleted = pass(&mut errors, "retention", self.retention(now)).await;
        let mut failed = Vec::new();
        report.asked_again = pass(
            &mut errors,
            "ask me later",
            self.ask_later_again(now, &mut failed),
        )
        .await;
        errors.extend(failed);
        for e in &errors {
            tracing::error!(problem = %e, "a scheduler pass did not finish; the others ran");
        }
        report.errors = errors;
        Ok(report)
    }

    /// The check-ins due since the scheduler last ran, started; then the mark moves on.
    async fn due_checkins(&self, now: DateTime<Utc>, failed: &mut Vec<String>) -> Result<usize> {
        let floor = now - self.schedule.catch_up;
        let last = self
            .store
            .scheduler_mark(MARK)
            .await?
            .and_then(DateTime::from_timestamp_millis);
        let after = last.map_or(floor, |l| l.max(floor));
        let mut due = Vec::new();
        // Most residents share a handful of check-in times: each time's due dates are worked
        // out once, not once per resident (a time that does not parse is never due).
        let mut dates_for: HashMap<String, Vec<NaiveDate>> = HashMap::new();
        let tz = self.settings.timezone;
        for (person, time) in self.store.checkin_times().await? {
            let dates = dates_for.entry(time).or_insert_with_key(|time| {
                NaiveTime::parse_from_str(time, "%H:%M")
                    .map(|t| {
                        occurrences(t, tz, after, now)
                            .into_iter()
                            .map(|(date, _)| date)
                            .collect()
                    })
                    .unwrap_or_default()
            });
            due.extend(dates.iter().map(|date| (person, *date)));
        }
        let started = self.start_checkins(&due, now, failed).await?;
        // A clock that stepped backwards does not move the mark back: nothing fires twice.
        // People whose check-in failed are reported; the mark still moves, so they do not
        // hold up everyone else's next tick.
        let mark = last.map_or(now, |l| l.max(now));
        self.store
            .set_scheduler_mark(MARK, mark.timestamp_millis())
            .await?;
        Ok(started)
    }

    /// Fires the timers that are due. A timer whose turn fails is reported and left for the
    /// next tick; the others still fire.
    async fn due_timers(&self, now: DateTime<Utc>, failed: &mut Vec<String>) -> Result<usize> {
        let mut fired = 0;
        let mut skip: std::collections::HashSet<i64> = std::collections::HashSet::new();
        loop {
            let due: Vec<_> = self
                .store
                .due_timers(now.timestamp_millis(), 500 + skip.len() as i64)
                .await?
                .into_iter()
                .filter(|t| !skip.contains(&t.id))
                .collect();
            if due.is_empty() {
                break;
            }
            for timer in due {
                let id = timer.id;
                let person = timer.person;
                let key = InboundKey {
                    platform: "timer".into(),
                    event_id: timer.id.to_string(),
                };
                let input = Input::Timer {
                    kind: timer.kind,
                    flow: timer.flow,
                    run: timer.run,
                };
                let outcome = AssertUnwindSafe(async {
                    match self.store.preferred_identity(person).await? {
                        Some(who) => {
                            self.turn(person, &who, Some(&key), input, now, Some(id))
                                .await?;
                        }
                        None => self.store.finish_timer(id, now.timestamp_millis()).await?,
                    }
                    Ok::<(), carebot_store::StoreError>(())
                })
                .catch_unwind()
                .await;
                match outcome {
                    Ok(Ok(())) => fired += 1,
                    Ok(Err(e)) => {
                        skip.insert(id);
                        failed.push(format!("timers: timer {id} (person {person}): {e}"));
                    }
                    Err(_) => {
                        skip.insert(id);
                        failed.push(format!(
                            "timers: timer {id} (person {person}): the turn panicked"
                        ));
                    }
                }
            }
        }
        Ok(fired)
    }

    /// Starts each `(person, local date)` check-in once, in batches of [`BATCH`] turns per
    /// transaction. Returns how many keys were fresh (a resident who is paused or busy in
    /// another flow uses the day's key without being prompted; one with no account is skipped).
    async fn start_checkins(
        &self,
        due: &[(PersonId, NaiveDate)],
        now: DateTime<Utc>,
        failed: &mut Vec<String>,
    ) -> Result<usize> {
        if due.is_empty() {
            return Ok(0);
        }
        // Two independent reads, on two pooled connections at once.
        let (profiles, accounts) = tokio::try_join!(
            self.store.resident_profiles(),
            self.store.preferred_identities()
        )?;
        // PostgreSQL takes several batches at once: no one is in two of them (after downtime a
        // resident may be due on two days; both stay in one batch, which runs them in order),
        // and rows are locked in id order, so batches neither clash nor deadlock. SQLite has
        // one writer, and takes them one by one.
        let limit = self.store.concurrent_batches();
        let mut chunks = batches(due, BATCH).into_iter();
        let mut running = FuturesUnordered::new();
        let mut started = 0;
        loop {
            while running.len() < limit {
                let Some(chunk) = chunks.next() else { break };
                running.push(self.guarded_batch(chunk, &profiles, &accounts, now));
            }
            let Some((chunk, fresh)) = running.next().await else {
                break;
            };
            match fresh {
                Ok(n) => started += n,
                // One bad conversation must not cost the whole batch its check-ins: try the
                // halves on their own, down to the one person whose turn fails.
                Err(e) => {
                    started += self
                        .split_failed(chunk, e, &profiles, &accounts, now, failed)
                        .await
                }
            }
        }
        Ok(started)
    }

    /// Starts `chunk` as one batch, splitting it again on failure; failures are reported.
    async fn start_alone(
        &self,
        chunk: &[(PersonId, NaiveDate)],
        profiles: &HashMap<PersonId, Profile>,
        accounts: &HashMap<PersonId, Identity>,
        now: DateTime<Utc>,
        failed: &mut Vec<String>,
    ) -> usize {
        match self.guarded_batch(chunk, profiles, accounts, now).await.1 {
            Ok(n) => n,
            Err(e) => {
                self.split_failed(chunk, e, profiles, accounts, now, failed)
                    .await
            }
        }
    }

    /// A batch that failed with `e`: its halves are tried alone; a batch of one is reported.
    async fn split_failed(
        &self,
        chunk: &[(PersonId, NaiveDate)],
        e: String,
        profiles: &HashMap<PersonId, Profile>,
        accounts: &HashMap<PersonId, Identity>,
        now: DateTime<Utc>,
        failed: &mut Vec<String>,
    ) -> usize {
        if chunk.len() > 1 {
            let (a, b) = chunk.split_at(chunk.len() / 2);
            let mut n = Box::pin(self.start_alone(a, profiles, accounts, now, failed)).await;
            n += Box::pin(self.start_alone(b, profiles, accounts, now, failed)).await;
            return n;
        }
        let who = chunk
            .first()
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        failed.push(format!("check-ins: person {who}: {e}"));
        0
    }

    /// One batch, with a panic inside it turned into an error.
    async fn guarded_batch<'c>(
        &self,
        chunk: &'c [(PersonId, NaiveDate)],
        profiles: &HashMap<PersonId, Profile>,
        accounts: &HashMap<PersonId, Identity>,
        now: DateTime<Utc>,
    ) -> (
        &'c [(PersonId, NaiveDate)],
        std::result::Result<usize, String>,
    ) {
        let run = AssertUnwindSafe(self.start_batch(chunk, profiles, accounts, now))
            .catch_unwind()
            .await;
        let result = match run {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("a turn panicked".to_string()),
        };
        (chunk, result)
    }

    /// Starts one batch of check-ins in one transaction; returns how many keys were fresh.
    async fn start_batch(
        &self,
        chunk: &[(PersonId, NaiveDate)],
        profiles: &HashMap<PersonId, Profile>,
        accounts: &HashMap<PersonId, Identity>,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let ready: Vec<_> = chunk
            .iter()
            .filter_map(|(p, d)| {
                Some((
                    profiles.get(p)?,
                    accounts.get(p)?,
                    d.format("%Y-%m-%d").to_string(),
                ))
            })
            .collect();
        let contexts: Vec<Context<'_>> = ready
            .iter()
            .map(|(profile, _, _)| Context {
                dialogs: &self.dialogs,
                profile,
                settings: &self.settings,
            })
            .collect();
        let extras: Vec<Extras<'_>> = ready
            .iter()
            .map(|(_, _, date)| Extras {
                policy: &self.schedule,
                now_ms: now.timestamp_millis(),
                local_date: date.clone(),
                missed_before: 0,
                timer: None,
                family_updates: Vec::new(),
                staff_summaries: Vec::new(),
            })
            .collect();
        let turns = ready
            .iter()
            .zip(&contexts)
            .zip(&extras)
            .map(|(((profile, who, date), ctx), x)| BatchTurn {
                person: profile.id,
                key: checkin_key(profile.id, date),
                step: Box::new(move |state| {
                    let (state, fx) = engine::step(
                        ctx,
                        state,
                        Input::Start {
                            flow: CHECKIN.into(),
                        },
                        now,
                    );
                    effects::to_writes(ctx, who, state, fx, x)
                }),
            })
            .collect();
        Ok(self
            .store
            .run_turns(turns, now.timestamp_millis())
            .await?
            .into_iter()
            .filter(|ran| *ran)
            .count())
    }
}

/// Splits `due` (each person's days next to each other) into batches of about `size`, never
/// parting one person's days.
fn batches(due: &[(PersonId, NaiveDate)], size: usize) -> Vec<&[(PersonId, NaiveDate)]> {
    let mut out = Vec::with_capacity(due.len() / size.max(1) + 1);
    let mut rest = due;
    while !rest.is_empty() {
        let mut end = size.max(1).min(rest.len());
        while end < rest.len() && rest[end].0 == rest[end - 1].0 {
            end += 1;
        }
        let (batch, tail) = rest.split_at(end);
        out.push(batch);
        rest = tail;
    }
    out
}

const STAFF_MARK: &str = "staff_morning";

impl Carebot {
    /// The morning jobs for staff, once per local day at `staff_time`.
    async fn morning_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        let last = self
            .store
            .scheduler_mark(STAFF_MARK)
            .await?
            .and_then(DateTime::from_timestamp_millis);
        let floor = now - self.schedule.catch_up;
        let after = last.map_or(floor, |l| l.max(floor));
        let time =
            NaiveTime::parse_from_str(&self.schedule.staff_time, "%H:%M").unwrap_or(NaiveTime::MIN);
        let mut queued = 0;
        for (date, _) in occurrences(time, self.settings.timezone, after, now) {
            queued += self.review_reminders(date, now).await?;
            if self.schedule.digest {
                queued += self.digests(date, now).await?;
            }
        }
        let mark = last.map_or(now, |l| l.max(now));
        self.store
            .set_scheduler_mark(STAFF_MARK, mark.timestamp_millis())
            .await?;
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("a date")
    }

    #[test]
    fn batches_keep_each_persons_days_together_and_lose_nothing() {
        // Person 2 is due on three days (after downtime), across the first boundary.
        let due = vec![
            (PersonId(1), day(20)),
            (PersonId(2), day(20)),
            (PersonId(2), day(21)),
            (PersonId(2), day(22)),
            (PersonId(3), day(22)),
            (PersonId(4), day(22)),
        ];
        let got = batches(&due, 2);
        let sizes: Vec<usize> = got.iter().map(|b| b.len()).collect();
        assert_eq!(sizes, vec![4, 2]);
        assert_eq!(got.concat(), due);
        for (i, a) in got.iter().enumerate() {
            for b in &got[i + 1..] {
                assert!(a.iter().all(|(p, _)| b.iter().all(|(q, _)| p != q)));
            }
        }
    }

    #[test]
    fn batches_of_nothing_are_none() {
        assert!(batches(&[], BATCH).is_empty());
    }
}
