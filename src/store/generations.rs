//! The `generations` table. The spec (`kind` + `inputs`), references and work are typed JSON.

use crate::models::{Generation, GenerationSpec, GenerationStatus};
use sqlx::{Any, AnyConnection, Executor, Row};

const COLUMNS: &str = "id, user_id, kind, status, progress, inputs, refs, work, result_urls, error, notice, cost, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned + Default>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

fn decode_error(what: &str, detail: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("generation {what}: {detail}").into())
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Generation, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let inputs: String = row.try_get("inputs")?;
    let inputs: serde_json::Value =
        serde_json::from_str(&inputs).map_err(|e| decode_error("inputs", e))?;
    let spec: GenerationSpec =
        serde_json::from_value(serde_json::json!({ "kind": kind, "inputs": inputs }))
            .map_err(|e| decode_error("spec", e))?;
    let status: String = row.try_get("status")?;
    Ok(Generation {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        spec,
        status: GenerationStatus::parse(&status).ok_or_else(|| decode_error("status", &status))?,
        progress: row.try_get("progress")?,
        references: json(row, "refs")?,
        work: json(row, "work")?,
        result_urls: json(row, "result_urls")?,
        error: row.try_get("error")?,
        notice: row.try_get("notice")?,
        cost: row.try_get("cost")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The `inputs` column: the spec's content without its tag.
fn inputs_of(spec: &GenerationSpec) -> String {
    let tagged = serde_json::to_value(spec).unwrap_or_default();
    tagged["inputs"].to_string()
}

pub async fn insert(conn: &mut AnyConnection, g: &Generation) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO generations (id, user_id, kind, status, progress, inputs, refs, work, result_urls, error, cost, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&g.id)
    .bind(&g.user_id)
    .bind(g.kind().as_str())
    .bind(g.status.as_str())
    .bind(g.progress)
    .bind(inputs_of(&g.spec))
    .bind(to_json(&g.references))
    .bind(to_json(&g.work))
    .bind(to_json(&g.result_urls))
    .bind(&g.error)
    .bind(g.cost)
    .bind(g.created_at)
    .execute(&mut *conn)
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

/// Saves a generation's progress while it is unfinished (a cancel is never overwritten), or,
/// for one cancelled after A2E started, only its arriving results. `false` when nothing matched.
pub async fn save_progress(conn: &mut AnyConnection, g: &Generation) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE generations SET status = $3, progress = $4, work = $5, result_urls = $6, error = $7,
             notice = $8, updated_at = $9
         WHERE id = $1 AND user_id = $2 AND status IN ('queued', 'running')",
    )
    .bind(&g.id)
    .bind(&g.user_id)
    .bind(g.status.as_str())
    .bind(g.progress)
    .bind(to_json(&g.work))
    .bind(to_json(&g.result_urls))
    .bind(&g.error)
    .bind(&g.notice)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps the work and results of a generation cancelled after A2E started (its charge kept).
pub async fn save_cancelled(conn: &mut AnyConnection, g: &Generation) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE generations SET work = $3, result_urls = $4, updated_at = $5
         WHERE id = $1 AND user_id = $2 AND status = 'cancelled'",
    )
    .bind(&g.id)
    .bind(&g.user_id)
    .bind(to_json(&g.work))
    .bind(to_json(&g.result_urls))
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an unfinished generation cancelled; `false` when it had already finished.
pub async fn mark_cancelled(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    note: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE generations SET status = 'cancelled', error = $3, notice = NULL, updated_at = $4
         WHERE id = $1 AND user_id = $2 AND status IN ('queued', 'running')",
    )
    .bind(id)
    .bind(user_id)
    .bind(note)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
