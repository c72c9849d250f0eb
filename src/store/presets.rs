//! The `presets` table: named defaults saved from a trained character.

use crate::account_types::Preset;
use sqlx::{Any, Executor, Row};

const COLUMNS: &str =
    "p.id, p.name, p.character_id, c.name AS character_name, p.outfit_description,
    p.model_version, p.voice, p.aspect_ratio, p.motion_clip_url, p.created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Preset, sqlx::Error> {
    Ok(Preset {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        character_id: r.try_get("character_id")?,
        character_name: r.try_get("character_name")?,
        outfit_description: r.try_get("outfit_description")?,
        model_version: r.try_get("model_version")?,
        voice: r.try_get("voice")?,
        aspect_ratio: r.try_get("aspect_ratio")?,
        motion_clip_url: r.try_get("motion_clip_url")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Saves a preset; `false` when the user already has one of that name.
pub async fn insert<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    p: &Preset,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO presets (id, user_id, name, character_id, outfit_description, model_version,
             voice, aspect_ratio, motion_clip_url, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (user_id, name) DO NOTHING",
    )
    .bind(&p.id)
    .bind(user_id)
    .bind(&p.name)
    .bind(&p.character_id)
    .bind(&p.outfit_description)
    .bind(&p.model_version)
    .bind(&p.voice)
    .bind(&p.aspect_ratio)
    .bind(&p.motion_clip_url)
    .bind(p.created_at)
    .execute(exec)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's presets, newest first, with the current name of their character.
pub async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
) -> Result<Vec<Preset>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM presets p LEFT JOIN character_references c ON c.id = p.character_id
         WHERE p.user_id = $1 ORDER BY p.created_at DESC, p.id"
    );
    let rows = sqlx::query(&sql).bind(user_id).fetch_all(exec).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    id: &str,
) -> Result<Option<Preset>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM presets p LEFT JOIN character_references c ON c.id = p.character_id
         WHERE p.user_id = $1 AND p.id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(user_id)
        .bind(id)
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn count<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM presets WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(exec)
        .await?;
    row.try_get("n")
}

/// Deletes one of the user's presets; `false` when there is none of theirs.
pub async fn delete<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM presets WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(exec)
        .await?;
    Ok(done.rows_affected() == 1)
}
