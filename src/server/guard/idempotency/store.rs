//! The `idempotency_keys` table.

use crate::store::{now_millis, Db};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct KeyRow {
    pub fingerprint: String,
    pub done: bool,
    pub status_code: Option<i64>,
    pub content_type: Option<String>,
    pub body: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Claims the key for a first run; `false` when it already exists.
pub async fn claim(db: &Db, user: &str, key: &str, fingerprint: &str) -> sqlx::Result<bool> {
    let now = now_millis();
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, state, created_at, updated_at)
         VALUES ($1, $2, $3, 'running', $4, $4)
         ON CONFLICT (user_id, idem_key) DO NOTHING",
    )
    .bind(user)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find(db: &Db, user: &str, key: &str) -> sqlx::Result<Option<KeyRow>> {
    let row = sqlx::query(
        "SELECT fingerprint, state, status_code, content_type, body, created_at, updated_at
         FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user)
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| {
        Ok(KeyRow {
            fingerprint: row.try_get("fingerprint")?,
            done: row.try_get::<String, _>("state")? == "done",
            status_code: row.try_get("status_code")?,
            content_type: row.try_get("content_type")?,
            body: row.try_get("body")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// Keeps the first answer.
pub async fn complete(
    db: &Db,
    user: &str,
    key: &str,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status_code = $3, content_type = $4, body = $5,
         updated_at = $6 WHERE user_id = $1 AND idem_key = $2",
    )
    .bind(user)
    .bind(key)
    .bind(i64::from(status))
    .bind(content_type)
    .bind(body)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Gives a running claim up (its request failed on our side), so a retry runs afresh.
pub async fn release(db: &Db, user: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND state = 'running'",
    )
    .bind(user)
    .bind(key)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Marks a running claim as alive.
pub async fn heartbeat(db: &Db, user: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET updated_at = $3
         WHERE user_id = $1 AND idem_key = $2 AND state = 'running'",
    )
    .bind(user)
    .bind(key)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Takes over an abandoned claim; `true` for the one caller whose update saw it unchanged.
pub async fn take_over(db: &Db, user: &str, key: &str, seen_updated_at: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE idempotency_keys SET updated_at = $4
         WHERE user_id = $1 AND idem_key = $2 AND state = 'running' AND updated_at = $3",
    )
    .bind(user)
    .bind(key)
    .bind(seen_updated_at)
    .bind(now_millis())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one expired key (if it is still the one seen), so the key can be used anew.
pub async fn delete_expired(db: &Db, user: &str, key: &str, created_at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND created_at = $3",
    )
    .bind(user)
    .bind(key)
    .bind(created_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Deletes every key created before `cutoff`; returns how many.
pub async fn sweep(db: &Db, cutoff: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
