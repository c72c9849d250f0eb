//! Who keeps which stored file: per-user storage use, and which files nothing uses any more.

use sqlx::{Any, AnyConnection, Executor, Row};

/// Notes that the file exists and was just claimed (so no sweep removes it meanwhile).
pub async fn note_object(
    conn: &mut AnyConnection,
    key: &str,
    size: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO media_objects (media_key, size, claimed_at) VALUES ($1, $2, $3)
         ON CONFLICT (media_key) DO UPDATE SET claimed_at = excluded.claimed_at",
    )
    .bind(key)
    .bind(size)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records that `user_id` keeps the file `key` (idempotent).
pub async fn claim(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    size: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_media (user_id, media_key, size, created_at, checked_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (user_id, media_key) DO UPDATE SET checked_at = excluded.checked_at",
    )
    .bind(user_id)
    .bind(key)
    .bind(size)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Bytes the user keeps (each file counted once, however often it is used).
pub async fn usage<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM user_media WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(exec)
    .await?;
    row.try_get("used")
}

/// Every file the user keeps.
pub async fn keys_of(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT media_key FROM user_media WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| r.try_get("media_key")).collect()
}

pub async fn holds(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS one FROM user_media WHERE user_id = $1 AND media_key = $2")
        .bind(user_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Whether any of the user's characters, generations or presets still mentions the file. Every column
/// that can hold one of our media URLs is listed here, and only here.
pub async fn referenced(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
) -> Result<bool, sqlx::Error> {
    // Keys are `<hex>.<alnum>`: nothing in them is a LIKE wildcard.
    let pattern = format!("%/media/{key}%");
    let row = sqlx::query(
        "SELECT 1 AS one FROM character_references WHERE user_id = $1 AND (
             image_url LIKE $2 OR video_url LIKE $2 OR preview_url LIKE $2 OR work LIKE $2)
         UNION ALL
         SELECT 1 AS one FROM generations WHERE user_id = $1 AND (
             inputs LIKE $2 OR result_urls LIKE $2 OR work LIKE $2 OR refs LIKE $2)
         UNION ALL
         SELECT 1 AS one FROM presets WHERE user_id = $1 AND motion_clip_url LIKE $2
         LIMIT 1",
    )
    .bind(user_id)
    .bind(pattern)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

pub async fn release(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_media WHERE user_id = $1 AND media_key = $2")
        .bind(user_id)
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn mark_checked(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_media SET checked_at = $3 WHERE user_id = $1 AND media_key = $2")
        .bind(user_id)
        .bind(key)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Claims not confirmed as in use since `before`, oldest first.
pub async fn unchecked(
    conn: &mut AnyConnection,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT user_id, media_key FROM user_media WHERE checked_at < $1
         ORDER BY checked_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("media_key")?)))
        .collect()
}

/// Files no user keeps, last claimed before `before`.
pub async fn unkept(
    conn: &mut AnyConnection,
    before: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT media_key FROM media_objects o WHERE claimed_at < $1
           AND NOT EXISTS (SELECT 1 FROM user_media u WHERE u.media_key = o.media_key)
         LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| r.try_get("media_key")).collect()
}

/// Forgets a file if still no user keeps it and nobody claimed it since `before`; answers
/// whether it was forgotten (then, and only then, its bytes may be deleted).
pub async fn forget(conn: &mut AnyConnection, key: &str, before: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM media_objects WHERE media_key = $1 AND claimed_at < $2
           AND NOT EXISTS (SELECT 1 FROM user_media u WHERE u.media_key = $1)",
    )
    .bind(key)
    .bind(before)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
