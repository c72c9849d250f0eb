//! The `generations` table. The spec (`kind` + `inputs`), references and work are typed JSON.

use super::paging::{After, Params, SortKey};
use super::{json_rows, Db};
use crate::models::{Generation, GenerationSpec, GenerationStatus};
use sqlx::{Any, AnyConnection, Executor, Row};

const COLUMNS: &str = "id, user_id, kind, status, progress, inputs, refs, work, result_urls, error, notice, cost, created_at, updated_at";

/// A row as stored: read by sqlx (one row) or from a page of rows as JSON
/// ([`super::json_rows`]), then checked into a [`Generation`] by one conversion.
#[derive(sqlx::FromRow, serde::Deserialize)]
struct GenerationRow {
    id: String,
    user_id: String,
    kind: String,
    status: String,
    progress: i64,
    inputs: String,
    refs: String,
    work: String,
    result_urls: String,
    error: Option<String>,
    notice: Option<String>,
    cost: i64,
    created_at: i64,
    updated_at: i64,
}

fn decode_error(what: &str, detail: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("generation {what}: {detail}").into())
}

/// A JSON column; unreadable is its default, as a row from before the column's shape changed.
fn json<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

impl TryFrom<GenerationRow> for Generation {
    type Error = sqlx::Error;

    fn try_from(row: GenerationRow) -> Result<Self, sqlx::Error> {
        let spec = spec_of(&row.kind, &row.inputs)?;
        let status = GenerationStatus::parse(&row.status)
            .ok_or_else(|| decode_error("status", &row.status))?;
        Ok(Generation {
            spec,
            status,
            references: json(&row.refs),
            work: json(&row.work),
            result_urls: json(&row.result_urls),
            id: row.id,
            user_id: row.user_id,
            progress: row.progress,
            error: row.error,
            notice: row.notice,
            cost: row.cost,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The spec from its two columns, read in one pass as its wire form `{"kind": …, "inputs": …}`
/// (no intermediate `Value` trees: this runs for every row of every page of generations).
fn spec_of(kind: &str, inputs: &str) -> Result<GenerationSpec, sqlx::Error> {
    // One JSON value and nothing after it, so the text below has the shape it claims.
    serde_json::from_str::<serde::de::IgnoredAny>(inputs).map_err(|e| decode_error("inputs", e))?;
    let kind = serde_json::to_string(kind).map_err(|e| decode_error("kind", e))?;
    serde_json::from_str(&format!(r#"{{"kind":{kind},"inputs":{inputs}}}"#))
        .map_err(|e| decode_error("spec", e))
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Generation, sqlx::Error> {
    use sqlx::FromRow;
    GenerationRow::from_row(row)?.try_into()
}

/// A page of generations: `select`'s rows (output columns [`COLUMNS`]), newest first.
async fn page_from(
    db: &Db,
    user_id: &str,
    select: &str,
    p: &Params,
) -> Result<Vec<Generation>, sqlx::Error> {
    let order = "created_at DESC, id DESC";
    let rows: Vec<GenerationRow> = json_rows::fetch(db, user_id, select, COLUMNS, order, p).await?;
    rows.into_iter().map(Generation::try_from).collect()
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

/// Up to `limit` of the user's generations, newest first, strictly after `after`
/// (`created_at`, `id`); read along the index `(user_id, created_at, id)`.
pub async fn page(
    db: &Db,
    user_id: &str,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<Generation>, sqlx::Error> {
    let mut p = Params::default();
    let mut sql = format!(
        "SELECT {COLUMNS} FROM generations WHERE user_id = {}",
        p.text(user_id)
    );
    if let Some(after) = after {
        let (key, id) = (p.push(after.key.clone()), p.text(&after.id));
        sql.push_str(&format!(" AND (created_at, id) < ({key}, {id})"));
    }
    let limit = p.push(SortKey::Int(limit));
    sql.push_str(&format!(" ORDER BY created_at DESC, id DESC LIMIT {limit}"));
    page_from(db, user_id, &sql, &p).await
}

/// The generations that used a character (provenance), newest first, keyset-paged like
/// [`page`] along `generation_characters (character_id, created_at, generation_id)`.
pub async fn page_of_character(
    db: &Db,
    user_id: &str,
    character_id: &str,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<Generation>, sqlx::Error> {
    let mut p = Params::default();
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("g.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "SELECT {columns} FROM generation_characters gc JOIN generations g ON g.id = gc.generation_id
         WHERE gc.character_id = {} AND gc.user_id = {}",
        p.text(character_id),
        p.text(user_id)
    );
    if let Some(after) = after {
        let (key, id) = (p.push(after.key.clone()), p.text(&after.id));
        sql.push_str(&format!(
            " AND (gc.created_at, gc.generation_id) < ({key}, {id})"
        ));
    }
    let limit = p.push(SortKey::Int(limit));
    sql.push_str(&format!(
        " ORDER BY gc.created_at DESC, gc.generation_id DESC LIMIT {limit}"
    ));
    page_from(db, user_id, &sql, &p).await
}

/// Records which of the user's characters a new generation uses (each once), and counts the
/// use on each: in the transaction that saves the generation.
pub async fn link_characters(conn: &mut AnyConnection, g: &Generation) -> Result<(), sqlx::Error> {
    let mut ids: Vec<&str> = g
        .references
        .iter()
        .filter_map(|r| r.character_id.as_deref())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        sqlx::query(
            "INSERT INTO generation_characters (generation_id, character_id, user_id, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&g.id)
        .bind(id)
        .bind(&g.user_id)
        .bind(g.created_at)
        .execute(&mut *conn)
        .await?;
        count_use(conn, id, 1).await?;
    }
    Ok(())
}

async fn count_use(
    conn: &mut AnyConnection,
    character_id: &str,
    by: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE character_references
         SET times_used = CASE WHEN times_used + $2 < 0 THEN 0 ELSE times_used + $2 END WHERE id = $1",
    )
    .bind(character_id)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes the row's write lock for the rest of the transaction (changes nothing).
pub async fn touch(conn: &mut AnyConnection, user_id: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE generations SET updated_at = updated_at WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes one of the user's generations (its character links go with it, and their counts
/// down by one). `false` when there is none of theirs.
pub async fn delete(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let linked = sqlx::query(
        "SELECT character_id FROM generation_characters WHERE generation_id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let done = sqlx::query("DELETE FROM generations WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    for row in &linked {
        let character_id: String = row.try_get("character_id")?;
        count_use(conn, &character_id, -1).await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_rows_in_column_order() {
        super::super::json_rows::assert_columns_match::<GenerationRow>(COLUMNS);
    }

    #[test]
    fn a_spec_reads_back_from_its_columns() {
        let spec: GenerationSpec = serde_json::from_value(serde_json::json!({
            "kind": "scene",
            "inputs": { "prompt": "a \"quoted\" harbour", "aspect_ratio": "16:9" }
        }))
        .unwrap();
        let wire = serde_json::to_value(&spec).unwrap();
        let inputs = wire["inputs"].to_string();
        assert_eq!(spec_of("scene", &inputs).unwrap(), spec);
        assert!(spec_of("scene", r#"{"prompt": "x"}, "kind": "fight""#).is_err());
        assert!(spec_of("no_such_kind", &inputs).is_err());
    }
}
