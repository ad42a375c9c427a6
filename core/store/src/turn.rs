//! One conversation turn in one transaction: the transactional outbox.
//!
//! Inside a single transaction the store records the inbound event (a replay stops here),
//! locks and loads the conversation, lets the caller step the engine, then writes the answers,
//! alerts, outgoing messages and the new state. Nothing is sent until this commits, so every
//! answer is stored before it is acknowledged, and a crash at any point leaves either the
//! whole turn or none of it.

use super::audit::AuditEntry;
use super::conn::{Arg, Conn, Sql};
use super::outbox::OutboxStatus;
use super::schedule::CheckinStatus;
use super::sql::{inbound_event_insert, outbox_insert};
use super::{Result, Store, StoreError};
use carebot_engine::domain::{Basis, Decision};
use carebot_engine::engine::{AnswerRecord, Conversation, OutMessage, TimerKind};
use carebot_engine::flow::Target;
use carebot_engine::ids::PersonId;

/// A platform event id, unique per platform.
#[derive(Clone, Debug)]
pub struct InboundKey {
    /// "console", "matrix", "discord".
    pub platform: String,
    /// The platform's id for the event (Matrix event id, Discord message or interaction id).
    pub event_id: String,
}

/// A message to queue.
#[derive(Clone, Debug, Default)]
pub struct NewOutbox {
    /// Idempotency key, passed to the platform (Matrix txn id, Discord nonce).
    pub key: String,
    /// Recipient, when known.
    pub person: Option<PersonId>,
    /// Platform.
    pub platform: String,
    /// Where on the platform.
    pub address: String,
    /// What.
    pub message: OutMessage,
    /// For messages about a resident (family updates): whom.
    pub about: Option<PersonId>,
    /// For family updates: the consent categories it carries, so a withdrawal can stop it.
    pub categories: Vec<String>,
}

/// A consent decision to record.
#[derive(Clone, Debug)]
pub struct NewConsent {
    /// The family member.
    pub family: PersonId,
    /// Category id.
    pub category: String,
    /// The decision.
    pub decision: Decision,
    /// What the resident was asked (or said).
    pub wording: String,
    /// Version of that wording.
    pub wording_version: String,
    /// Where: the platform.
    pub channel: String,
    /// On what basis.
    pub basis: Basis,
    /// Who recorded it (the resident themselves, or staff).
    pub recorded_by: PersonId,
}

/// An alert to raise. The store fans it out to every active staff member of the target role
/// for the resident who has a chat account, in the same transaction.
#[derive(Clone, Debug)]
pub struct NewAlert {
    /// The resident it is about.
    pub about: PersonId,
    /// Who must hear about it.
    pub target: Target,
    /// Why.
    pub reason: String,
    /// The resident's own words.
    pub words: Option<String>,
    /// The message staff receive.
    pub message: OutMessage,
    /// The resident's managers are told at once too (an urgent concern).
    pub copy_to_manager: bool,
    /// Set for a resident's request (`complaint`): tracked until staff close it. Its
    /// message may hold [`ALERT_NUMBER`], replaced by the number the store gives it.
    pub request: Option<String>,
}

/// Where a request's number goes in the message to staff ("close 12 …"): the store gives
/// the number as it writes the row, after the message was rendered.
pub const ALERT_NUMBER: &str = "\u{2060}#alert#\u{2060}";

/// A member of staff closing a resident's request.
#[derive(Clone, Debug)]
pub struct NewClose {
    /// The request's number.
    pub request: i64,
    /// What was done, as they wrote it.
    pub outcome: String,
    /// What the resident is told (their words, and who wrote them).
    pub notice: OutMessage,
}

/// A message passed on between a resident and a member of their family, in the sender's words.
#[derive(Clone, Debug)]
pub struct NewRelay {
    /// Whom it is for: it goes to every account of theirs that can be reached.
    pub to: PersonId,
    /// The resident it is between (the audit row's subject).
    pub resident: PersonId,
    /// Unique to this message (the outbox key starts with it).
    pub key: String,
    /// What they receive.
    pub notice: OutMessage,
}

