//! Follows every avatar training in flight with batched looks at A2E: each poll interval, one
//! `userVideoTwin/batchDetail` call per hundred trainings and one transaction per hundred
//! changes, instead of one job step (claim, status call, writes, finish) per training. So A2E's
//! end of a training reaches the database within about one poll interval even with ten thousand
//! trainings in flight.
//!
//! The watch is one recurring job (one instance runs it at a time). What it follows are the
//! characters' own rows (`avatar_status = training`, work `Track`), so a restart loses nothing.
//! A2E's catalog shows `batchDetail` for other task families; when it refuses the call for
//! avatars, the watch asks for each training of that chunk alone.

use super::avatars::{record_change, state_from_record};
use super::error::DomainError;
use super::studio::Studio;
use crate::a2e::{A2eError, Record, TaskFamily};
use crate::jobs::{queue, Job, JobHandler, NewJob, Outcome};
use crate::models::{AvatarStatus, Character, CharacterWork};
use crate::store::characters::{self as rows, AvatarState};
use crate::store::now_millis;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub const TRAINING_WATCH_JOB: &str = "training_watch";
/// A2E's `batchDetail` takes at most this many ids.
const CHUNK: usize = 100;
/// Chunks looked at side by side.
const CHUNKS_AT_ONCE: usize = 4;
/// Status calls side by side when A2E has no batch call.
const SINGLES_AT_ONCE: usize = 8;
/// Progress is an estimate from time: written when it moved this many points (or the status
/// changed), so ten thousand long trainings do not each rewrite their row every round.
const PROGRESS_STEP: i64 = 5;

/// Makes sure the watch is queued (once, whatever the number of instances).
pub async fn schedule(studio: &Studio) -> Result<(), sqlx::Error> {
    let job = NewJob::recurring(
        TRAINING_WATCH_JOB,
        studio.clock.poll_ms,
        serde_json::Value::Null,
    );
    queue::enqueue(&studio.db, job).await?;
    Ok(())
}

pub struct TrainingWatch {
    studio: Studio,
    /// Whether A2E's refusal of `batchDetail` was logged (once is enough).
    refusal_logged: AtomicBool,
}

impl TrainingWatch {
    pub fn new(studio: Studio) -> Self {
        Self {
            studio,
            refusal_logged: AtomicBool::new(false),
        }
    }

