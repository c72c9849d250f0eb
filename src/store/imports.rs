//! Adopting avatars of the A2E account: who holds which avatar, which are being removed, and
//! the record of what was imported.

use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// For each avatar among `ids` that a character holds: (its user, its character).
pub async fn holders(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<HashMap<String, (String, String)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT avatar_id, user_id, id FROM character_references WHERE avatar_id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("avatar_id")?,
                (r.try_get("user_id")?, r.try_get("id")?),
            ))
        })
        .collect()
}

/// Which of `character_ids` exist (of any user).
pub async fn existing_characters(
    conn: &mut AnyConnection,
    character_ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if character_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT id FROM character_references WHERE id IN ({})",
        placeholders(1, character_ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in character_ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get("id")).collect()
}

/// Avatars whose removal at A2E is queued or under way (their character was deleted).
pub async fn being_removed(
    conn: &mut AnyConnection,
    removal_kind: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT dedupe_key FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')
           AND dedupe_key IS NOT NULL",
    )
    .bind(removal_kind)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::new();
    for row in &rows {
        let key: String = row.try_get("dedupe_key")?;
        if let Some(id) = key.strip_prefix("removal:") {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Records an adopted avatar; `false` when it was imported already (by anyone).
pub async fn record(
    conn: &mut AnyConnection,
    avatar_id: &str,
    user_id: &str,
    character_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO avatar_imports (avatar_id, user_id, character_id, imported_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (avatar_id) DO NOTHING",
    )
    .bind(avatar_id)
    .bind(user_id)
    .bind(character_id)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the avatar was adopted (trained elsewhere).
pub async fn is_imported(conn: &mut AnyConnection, avatar_id: &str) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS one FROM avatar_imports WHERE avatar_id = $1")
        .bind(avatar_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}
