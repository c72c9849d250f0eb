//! What closing an account reads and stops: the user's live jobs, open reservations, avatars
//! and the text columns that may mention stored media.

use sqlx::{AnyConnection, Row};

/// A job that was queued or running when the account closed.
#[derive(Debug, Clone)]
pub struct LiveJob {
    pub kind: String,
    pub subject_id: Option<String>,
    pub reservation_key: Option<String>,
}

/// Cancels every unfinished job of the user but avatar removals (`removal_kind`), and answers them (inside the
/// caller's transaction: a worker holding one loses its lease, so its next write fails).
/// Removals are handed to no user instead, so they outlive the account.
pub async fn cancel_jobs(
    conn: &mut AnyConnection,
    user_id: &str,
    removal_kind: &str,
) -> Result<Vec<LiveJob>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, subject_id, reservation_key FROM jobs
         WHERE user_id = $1 AND state IN ('queued', 'running') AND kind <> $2",
    )
    .bind(user_id)
    .bind(removal_kind)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE jobs SET user_id = NULL
         WHERE user_id = $1 AND state IN ('queued', 'running') AND kind = $2",
    )
    .bind(user_id)
    .bind(removal_kind)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE jobs SET state = 'cancelled', dedupe_key = NULL, locked_by = NULL, locked_until = NULL,
             lease_token = NULL, updated_at = $2
         WHERE user_id = $1 AND state IN ('queued', 'running') AND kind <> $3",
    )
    .bind(user_id)
    .bind(super::now_millis())
    .bind(removal_kind)
    .execute(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LiveJob {
                kind: r.try_get("kind")?,
                subject_id: r.try_get("subject_id")?,
                reservation_key: r.try_get("reservation_key")?,
            })
        })
        .collect()
}

/// The user's reservations neither settled nor refunded.
pub async fn open_reservations(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.reservation_key FROM credit_ledger r
         WHERE r.user_id = $1 AND r.kind = 'reserve'
           AND NOT EXISTS (SELECT 1 FROM credit_ledger c
                           WHERE c.reservation_key = r.reservation_key AND c.kind IN ('settle', 'refund'))",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| r.try_get("reservation_key")).collect()
}

/// The A2E avatars of the user's characters, each with whether it was imported (trained
/// elsewhere, adopted here).
pub async fn avatars(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<(String, bool)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.avatar_id,
             (SELECT COUNT(*) FROM avatar_imports i WHERE i.avatar_id = c.avatar_id) AS imported
         FROM character_references c WHERE c.user_id = $1 AND c.avatar_id IS NOT NULL",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("avatar_id")?,
                r.try_get::<i64, _>("imported")? > 0,
            ))
        })
        .collect()
}
