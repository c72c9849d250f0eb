//! Short descriptions of a user's characters and generations, looked up by id in one query
//! each (the credits page names what every entry was for).

use sqlx::{Any, Executor, Row};
use std::collections::HashMap;

/// What the credits page says about a generation.
#[derive(Debug, Clone)]
pub struct GenerationLabel {
    pub kind: String,
    /// The first character it used, if any (its page lists the generation).
    pub character_id: Option<String>,
    pub character_name: Option<String>,
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names of the user's characters among `ids` (other users' and deleted ones are absent).
pub async fn character_names<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    ids: &[String],
) -> Result<HashMap<String, String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, name FROM character_references WHERE user_id = $1 AND id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(user_id);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(exec).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

/// Labels of the user's generations among `ids`.
pub async fn generation_labels<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    ids: &[String],
) -> Result<HashMap<String, GenerationLabel>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, kind, refs FROM generations WHERE user_id = $1 AND id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(user_id);
    for id in ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(exec).await?;
    let mut labels = HashMap::new();
    for r in &rows {
        let refs: String = r.try_get("refs")?;
        let refs: Vec<crate::models::Reference> = serde_json::from_str(&refs).unwrap_or_default();
        let first = refs.into_iter().find(|r| r.character_id.is_some());
        labels.insert(
            r.try_get("id")?,
            GenerationLabel {
                kind: r.try_get("kind")?,
                character_name: first.as_ref().map(|f| f.name.clone()),
                character_id: first.and_then(|f| f.character_id),
            },
        );
    }
    Ok(labels)
}