    /// One round: every tracked training, a page of chunks at a time.
    async fn round(&self) -> Result<(), DomainError> {
        let mut after = String::new();
        loop {
            let page = (CHUNK * CHUNKS_AT_ONCE) as i64;
            let tracked = rows::tracked_after(&self.studio.db.pool, &after, page).await?;
            let Some(last) = tracked.last() else {
                return Ok(());
            };
            after = last.id.clone();
            let full = tracked.len() as i64 == page;
            let due = self.due_for_a_look(tracked);
            let looks = due.chunks(CHUNK).map(|chunk| self.look(chunk));
            for result in futures::future::join_all(looks).await {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "the training watch skipped a chunk");
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// A training started less than one and a half poll intervals ago is left for a later
    /// round: it cannot have finished yet, and looking would spend an A2E call on it for
    /// nothing. Rounds start a poll interval apart, but a round reaches a training seconds into
    /// it (ten thousand trainings take seconds to page through), so two looks can come closer
    /// than an interval; waiting the extra half interval before the first look keeps a training
    /// named in at most `its time / poll interval + 2` calls, its start included, while rounds
    /// take less than half an interval. Its end is seen as soon as before.
    fn due_for_a_look(&self, tracked: Vec<Character>) -> Vec<Character> {
        let recent = now_millis() - self.studio.clock.poll_ms * 3 / 2;
        tracked
            .into_iter()
            .filter(|c| c.training_started_at.is_none_or(|at| at <= recent))
            .collect()
    }

    /// Reads one chunk's trainings at A2E and records what changed, in one transaction.
    async fn look(&self, chunk: &[Character]) -> Result<(), DomainError> {
        let studio = &self.studio;
        let records = &self.records_of(chunk).await;
        // Side by side: a finished training's preview is copied on the way.
        let states = chunk.iter().map(|c| async move {
            let avatar_id = c.avatar_id.as_ref()?;
            let state = match records.get(avatar_id)? {
                Ok(record) => state_from_record(studio, c, record).await,
                Err(A2eError::NotFound) => AvatarState::failed("A2E no longer knows this avatar."),
                // A2E unreachable or busy: the next round looks again.
                Err(_) => return None,
            };
            let state = self.past_deadline(c, state);
            let moved = state.progress.unwrap_or(0) - c.avatar_progress.unwrap_or(0);
            let changed = state.status != c.avatar_status || moved.abs() >= PROGRESS_STEP;
            changed.then_some((c, avatar_id, state))
        });
        let changes: Vec<_> = futures::future::join_all(states)
            .await
            .into_iter()
            .flatten()
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = studio.db.pool.begin().await?;
        let mut written = Vec::new();
        for (c, avatar_id, state) in changes {
            // Deleted, retried or changed since it was read: not ours to write.
            if !rows::hold_tracked(&mut tx, &c.id, avatar_id).await? {
                continue;
            }
            record_change(&mut tx, c, &state).await?;
            rows::set_avatar_state(&mut *tx, &c.id, &state, None).await?;
            if state.status != AvatarStatus::Training {
                rows::set_work(&mut tx, &c.id, &CharacterWork::Idle, None).await?;
            }
            written.push(c.id.clone());
        }
        tx.commit().await?;
        for now in rows::get_many(&studio.db.pool, &written).await? {
            studio.announce_character(&now);
        }
        Ok(())
    }

    /// A training still running when its work's deadline passed is stopped, as any job is.
    fn past_deadline(&self, c: &Character, state: AvatarState) -> AvatarState {
        let started = c.training_started_at.unwrap_or(c.updated_at);
        let late = now_millis() > started.saturating_add(self.studio.job_deadline_ms);
        match state.status == AvatarStatus::Training && late {
            true => AvatarState::failed("A2E did not finish the training in time."),
            false => state,
        }
    }

    /// A2E's records of the chunk's avatars, by id. Avatars missing from the answer had an
    /// error (kept) or are left for the next round.
    async fn records_of(&self, chunk: &[Character]) -> HashMap<String, Result<Record, A2eError>> {
        let ids: Vec<String> = chunk.iter().filter_map(|c| c.avatar_id.clone()).collect();
        match self.studio.a2e.batch_detail(TaskFamily::Avatar, &ids).await {
            Ok(list) => {
                let mut found: HashMap<_, _> =
                    list.into_iter().map(|r| (r.id.clone(), Ok(r))).collect();
                // Left out of the list: asked alone, so "unknown" is A2E's own word for it.
                let missing = ids.into_iter().filter(|id| !found.contains_key(id));
                let alone = self.singles(missing.collect()).await;
                found.extend(alone);
                found
            }
            Err(
                err @ (A2eError::NotFound | A2eError::BadInput { .. } | A2eError::Malformed { .. }),
            ) => {
                if !self.refusal_logged.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %err, "A2E refused a batch status call for avatars: their trainings are asked for one by one");
                }
                self.singles(ids).await
            }
            Err(err) => {
                tracing::warn!(error = %err, "A2E did not answer the training watch; it looks again next round");
                HashMap::new()
            }
        }
    }

    async fn singles(&self, ids: Vec<String>) -> HashMap<String, Result<Record, A2eError>> {
        let a2e = &self.studio.a2e;
        futures::stream::iter(ids)
            .map(|id| async move {
                let record = a2e.training_status(&id).await;
                (id, record)
            })
            .buffer_unordered(SINGLES_AT_ONCE)
            .collect()
            .await
    }
}

#[async_trait::async_trait]
impl JobHandler for TrainingWatch {
    /// Never fails: a round cut short is taken up again at the next one.
    async fn run(&self, _job: &Job) -> Outcome {
        let started = Instant::now();
        if let Err(err) = self.round().await {
            tracing::warn!(error = %err, "the training watch did not finish its round");
        }
        crate::telemetry::watch_round(started.elapsed());
        // Rounds start one poll interval apart, however long a round took.
        let spent = started.elapsed().as_millis() as i64;
        Outcome::Again {
            after_ms: (self.studio.clock.poll_ms - spent).max(0),
        }
    }
}
