//! The `jobs` table: enqueue, claim with a lease, finish.

use crate::store::{self, Db, DbKind};
use serde_json::Value;
use sqlx::Row;

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
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub user_id: Option<String>,
    pub subject_id: Option<String>,
    pub payload: Value,
    /// Failed attempts so far (plain re-polls do not count).
    pub attempts: i64,
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
    /// Gave up for good.
    Failed { error: String },
}

/// Adds a job. Returns its id, or `None` when an unfinished job has the same dedupe key.
pub async fn enqueue(db: &Db, job: NewJob) -> Result<Option<String>, sqlx::Error> {
    let id = store::new_id();
    let now = store::now_millis();
    let done = sqlx::query(
        "INSERT INTO jobs (id, kind, user_id, subject_id, payload, state, dedupe_key, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $8)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&id)
    .bind(job.kind)
    .bind(job.user_id)
    .bind(job.subject_id)
    .bind(job.payload.to_string())
    .bind(job.dedupe_key)
    .bind(now + job.delay_ms.max(0))
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Leases up to `limit` due jobs to `worker`. Jobs whose lease ran out (a crashed worker) are due
/// again. On PostgreSQL, `SKIP LOCKED` lets several instances claim side by side.
pub async fn claim(
    db: &Db,
    worker: &str,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, sqlx::Error> {
    let now = store::now_millis();
    let lock = match db.kind {
        DbKind::Postgres => "FOR UPDATE SKIP LOCKED",
        // SQLite has one writer at a time: the statement itself is the lock.
        DbKind::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', locked_by = $1, locked_until = $2, updated_at = $3
         WHERE id IN (
             SELECT id FROM jobs
             WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)
             ORDER BY run_at LIMIT $4 {lock}
         )
         RETURNING id, kind, user_id, subject_id, payload, attempts"
    );
    let rows = sqlx::query(&sql)
        .bind(worker)
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(job_from_row).collect()
}

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<Job, sqlx::Error> {
    let payload: String = row.try_get("payload")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        user_id: row.try_get("user_id")?,
        subject_id: row.try_get("subject_id")?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        attempts: row.try_get("attempts")?,
    })
}

/// Records a run's outcome, only if `worker` still holds the lease.
pub async fn finish(
    db: &Db,
    worker: &str,
    job_id: &str,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let now = store::now_millis();
    let (state, run_at, attempts_add, error, keep_key) = match outcome {
        Outcome::Done => ("done", now, 0, None, false),
        Outcome::Again { after_ms } => ("queued", now + after_ms, 0, None, true),
        Outcome::Retry { after_ms, error } => {
            ("queued", now + after_ms, 1, Some(error.as_str()), true)
        }
        Outcome::Failed { error } => ("failed", now, 1, Some(error.as_str()), false),
    };
    let key = if keep_key { "dedupe_key" } else { "NULL" };
    let sql = format!(
        "UPDATE jobs SET state = $1, run_at = $2, attempts = attempts + $3,
             last_error = COALESCE($4, last_error), dedupe_key = {key},
             locked_by = NULL, locked_until = NULL, updated_at = $5
         WHERE id = $6 AND locked_by = $7"
    );
    sqlx::query(&sql)
        .bind(state)
        .bind(run_at)
        .bind(attempts_add)
        .bind(error)
        .bind(now)
        .bind(job_id)
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Stops the unfinished jobs about a subject (e.g. a deleted character).
pub async fn cancel_for_subject(db: &Db, subject_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET state = 'cancelled', dedupe_key = NULL, locked_by = NULL, locked_until = NULL, updated_at = $2
         WHERE subject_id = $1 AND state IN ('queued', 'running')",
    )
    .bind(subject_id)
    .bind(store::now_millis())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Hands this worker's leased jobs back to the queue (on shutdown), so another takes them at once.
pub async fn release(db: &Db, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET state = 'queued', locked_by = NULL, locked_until = NULL
         WHERE locked_by = $1 AND state = 'running'",
    )
    .bind(worker)
    .execute(&db.pool)
    .await?;
    Ok(())
}
