//! The `users` table.

use super::DbKind;
use sqlx::{Any, Executor, Row};
use std::sync::LazyLock;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, email, password_hash, created_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a user; `Ok(false)` when the email is taken.
pub async fn insert<'c>(
    exec: impl Executor<'c, Database = Any>,
    user: &UserRow,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.password_hash)
    .bind(user.created_at)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_email<'c>(
    exec: impl Executor<'c, Database = Any>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    let row = sqlx::query(&sql).bind(email).fetch_optional(exec).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_id<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(exec).await?;
    row.as_ref().map(from_row).transpose()
}

/// The user with their credit balance, in one read (every page's header shows both).
pub async fn find_with_balance<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: &str,
) -> Result<Option<(UserRow, i64)>, sqlx::Error> {
    let balance = super::ledger::BALANCE;
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT {balance} FROM credit_ledger
             WHERE credit_ledger.user_id = users.id) AS balance
         FROM users WHERE id = $1"
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(exec).await?;
    row.map(|r| Ok((from_row(&r)?, r.try_get("balance")?)))
        .transpose()
}

/// The account check's SQL, built once: every logged-in request runs it.
static STANDING: LazyLock<String> = LazyLock::new(|| {
    let count = super::change_count::COUNT_SQL;
    format!("SELECT sessions_valid_after, {count} FROM users WHERE id = $1")
});
static STANDING_POSTGRES: LazyLock<String> = LazyLock::new(|| {
    let still_stored = super::sessions::POSTGRES_STILL_STORED;
    format!("{} AND {still_stored}", *STANDING)
});

/// What every request with a session asks of its account, in one query: the moment before
/// which the user's log-ins no longer count (0: all count), and the count of changes to their
/// listed rows (see `change_count`). On PostgreSQL, `None` too when the session `session_id` is
/// no longer stored (see `sessions::POSTGRES_STILL_STORED`).
pub async fn standing<'c>(
    exec: impl Executor<'c, Database = Any>,
    kind: DbKind,
    id: &str,
    session_id: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let query = match kind {
        DbKind::Sqlite => sqlx::query(&STANDING).bind(id),
        DbKind::Postgres => sqlx::query(&STANDING_POSTGRES).bind(id).bind(session_id),
    };
    let row = query.fetch_optional(exec).await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// Sets a new password hash and ends every log-in made before `valid_after`.
pub async fn set_password<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: &str,
    password_hash: &str,
    valid_after: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $2, sessions_valid_after = $3 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .bind(valid_after)
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the user; everything that references the row goes with it (ON DELETE CASCADE).
pub async fn delete<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}
