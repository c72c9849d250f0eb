//! The `jobs` table: enqueue, claim with a fenced lease, renew, finish.

use crate::store::{self, Db, DbKind};
use serde_json::Value;
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub user_id: Option<String>,
    pub subject_id: Option<String>,
    pub payload: Value,
    /// Delay before the first run, in milliseconds.
    pub delay_ms: i64,
    /// While a job with this key is unfinished, enqueueing another with it does nothing.
    pub dedupe_key: Option<String>,
    /// The credit reservation this job settles or refunds (written in the same transaction).
    pub reservation_key: Option<String>,
    /// Age at which the job gives up, in milliseconds from now.
    pub deadline_ms: i64,
    /// Due jobs are claimed highest priority first, then in due order.
    pub priority: i64,
}

/// User work's priority.
pub const USER_PRIORITY: i64 = 0;
/// Housekeeping's priority: the watch that follows every training must not queue behind them.
pub const HOUSEKEEPING_PRIORITY: i64 = 1;

impl NewJob {
    /// A job about `subject_id` of `user_id`, due now, unique per `dedupe_key`.
    pub fn about(kind: &'static str, user_id: &str, subject_id: &str, dedupe_key: String) -> Self {
        Self {
            kind,
            user_id: Some(user_id.to_string()),
            subject_id: Some(subject_id.to_string()),
            payload: Value::Object(Default::default()),
            delay_ms: 0,
            dedupe_key: Some(dedupe_key),
            reservation_key: None,
            deadline_ms: DEFAULT_DEADLINE_MS,
            priority: USER_PRIORITY,
        }
    }

    /// A housekeeping job that runs again and again (its handler answers `Outcome::Again`),
    /// queued once whatever the number of instances, first after `every_ms`.
    pub fn recurring(kind: &'static str, every_ms: i64, payload: Value) -> Self {
        Self {
            kind,
            user_id: None,
            subject_id: None,
            payload,
            delay_ms: every_ms.max(1_000),
            dedupe_key: Some(kind.to_string()),
            reservation_key: None,
            deadline_ms: i64::MAX / 4,
            priority: HOUSEKEEPING_PRIORITY,
        }
    }
}

/// Jobs made without a stated deadline end within a day.
pub const DEFAULT_DEADLINE_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub subject_id: Option<String>,
    pub payload: Value,
    /// Failures in a row (a step that makes progress starts the count afresh).
    pub attempts: i64,
    pub reservation_key: Option<String>,
    pub deadline_at: Option<i64>,
    /// Proof of this claim: every write of the step checks it (see [`Fence`]).
    pub fence: Fence,
}

/// A claim's token. A step writes only through [`Fence::hold`] inside its transaction, so once
/// its lease lapsed and another worker claimed the job (new token), its writes fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub job_id: String,
    pub token: String,
}

/// The step's lease was taken over (or its job cancelled): it must not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this job's lease was lost")]
pub struct LeaseLost;

impl Fence {
    /// Proves, inside `conn`'s transaction, that this claim still holds a running job. On
    /// PostgreSQL it also locks the job row until commit, so no one can claim it meanwhile.
    pub async fn hold(&self, conn: &mut AnyConnection) -> Result<(), FenceError> {
        let done = sqlx::query(
            "UPDATE jobs SET updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .bind(&self.job_id)
        .bind(&self.token)
        .bind(store::now_millis())
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(FenceError::Lost(LeaseLost))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FenceError {
    #[error(transparent)]
    Lost(LeaseLost),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What a handler reports after one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Finished.
    Done,
    /// Not finished yet (e.g. A2E still training): look again later. Not a failure.
    Again { after_ms: i64 },
    /// A transient failure: try again later, counting the attempt.
    Retry { after_ms: i64, error: String },
    /// Gave up for good: the handler's `give_up` ends the domain work.
    Failed { error: String },
    /// The lease was lost mid-step: record nothing, the new holder carries on.
    LeaseLost,
}

impl Outcome {
    /// A word for metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Again { .. } => "again",
            Self::Retry { .. } => "retry",
            Self::Failed { .. } => "failed",
            Self::LeaseLost => "lease_lost",
        }
    }
}

/// Adds a job on the pool. Returns its id, or `None` when an unfinished job has the same key.
pub async fn enqueue(db: &Db, job: NewJob) -> Result<Option<String>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    enqueue_in(&mut conn, job).await
}

