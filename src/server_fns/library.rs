//! The library's server functions: gallery pages, editing and bulk-deleting characters, a
//! character's detail (history, provenance), the paged history, make again, delete.

use crate::error::AppError;
use crate::models::{Character, CharacterEvent, GalleryQuery, Generation, Page};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// Rows per gallery page in the UI.
pub const GALLERY_PAGE: i64 = 24;
/// Generations per page in the UI's lists.
pub const HISTORY_PAGE: i64 = 20;

#[server(prefix = "/sfn", input = Json)]
pub async fn gallery_page(query: GalleryQuery) -> Result<Page<Character>, AppError> {
    use super::context;
    let mut query = query;
    query.limit = Some(GALLERY_PAGE.to_string());
    context::read_counted(move |studio, user| async move {
        crate::domain::library::gallery(&studio, &user, &query).await
    })
    .await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn edit_character(
    id: String,
    name: Option<String>,
    tags: Option<Vec<String>>,
    outfit_description: Option<String>,
) -> Result<Character, AppError> {
    use super::context;
    use crate::domain::library::{update, CharacterPatch};
    context::for_user(move |studio, user| async move {
        let patch = CharacterPatch {
            name,
            tags,
            outfit_description,
        };
        update(&studio, &user, &id, patch).await
    })
    .await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn delete_characters(ids: Vec<String>) -> Result<usize, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::library::delete_many(&studio, &user, &ids).await
    })
    .await
}

/// A character with its training history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterWithHistory {
    pub character: Character,
    pub events: Vec<CharacterEvent>,
}

impl crate::models::ChangesWithTime for CharacterWithHistory {
    fn changes_with_time(&self) -> bool {
        self.character.changes_with_time()
    }
}

#[server(prefix = "/sfn")]
pub async fn character_detail(id: String) -> Result<CharacterWithHistory, AppError> {
    use super::context;
    use crate::domain::{characters, library};
    context::read_counted(move |studio, user| async move {
        let character = characters::get(&studio, &user, &id).await?;
        let events = library::events(&studio, &user, &id).await?;
        Ok::<_, crate::domain::error::DomainError>(CharacterWithHistory { character, events })
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn character_generations(
    id: String,
    cursor: Option<String>,
) -> Result<Page<Generation>, AppError> {
    use super::context;
    context::read_counted(move |studio, user| async move {
        let limit = HISTORY_PAGE.to_string();
        crate::domain::library::provenance(&studio, &user, &id, Some(&*limit), cursor.as_deref())
            .await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn generations_page(cursor: Option<String>) -> Result<Page<Generation>, AppError> {
    use super::context;
    context::read_counted(move |studio, user| async move {
        let limit = HISTORY_PAGE.to_string();
        crate::domain::library::generations(&studio, &user, Some(&*limit), cursor.as_deref()).await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn remake_generation(
    id: String,
    use_current_avatar: bool,
) -> Result<Generation, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::generations::remake(&studio, &user, &id, use_current_avatar).await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn delete_generation(id: String) -> Result<(), AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::generations::delete(&studio, &user, &id).await
    })
    .await
}
