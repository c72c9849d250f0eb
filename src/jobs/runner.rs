//! Works the queue: claims due jobs, runs their handlers a few at a time, records outcomes.

use super::queue::{self, Job, Outcome};
use crate::store::Db;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

/// The work behind one kind of job. One run should be short (one poll of A2E, say);
/// long waits are `Outcome::Again` with a delay, so a restart loses nothing.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    async fn run(&self, job: &Job) -> Outcome;

    /// Ends the job's work for good (marked failed with `reason`, its credits refunded). Called
    /// when a run fails, panics, keeps failing or passes the job's deadline. An `Err` (say, the
    /// database is down) keeps the job queued, so this runs again until it holds.
    async fn give_up(&self, _job: &Job, _reason: &str) -> Result<(), String> {
        Ok(())
    }
}

const BATCH: i64 = 16;
const CONCURRENCY: usize = 8;
/// Transient failures in a row after which a job gives up.
const MAX_ATTEMPTS: i64 = 30;

#[derive(Clone)]
pub struct Runner {
    db: Db,
    worker: Arc<str>,
    handlers: Arc<RwLock<HashMap<&'static str, Arc<dyn JobHandler>>>>,
    wake: Arc<Notify>,
    idle: Duration,
    lease_ms: i64,
}

impl Runner {
    pub fn new(db: Db, idle: Duration, lease_ms: i64) -> Self {
        Self {
            db,
            worker: format!("worker-{}", crate::store::new_id()).into(),
            handlers: Arc::default(),
            wake: Arc::new(Notify::new()),
            idle,
            lease_ms: lease_ms.max(1_000),
        }
    }

    /// Registers the handler of a job kind (handlers may hold a clone of this runner).
    pub fn handle(&self, kind: &'static str, handler: Arc<dyn JobHandler>) {
        self.handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind, handler);
    }

    /// The job kinds this runner has handlers for.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect();
        kinds.sort_unstable();
        kinds
    }

    /// Wakes the runner now instead of at its next tick (after enqueueing urgent work).
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Runs until `shutdown` resolves, then hands leased jobs back to the queue.
    pub fn spawn(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            let permits = Arc::new(Semaphore::new(CONCURRENCY));
            loop {
                let claimed = self.claim_and_start(&permits).await;
                if claimed == 0 {
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(self.idle) => {}
                    }
                } else if futures::FutureExt::now_or_never(&mut shutdown).is_some() {
                    break;
                }
            }
            // Let running handlers finish their one step, then return what is still leased.
            let _ = permits.acquire_many(CONCURRENCY as u32).await;
            if let Err(err) = queue::release(&self.db, &self.worker).await {
                tracing::warn!(error = %err, "could not release leased jobs");
            }
        })
    }

    async fn claim_and_start(&self, permits: &Arc<Semaphore>) -> usize {
        let free = permits.available_permits() as i64;
        if free == 0 {
            let _ = permits.clone().acquire_owned().await;
            return 1;
        }
        let jobs = match queue::claim(&self.db, &self.worker, self.lease_ms, free.min(BATCH)).await
        {
            Ok(jobs) => jobs,
            Err(err) => {
                tracing::warn!(error = %err, "could not claim jobs");
                return 0;
            }
        };
        let count = jobs.len();
        for job in jobs {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let runner = self.clone();
            tokio::spawn(async move {
                runner.run_one(job).await;
                drop(permit);
            });
        }
        count
    }

    async fn run_one(&self, job: Job) {
        let handler = self
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(job.kind.as_str())
            .cloned();
        let Some(handler) = handler else {
            let outcome = Outcome::Failed {
                error: format!("no handler for job kind {}", job.kind),
            };
            self.record(&job, &outcome).await;
            return;
        };
        let renewing = self.keep_lease(&job);
        let mut outcome = match past_deadline(&job) {
            true => Outcome::Failed {
                error: "The work took too long and was stopped.".into(),
            },
            false => run_caught(&handler, &job).await,
        };
        if let Outcome::Retry { error, .. } = &outcome {
            if job.attempts + 1 >= MAX_ATTEMPTS {
                outcome = Outcome::Failed {
                    error: error.clone(),
                };
            }
        }
        if let Outcome::Failed { error } = &outcome {
            tracing::warn!(job = %job.id, kind = %job.kind, %error, "job gives up");
            if let Err(err) = handler.give_up(&job, error).await {
                // The work is not closed yet: keep the job, so giving up is tried again.
                outcome = Outcome::Retry {
                    after_ms: backoff_ms(job.attempts, 1_000, 60_000),
                    error: err,
                };
            }
        }
        renewing.abort();
        self.record(&job, &outcome).await;
    }

    async fn record(&self, job: &Job, outcome: &Outcome) {
        match outcome {
            Outcome::Retry { error, .. } => {
                tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts + 1, %error, "job will retry")
            }
            Outcome::LeaseLost => {
                tracing::warn!(job = %job.id, kind = %job.kind, "job lease lost mid-step")
            }
            _ => {}
        }
        crate::telemetry::job_step(&job.kind, outcome.name());
        if let Err(err) = queue::finish(&self.db, &job.fence, outcome).await {
            tracing::warn!(job = %job.id, error = %err, "could not record job outcome");
        }
    }

    /// Renews the job's lease while its step runs, so a slow step (a long back-off, a big
    /// copy) is not claimed by a second worker.
    fn keep_lease(&self, job: &Job) -> JoinHandle<()> {
        let (db, fence, lease_ms) = (self.db.clone(), job.fence.clone(), self.lease_ms);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(lease_ms as u64 / 3)).await;
                match queue::renew(&db, &fence, lease_ms).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(err) => tracing::warn!(error = %err, "could not renew a job lease"),
                }
            }
        })
    }
}

fn past_deadline(job: &Job) -> bool {
    job.deadline_at
        .is_some_and(|at| crate::store::now_millis() > at)
}

/// Runs one step on its own task, so a panic ends the step as a failure instead of the runner.
async fn run_caught(handler: &Arc<dyn JobHandler>, job: &Job) -> Outcome {
    let (handler, job) = (handler.clone(), job.clone());
    match tokio::spawn(async move { handler.run(&job).await }).await {
        Ok(outcome) => outcome,
        Err(err) if err.is_panic() => Outcome::Failed {
            error: "An internal error stopped this work.".into(),
        },
        Err(_) => Outcome::Retry {
            after_ms: 1_000,
            error: "the step was interrupted".into(),
        },
    }
}

/// Capped exponential backoff with jitter, for transient failures.
pub fn backoff_ms(attempts: i64, base_ms: i64, cap_ms: i64) -> i64 {
    use rand::Rng;
    let exp = base_ms.saturating_mul(1i64 << attempts.clamp(0, 20));
    let capped = exp.min(cap_ms);
    capped / 2 + rand::thread_rng().gen_range(0..=capped / 2)
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_grows_and_stays_capped() {
        for attempts in 0..40 {
            let ms = backoff_ms(attempts, 1000, 300_000);
            let ceiling = (1000i64 << attempts.min(20)).min(300_000);
            assert!(ms >= ceiling / 2 && ms <= ceiling, "{attempts}: {ms}");
        }
    }
}