/// Adds a job inside the caller's transaction, so the job exists exactly when its work does.
pub async fn enqueue_in(
    conn: &mut AnyConnection,
    job: NewJob,
) -> Result<Option<String>, sqlx::Error> {
    let id = store::new_id();
    let now = store::now_millis();
    let done = sqlx::query(
        "INSERT INTO jobs (id, kind, user_id, subject_id, payload, state, dedupe_key, run_at,
             reservation_key, deadline_at, priority, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $11, $10, $10)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&id)
    .bind(job.kind)
    .bind(job.user_id)
    .bind(job.subject_id)
    .bind(job.payload.to_string())
    .bind(job.dedupe_key)
    .bind(now + job.delay_ms.max(0))
    .bind(job.reservation_key)
    .bind(now + job.deadline_ms.max(0))
    .bind(now)
    .bind(job.priority)
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Leases up to `limit` due jobs to `worker` under a fresh fence token, highest priority first,
/// then in due order. Jobs whose lease ran out (a crashed or stalled worker) are due again. On
/// PostgreSQL, `SKIP LOCKED` lets several instances claim side by side.
pub async fn claim(
    db: &Db,
    worker: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, sqlx::Error> {
    let now = store::now_millis();
    let token = store::new_id();
    let lock = match db.kind {
        DbKind::Postgres => "FOR UPDATE SKIP LOCKED",
        // SQLite has one writer at a time: the statement itself is the lock.
        DbKind::Sqlite => "",
    };
    // Each branch walks `jobs_due_first` and stops after a batch, so a claim costs the same
    // with ten or ten thousand jobs due (one sorted scan of every due job took milliseconds,
    // inside SQLite's write lock).
    let sql = format!(
        "WITH due AS (
             SELECT id, priority, run_at FROM jobs WHERE state = 'queued' AND run_at <= $3
             ORDER BY priority DESC, run_at LIMIT $4 {lock}
         ), lapsed AS (
             SELECT id, priority, run_at FROM jobs WHERE state = 'running' AND locked_until < $3
             ORDER BY priority DESC, run_at LIMIT $4 {lock}
         )
         UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, updated_at = $3,
             lease_token = $5
         WHERE id IN (
             SELECT id FROM (SELECT * FROM due UNION ALL SELECT * FROM lapsed) picked
             ORDER BY priority DESC, run_at LIMIT $4
         )
         RETURNING id, kind, user_id, subject_id, payload, attempts, reservation_key, deadline_at, lease_token"
    );
    let rows = sqlx::query(&sql)
        .bind(worker)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .bind(&token)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(job_from_row).collect()
}

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<Job, sqlx::Error> {
    let payload: String = row.try_get("payload")?;
    let id: String = row.try_get("id")?;
    Ok(Job {
        kind: row.try_get("kind")?,
        user_id: row.try_get("user_id")?,
        subject_id: row.try_get("subject_id")?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        attempts: row.try_get("attempts")?,
        reservation_key: row.try_get("reservation_key")?,
        deadline_at: row.try_get("deadline_at")?,
        fence: Fence {
            job_id: id.clone(),
            token: row.try_get("lease_token")?,
        },
        id,
    })
}

/// Extends a held lease; `false` when it was lost (taken over, cancelled or finished).
pub async fn renew(db: &Db, fence: &Fence, lease_ms: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE jobs SET locked_until = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'",
    )
    .bind(&fence.job_id)
    .bind(&fence.token)
    .bind(store::now_millis() + lease_ms)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a run's outcome, only if this claim still holds the lease.
pub async fn finish(db: &Db, fence: &Fence, outcome: &Outcome) -> Result<(), sqlx::Error> {
    let now = store::now_millis();
    // `attempts` counts failures in a row: progress (`Again`) starts the count afresh.
    let (state, run_at, attempts_add, error, keep_key) = match outcome {
        Outcome::Done => ("done", now, 0, None, false),
        Outcome::Again { after_ms } => ("queued", now + after_ms, 0, None, true),
        Outcome::Retry { after_ms, error } => {
            ("queued", now + after_ms, 1, Some(error.as_str()), true)
        }
        Outcome::Failed { error } => ("failed", now, 1, Some(error.as_str()), false),
        Outcome::LeaseLost => return Ok(()),
    };
    let key = if keep_key { "dedupe_key" } else { "NULL" };
    let sql = format!(
        "UPDATE jobs SET state = $1, run_at = $2,
             attempts = CASE WHEN $1 = 'queued' AND $3 = 0 THEN 0 ELSE attempts + $3 END,
             last_error = COALESCE($4, last_error), dedupe_key = {key},
             locked_by = NULL, locked_until = NULL, lease_token = NULL, updated_at = $5
         WHERE id = $6 AND lease_token = $7 AND state = 'running'"
    );
    sqlx::query(&sql)
        .bind(state)
        .bind(run_at)
        .bind(attempts_add)
        .bind(error)
        .bind(now)
        .bind(&fence.job_id)
        .bind(&fence.token)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Stops the unfinished jobs about a subject (e.g. a deleted character), inside the caller's
/// transaction. Answers the credit reservations those jobs held, for the caller to close.
pub async fn cancel_for_subject(
    conn: &mut AnyConnection,
    subject_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT reservation_key FROM jobs WHERE subject_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(subject_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE jobs SET state = 'cancelled', dedupe_key = NULL, locked_by = NULL, locked_until = NULL,
             lease_token = NULL, updated_at = $2
         WHERE subject_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(subject_id)
    .bind(store::now_millis())
    .execute(&mut *conn)
    .await?;
    let mut keys = Vec::new();
    for row in &rows {
        if let Some(key) = row.try_get::<Option<String>, _>("reservation_key")? {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Hands this worker's leased jobs back to the queue (on shutdown), so another takes them at once.
pub async fn release(db: &Db, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET state = 'queued', locked_by = NULL, locked_until = NULL, lease_token = NULL
         WHERE locked_by = $1 AND state = 'running'",
    )
    .bind(worker)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Whether a reservation has a job that may still settle or refund it.
pub async fn has_live_owner(
    conn: &mut AnyConnection,
    reservation_key: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM jobs WHERE reservation_key = $1 AND state IN ('queued', 'running')",
    )
    .bind(reservation_key)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}
