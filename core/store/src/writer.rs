//! Group commit: one writer task runs the turns of many conversations in one transaction, so
//! they share one commit (one fsync) and multi-row writes. Written for SQLite's single writer,
//! used on PostgreSQL too, where it saves the server most of its per-statement work.
//!
//! SQLite takes one writer at a time, and with `synchronous=FULL` every commit waits for the
//! disk. One transaction per turn therefore caps throughput at the disk's fsync rate, however
//! many residents talk at once, and so does the cost of a round trip per statement. Instead,
//! [`super::Store::run_turn`] queues its turn here; the writer takes every turn waiting (up to
//! [`MAX_BATCH`]), writes them together with multi-row statements ([`super::batch`]; a turn
//! that fails is left out alone and its caller gets the error), commits once, and only then
//! answers each caller. So every answer is still stored before it is acknowledged, and a
//! crash leaves each turn whole or absent, exactly as with one transaction per turn.
//!
//! Nobody waits for a batch to fill: when the writer is idle a lone turn commits at once, and
//! under load the turns that arrive during one commit form the next batch.

use super::batch::Pending;
use super::turn::{InboundKey, TurnWrites};
use super::{Db, Result, StoreError};
use carebot_engine::engine::Conversation;
use carebot_engine::ids::PersonId;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tokio::sync::{mpsc, oneshot};

/// Most turns in one transaction: enough to amortise the fsync, few enough that a batch holds
/// the writer for milliseconds, not longer.
const MAX_BATCH: usize = 256;

/// The engine step of a queued turn. It owns what it needs, because it runs on the writer task.
pub type Step = Box<dyn FnOnce(Conversation) -> TurnWrites + Send + 'static>;

/// A turn waiting for the writer.
struct Job {
    person: PersonId,
    key: Option<InboundKey>,
    now_ms: i64,
    step: Step,
    /// Answered after the commit (or with the error that stopped this turn or its batch).
    done: oneshot::Sender<Result<Option<TurnWrites>>>,
}

/// The queue in front of the writer task.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer tasks on `db`. They stop when every [`Writer`] is dropped.
    ///
    /// SQLite has one writer task (it has one write connection). PostgreSQL has two, so one
    /// batch can be built while the other waits for its commit's fsync; two batches that both
    /// hold a turn of the same person are serialised by the row lock the batch path takes
    /// (rows and keys are taken in a fixed order, so they cannot deadlock).
    pub(crate) fn spawn(db: Db) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let queue = std::sync::Arc::new(tokio::sync::Mutex::new(queue));
        let writers = if db.is_postgres() { 2 } else { 1 };
        for _ in 0..writers {
            let (db, queue) = (db.clone(), queue.clone());
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                loop {
                    // Only the taking is exclusive; the other writer commits meanwhile.
                    if queue.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
                        break;
                    }
                    commit_batch(&db, std::mem::take(&mut batch)).await;
                }
            });
        }
        Self { jobs }
    }

    /// Queues a turn and waits until it is committed (or has failed).
    pub(crate) async fn run(
        &self,
        db: &Db,
        person: PersonId,
        key: Option<InboundKey>,
        now_ms: i64,
        step: Step,
    ) -> Result<Option<TurnWrites>> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            person,
            key,
            now_ms,
            step,
            done,
        };
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job).await {
            // The writer task is gone (its runtime shut down): commit this turn here instead.
            commit_batch(db, vec![job]).await;
        }
        answer.await.map_err(|_| {
            StoreError::Writer("the writer stopped before the turn committed".into())
        })?
    }
}

/// Runs `batch` as one transaction ([`Db::run_batch`]: multi-row writes, a savepoint for
/// any turn that needs one) and answers every caller after the commit. A failed commit fails
/// every turn in it (none of them was stored).
async fn commit_batch(db: &Db, batch: Vec<Job>) {
    let mut answers = Vec::with_capacity(batch.len());
    let mut pending = Vec::with_capacity(batch.len());
    for job in batch {
        answers.push(job.done);
        let step = job.step;
        pending.push(Pending {
            person: job.person,
            key: job.key,
            now_ms: job.now_ms,
            // A panic in the engine fails this turn only.
            step: Box::new(move |state| {
                catch_unwind(AssertUnwindSafe(|| step(state)))
                    .map_err(|_| StoreError::Writer("the engine panicked during the turn".into()))
            }),
        });
    }
    match db.run_batch(pending).await {
        Ok(results) => {
            for (done, result) in answers.into_iter().zip(results) {
                let _ = done.send(result);
            }
        }
        Err(e) => {
            let why = format!("the turn's batch was not committed: {e}");
            for done in answers {
                let _ = done.send(Err(StoreError::Writer(why.clone())));
            }
        }
    }
}