/// A member of staff acknowledging alerts.
#[derive(Clone, Debug)]
pub struct NewAck {
    /// One alert by number, or (None) every open alert about their residents.
    pub alert: Option<i64>,
    /// What each resident whose alert (raised from their own words) this acknowledges is
    /// told, once per resident: who has seen it.
    pub notice: OutMessage,
}

/// A follow-up timer to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTimer {
    /// A nudge, or the moment the run counts as missed.
    pub kind: TimerKind,
    /// Flow it follows up.
    pub flow: String,
    /// Run it follows up.
    pub run: u64,
    /// When it fires.
    pub due_ms: i64,
}

/// A change to the record of scheduled check-ins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckinChange {
    /// A scheduled check-in began, for the home's local date.
    Started {
        /// Run id.
        run: u64,
        /// "YYYY-MM-DD".
        local_date: String,
    },
    /// It ended, completed or missed.
    Ended {
        /// Run id.
        run: u64,
        /// New status.
        status: CheckinStatus,
    },
    /// A check-in run came to its end: the scheduler's row for it is completed, or, for a
    /// check-in the person asked for themselves, a completed row is recorded for `local_date`.
    Done {
        /// Run id.
        run: u64,
        /// The local day it began ("YYYY-MM-DD").
        local_date: String,
    },
    /// The person skipped the check-in of this local date.
    Skipped {
        /// "YYYY-MM-DD".
        local_date: String,
    },
}

/// One turn of a batch (see [`Store::run_turns`]).
pub struct BatchTurn<'a> {
    /// Whose conversation.
    pub person: PersonId,
    /// Its once-only key.
    pub key: InboundKey,
    /// Steps the stored conversation and says what to write.
    pub step: Box<dyn FnOnce(Conversation) -> TurnWrites + Send + 'a>,
}

/// Everything a turn writes.
#[derive(Clone, Debug, Default)]
pub struct TurnWrites {
    /// The conversation after the turn.
    pub state: Conversation,
    /// Answers to keep.
    pub answers: Vec<AnswerRecord>,
    /// Alerts to raise.
    pub alerts: Vec<NewAlert>,
    /// Messages to queue.
    pub outbox: Vec<NewOutbox>,
    /// Timers to set.
    pub timers: Vec<NewTimer>,
    /// Timers this turn has handled.
    pub timers_done: Vec<i64>,
    /// Check-in records to write.
    pub checkins: Vec<CheckinChange>,
    /// A new daily check-in time ("HH:MM").
    pub checkin_time: Option<String>,
    /// How often this family member now hears ("daily" or "weekly").
    pub update_cadence: Option<String>,
    /// Scheduler keys to mark as done without running them (skipping today).
    pub claim: Vec<InboundKey>,
    /// Consent decisions (each audited; a "no" stops queued updates at once).
    pub consents: Vec<NewConsent>,
    /// Other audit rows (e.g. a disclosure to family).
    pub audits: Vec<AuditEntry>,
    /// Alerts this member of staff acknowledges.
    pub acks: Vec<NewAck>,
    /// Requests this member of staff closes.
    pub closes: Vec<NewClose>,
    /// Messages passed on between a resident and their family.
    pub relays: Vec<NewRelay>,
    /// The resident's answers about their care plan.
    pub plan_answers: Vec<super::plans::NewPlanAnswer>,
    /// Changes the resident makes to their own goals (`None`: a new goal).
    pub goal_changes: Vec<(
        Option<carebot_engine::ids::GoalId>,
        carebot_engine::domain::GoalChange,
    )>,
    /// Care-plan reviews this member of staff records.
    pub reviews: Vec<NewReview>,
}

