//! The `character_references` table.

use crate::models::{AvatarStatus, Character, CharacterWork, Source, TrainingKind};
use sqlx::AnyConnection;
use sqlx::{Any, Executor, Row};

pub(crate) const COLUMNS: &str =
    "id, user_id, name, prompt, outfit_description, image_url, video_url, source,
    gender, avatar_id, avatar_status, avatar_error, avatar_progress, training_started_at,
    training_eta_at, preview_url, model_version, training_kind, continued, tags, notice, times_used,
    created_at, updated_at";

/// A new row, as the creation flow fills it.
#[derive(Debug, Clone)]
pub struct NewCharacter {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prompt: String,
    pub outfit_description: String,
    pub image_url: Option<String>,
    pub video_url: Option<String>,
    pub source: Source,
    pub gender: Option<String>,
    pub model_version: String,
    pub training_kind: TrainingKind,
    pub tags: Vec<String>,
    /// The first step of its job.
    pub work: CharacterWork,
}

/// Where an avatar's training stands, as last seen at A2E.
#[derive(Debug, Clone)]
pub struct AvatarState {
    pub avatar_id: Option<String>,
    pub status: AvatarStatus,
    pub error: Option<String>,
    pub progress: Option<i64>,
    pub started_at: Option<i64>,
    pub eta_at: Option<i64>,
    pub preview_url: Option<String>,
}

impl AvatarState {
    /// Only the status (everything else cleared or kept as the columns' rules say).
    pub fn of(status: AvatarStatus) -> Self {
        Self {
            avatar_id: None,
            status,
            error: None,
            progress: None,
            started_at: None,
            eta_at: None,
            preview_url: None,
        }
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        Self {
            error: Some(reason.into()),
            ..Self::of(AvatarStatus::Failed)
        }
    }
}

/// A row as stored: read by sqlx (one row) or from a page of rows as JSON
/// ([`super::json_rows`]), then checked into a [`Character`] by one conversion.
#[derive(sqlx::FromRow, serde::Deserialize)]
pub(crate) struct CharacterRow {
    id: String,
    user_id: String,
    name: String,
    prompt: String,
    outfit_description: String,
    image_url: Option<String>,
    video_url: Option<String>,
    source: String,
    gender: Option<String>,
    avatar_id: Option<String>,
    avatar_status: String,
    avatar_error: Option<String>,
    avatar_progress: Option<i64>,
    training_started_at: Option<i64>,
    training_eta_at: Option<i64>,
    preview_url: Option<String>,
    model_version: String,
    training_kind: String,
    continued: i64,
    tags: String,
    notice: Option<String>,
    times_used: i64,
    created_at: i64,
    updated_at: i64,
}

fn word<T>(column: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    parse(text).ok_or_else(|| sqlx::Error::Decode(format!("unknown {column} {text:?}").into()))
}

impl TryFrom<CharacterRow> for Character {
    type Error = sqlx::Error;

