//! The `character_events` table: a character's training history, written in the same
//! transaction as the change it records.

use crate::models::{CharacterEvent, EventKind};
use sqlx::{Any, AnyConnection, Executor, Row};

/// Records one event about a character.
pub async fn record(
    conn: &mut AnyConnection,
    user_id: &str,
    character_id: &str,
    kind: EventKind,
    detail: &str,
    progress: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO character_events (id, character_id, user_id, kind, detail, progress, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(super::new_id())
    .bind(character_id)
    .bind(user_id)
    .bind(kind.as_str())
    .bind(detail)
    .bind(progress)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The kind of the character's latest event, if any.
pub async fn last_kind(
    conn: &mut AnyConnection,
    character_id: &str,
) -> Result<Option<EventKind>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT kind FROM character_events WHERE character_id = $1
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(character_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(row) => EventKind::parse(&row.try_get::<String, _>("kind")?),
        None => None,
    })
}

/// A character's history, oldest first. The caller has checked the character is the user's.
pub async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    character_id: &str,
) -> Result<Vec<CharacterEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, kind, detail, progress, created_at FROM character_events
         WHERE character_id = $1 AND user_id = $2 ORDER BY created_at, id",
    )
    .bind(character_id)
    .bind(user_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(CharacterEvent {
                id: row.try_get("id")?,
                kind: EventKind::parse(&kind).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown event kind {kind:?}").into())
                })?,
                detail: row.try_get("detail")?,
                progress: row.try_get("progress")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}