/// A care-plan review a member of staff records, and what the resident is told of it.
#[derive(Clone, Debug)]
pub struct NewReview {
    /// The resident.
    pub resident: PersonId,
    /// When it happened ("YYYY-MM-DD").
    pub date: String,
    /// Whether the resident took part.
    pub took_part: bool,
    /// When the next is due ("YYYY-MM-DD").
    pub next_due: String,
    /// The resident's notice (the review's date, what was agreed in the staff's words, the
    /// next date), queued to each of their reachable accounts only when the review is
    /// recorded (the member of staff looks after them).
    pub notice: OutMessage,
}

/// `o` as an outbox row queued at `now_ms`, in the column order of `outbox_insert!`. The one
/// builder of outbox rows: a lone message and the fan-out's multi-row statements both use it.
pub(crate) fn outbox_row(o: &NewOutbox, now_ms: i64) -> Result<Vec<Arg>> {
    let categories =
        (!o.categories.is_empty()).then(|| serde_json::json!(o.categories).to_string());
    Ok(vec![
        o.key.as_str().into(),
        o.person.map(|p| p.0).into(),
        o.platform.as_str().into(),
        o.address.as_str().into(),
        payload(&o.message)?.into(),
        o.message.sensitive.into(),
        OutboxStatus::Pending.as_sql().into(),
        now_ms.into(),
        now_ms.into(),
        o.about.map(|p| p.0).into(),
        categories.into(),
    ])
}

/// Queues `o`. A key already queued is skipped, which is what makes scheduled messages
/// exactly-once. The rows inserted (0 or 1).
pub(crate) async fn queue_message(c: &mut Conn<'_>, o: &NewOutbox, now_ms: i64) -> Result<u64> {
    let q = Sql::row(
        outbox_insert!(),
        outbox_row(o, now_ms)?,
        "ON CONFLICT (idem_key) DO NOTHING",
    );
    c.execute(q).await
}

/// Records inbound event `k`, so a replay of it is recognised: true the first time, false for
/// an event seen before.
pub(crate) async fn record_inbound(c: &mut Conn<'_>, k: &InboundKey, now_ms: i64) -> Result<bool> {
    let q = Sql::new(inbound_event_insert!(values))
        .bind(k.platform.as_str())
        .bind(k.event_id.as_str())
        .bind(now_ms);
    Ok(c.execute(q).await? == 1)
}

impl Store {
    /// Runs one turn for `person`. Returns `None` when `inbound` was already processed.
    /// `step` is called once, inside the transaction, with the stored conversation; the call
    /// returns after the turn has committed. Every turn goes through the group-commit writer
    /// ([`super::writer`]) as part of a batch, sharing its commit with the turns queued beside
    /// it (a turn that arrives alone is a batch of one).
    pub async fn run_turn<F>(
        &self,
        person: PersonId,
        inbound: Option<&InboundKey>,
        now_ms: i64,
        step: F,
    ) -> Result<Option<TurnWrites>>
    where
        F: FnOnce(Conversation) -> TurnWrites + Send + 'static,
    {
        self.writer
            .run(self.db(), person, inbound.cloned(), now_ms, Box::new(step))
            .await
    }

    /// Queues replies that belong to no conversation (an unknown account's one reply), recording
    /// the inbound event in the same transaction. Returns false for a replayed event.
    pub async fn reply_once(
        &self,
        inbound: &InboundKey,
        outbox: &[NewOutbox],
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.db().begin().await?;
        let mut c = tx.conn();
        let fresh = record_inbound(&mut c, inbound, now_ms).await?;
        if fresh {
            for o in outbox {
                queue_message(&mut c, o, now_ms).await?;
            }
            tx.commit().await?;
        }
        Ok(fresh)
    }

    /// The stored conversation of `person` (for status and tests).
    pub async fn conversation(&self, person: PersonId) -> Result<Conversation> {
        let stored: Option<String> = super::with_read!(self, pool => sqlx::query_scalar(
            "SELECT state FROM conversations WHERE person_id = $1").bind(person.0).fetch_optional(pool).await?);
        match stored.as_deref() {
            None | Some("{}") => Ok(Conversation::default()),
            Some(json) => {
                serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
            }
        }
    }
}

pub(crate) fn payload(m: &OutMessage) -> Result<String> {
    serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))
}