    fn try_from(row: CharacterRow) -> Result<Self, sqlx::Error> {
        let status = word("avatar_status", &row.avatar_status, AvatarStatus::parse)?;
        let eta_seconds = row
            .training_eta_at
            .filter(|_| status == AvatarStatus::Training)
            .map(|at| ((at - super::now_millis()) / 1000).max(0));
        Ok(Character {
            source: word("source", &row.source, Source::parse)?,
            training_kind: word("training_kind", &row.training_kind, TrainingKind::parse)?,
            tags: row
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            id: row.id,
            user_id: row.user_id,
            name: row.name,
            prompt: row.prompt,
            outfit_description: row.outfit_description,
            image_url: row.image_url,
            video_url: row.video_url,
            gender: row.gender,
            avatar_id: row.avatar_id,
            avatar_status: status,
            avatar_error: row.avatar_error,
            avatar_progress: row.avatar_progress,
            eta_seconds,
            training_started_at: row.training_started_at,
            preview_url: row.preview_url,
            model_version: row.model_version,
            continued: row.continued != 0,
            notice: row.notice,
            times_used: row.times_used,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Character, sqlx::Error> {
    use sqlx::FromRow;
    CharacterRow::from_row(row)?.try_into()
}

pub async fn insert(
    conn: &mut AnyConnection,
    c: &NewCharacter,
    status: AvatarStatus,
) -> Result<(), sqlx::Error> {
    let now = super::now_millis();
    sqlx::query(
        "INSERT INTO character_references (id, user_id, name, prompt, outfit_description, image_url,
             video_url, source, gender, avatar_status, model_version, training_kind, tags, work,
             sort_name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(&c.id)
    .bind(&c.user_id)
    .bind(&c.name)
    .bind(&c.prompt)
    .bind(&c.outfit_description)
    .bind(&c.image_url)
    .bind(&c.video_url)
    .bind(c.source.as_str())
    .bind(&c.gender)
    .bind(status.as_str())
    .bind(&c.model_version)
    .bind(c.training_kind.as_str())
    .bind(c.tags.join(","))
    .bind(work_json(&c.work))
    .bind(sort_name(&c.name))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    // The display copy went in with the row; the rows filtered on follow.
    for tag in &c.tags {
        insert_tag(conn, &c.user_id, &c.id, tag).await?;
    }
    Ok(())
}

async fn insert_tag(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    tag: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO character_tags (character_id, user_id, tag) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(tag)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The key names sort by: lowercase, so both databases order them alike.
pub fn sort_name(name: &str) -> String {
    name.to_lowercase()
}

/// Replaces a character's tags (the rows filtered on, and the display copy).
pub async fn set_tags(
    conn: &mut AnyConnection,
    user_id: &str,
    id: &str,
    tags: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM character_tags WHERE character_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for tag in tags {
        insert_tag(conn, user_id, id, tag).await?;
    }
    sqlx::query("UPDATE character_references SET tags = $2 WHERE id = $1")
        .bind(id)
        .bind(tags.join(","))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Renames a character and/or changes its outfit; `None` keeps a field as it is.
pub async fn update_details(
    conn: &mut AnyConnection,
    id: &str,
    name: Option<&str>,
    outfit: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE character_references SET name = COALESCE($2, name), sort_name = COALESCE($3, sort_name),
             outfit_description = COALESCE($4, outfit_description), updated_at = $5
         WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(name.map(sort_name))
    .bind(outfit)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn work_json(work: &CharacterWork) -> String {
    serde_json::to_string(work).unwrap_or_default()
}

/// The step a character's job is on (`Idle` when none, or for rows older than steps).
pub async fn work(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<CharacterWork>, sqlx::Error> {
    let row = sqlx::query("SELECT work FROM character_references WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get("work")?;
    Ok(Some(serde_json::from_str(&text).unwrap_or_default()))
}

/// Records the job's step, and the passing notice users see while it waits.
pub async fn set_work(
    conn: &mut AnyConnection,
    id: &str,
    work: &CharacterWork,
    notice: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE character_references SET work = $2, notice = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(work_json(work))
    .bind(notice)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Trainings A2E is running that no job step is driving (their work is `Track`), in id
/// order after `after_id`: what the training watch follows.
pub async fn tracked_after<'c>(
    exec: impl Executor<'c, Database = Any>,
    after_id: &str,
    limit: i64,
) -> Result<Vec<Character>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM character_references
         WHERE avatar_status = 'training' AND work = $1 AND id > $2 ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(work_json(&CharacterWork::Track))
        .bind(after_id)
        .bind(limit)
        .fetch_all(exec)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Proves, inside the caller's transaction, that the character is still tracking this
/// avatar's training (not deleted, retried or changed meanwhile), and on PostgreSQL locks its
/// row until commit.
pub async fn hold_tracked(
    conn: &mut AnyConnection,
    id: &str,
    avatar_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE character_references SET updated_at = updated_at
         WHERE id = $1 AND avatar_id = $2 AND avatar_status = 'training' AND work = $3",
    )
    .bind(id)
    .bind(avatar_id)
    .bind(work_json(&CharacterWork::Track))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The characters of these ids (any user's: for server-side work only), in no set order.
pub async fn get_many<'c>(
    exec: impl Executor<'c, Database = Any>,
    ids: &[String],
) -> Result<Vec<Character>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM character_references WHERE id IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(exec).await?;
    rows.iter().map(from_row).collect()
}

/// Takes the row's write lock for the rest of the transaction (changes nothing).
pub async fn touch(conn: &mut AnyConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE character_references SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets the kept portrait of a generated character.
pub async fn set_image(conn: &mut AnyConnection, id: &str, url: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE character_references SET image_url = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(url)
        .bind(super::now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One of the user's characters; someone else's answers `None`, like a missing one.
pub async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    id: &str,
) -> Result<Option<Character>, sqlx::Error> {
    one_where(exec, "id", id, user_id).await
}

pub async fn get_by_avatar<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    avatar_id: &str,
) -> Result<Option<Character>, sqlx::Error> {
    one_where(exec, "avatar_id", avatar_id, user_id).await
}

async fn one_where<'c>(
    exec: impl Executor<'c, Database = Any>,
    column: &'static str,
    value: &str,
    user_id: &str,
) -> Result<Option<Character>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM character_references WHERE {column} = $1 AND user_id = $2");
    let row = sqlx::query(&sql)
        .bind(value)
        .bind(user_id)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records the avatar's state; `continued` marks a continued training.
pub async fn set_avatar_state<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: &str,
    state: &AvatarState,
    continued: Option<bool>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE character_references SET avatar_id = COALESCE($2, avatar_id), avatar_status = $3,
             avatar_error = $4, avatar_progress = $5, training_started_at = COALESCE($6, training_started_at),
             training_eta_at = $7, preview_url = COALESCE($8, preview_url),
             continued = COALESCE($9, continued), notice = NULL, updated_at = $10
         WHERE id = $1",
    )
    .bind(id)
    .bind(&state.avatar_id)
    .bind(state.status.as_str())
    .bind(&state.error)
    .bind(state.progress)
    .bind(state.started_at)
    .bind(state.eta_at)
    .bind(&state.preview_url)
    .bind(continued.map(i64::from))
    .bind(super::now_millis())
    .execute(exec)
    .await?;
    Ok(())
}

/// Moves the avatar from status `from` to `to` only if no one else changed the row since
/// `seen_at` (its `updated_at` when read). Answers the row's new `updated_at`, or `None` when
/// another request got there first.
pub async fn claim_status<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: &str,
    (from, to): (AvatarStatus, AvatarStatus),
    seen_at: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let stamp = super::now_millis().max(seen_at + 1);
    let done = sqlx::query(
        "UPDATE character_references SET avatar_status = $3, updated_at = $4
         WHERE id = $1 AND avatar_status = $2 AND updated_at = $5",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(stamp)
    .bind(seen_at)
    .execute(exec)
    .await?;
    Ok((done.rows_affected() == 1).then_some(stamp))
}

/// Deletes one of the user's characters; `false` when there is none of theirs.
pub async fn delete<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM character_references WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_read_rows_in_column_order() {
        super::super::json_rows::assert_columns_match::<super::CharacterRow>(super::COLUMNS);
    }
}
