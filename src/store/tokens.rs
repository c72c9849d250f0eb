//! Personal API tokens. Only a SHA-256 of each token is stored; the token itself is shown once.

use sqlx::{Any, Executor, Row};
use std::sync::LazyLock;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn insert<'c>(
    exec: impl Executor<'c, Database = Any>,
    row: &TokenRow,
    token_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&row.id)
    .bind(&row.user_id)
    .bind(&row.name)
    .bind(token_hash)
    .bind(row.created_at)
    .execute(exec)
    .await?;
    Ok(())
}

const LAST_USED_PRECISION_MS: i64 = 60_000;

/// A token's user and count, every scripted request's check: its SQL built once.
static BY_HASH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT t.user_id, t.last_used_at, {} AS lists_version FROM api_tokens t
         JOIN users ON users.id = t.user_id WHERE t.token_hash = $1",
        super::change_count::COUNT_SQL
    )
});

/// The owner of a token and their count of changes to listed rows (see `change_count`), noting
/// when the token was last used.
pub async fn user_for_hash(
    pool: &sqlx::AnyPool,
    token_hash: &str,
    now: i64,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    let Some(row) = sqlx::query(&BY_HASH)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    // "Last used" to the minute: a script's every call must not become a write.
    let last_used: Option<i64> = row.try_get("last_used_at")?;
    if last_used.is_none_or(|at| now - at >= LAST_USED_PRECISION_MS) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .execute(pool)
            .await?;
    }
    Ok(Some((
        row.try_get("user_id")?,
        row.try_get("lists_version")?,
    )))
}

pub async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
) -> Result<Vec<TokenRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, created_at, last_used_at FROM api_tokens
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenRow {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect()
}

/// Deletes one of the user's tokens; `false` when there is no such token of theirs.
pub async fn delete<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}
