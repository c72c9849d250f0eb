//! The `generations` table. JSON columns hold the parts whose shape varies by kind.

use crate::models::Generation;
use sqlx::{Any, Executor, Row};

const COLUMNS: &str = "id, user_id, kind, status, progress, inputs, refs, work, result_urls, error, cost, created_at, updated_at";

fn json(row: &sqlx::any::AnyRow, column: &str) -> Result<serde_json::Value, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Generation, sqlx::Error> {
    Ok(Generation {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        progress: row.try_get("progress")?,
        inputs: json(row, "inputs")?,
        references: serde_json::from_value(json(row, "refs")?).unwrap_or_default(),
        work: json(row, "work")?,
        result_urls: serde_json::from_value(json(row, "result_urls")?).unwrap_or_default(),
        error: row.try_get("error")?,
        cost: row.try_get("cost")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert<'c>(
    exec: impl Executor<'c, Database = Any>,
    g: &Generation,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO generations (id, user_id, kind, status, progress, inputs, refs, work, result_urls, error, cost, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&g.id)
    .bind(&g.user_id)
    .bind(&g.kind)
    .bind(&g.status)
    .bind(g.progress)
    .bind(g.inputs.to_string())
    .bind(serde_json::to_string(&g.references).unwrap_or_default())
    .bind(g.work.to_string())
    .bind(serde_json::to_string(&g.result_urls).unwrap_or_default())
    .bind(&g.error)
    .bind(g.cost)
    .bind(g.created_at)
    .execute(exec)
    .await?;
    Ok(())
}

pub async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    id: &str,
) -> Result<Option<Generation>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM generations WHERE id = $1 AND user_id = $2");
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(user_id)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    limit: i64,
) -> Result<Vec<Generation>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM generations WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2");
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Saves a generation's progress. Only while it is unfinished: a cancel is never overwritten.
pub async fn save_progress<'c>(
    exec: impl Executor<'c, Database = Any>,
    g: &Generation,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE generations SET status = $3, progress = $4, work = $5, result_urls = $6, error = $7, updated_at = $8
         WHERE id = $1 AND user_id = $2 AND status IN ('queued', 'running')",
    )
    .bind(&g.id)
    .bind(&g.user_id)
    .bind(&g.status)
    .bind(g.progress)
    .bind(g.work.to_string())
    .bind(serde_json::to_string(&g.result_urls).unwrap_or_default())
    .bind(&g.error)
    .bind(super::now_millis())
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}
