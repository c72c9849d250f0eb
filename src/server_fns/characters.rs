//! Characters for the UI: the picker's page, create by prompt, delete, continue and retry
//! training.
//! (Uploads go to the JSON route `POST /api/characters`, which takes multipart bodies.)

use crate::error::AppError;
use crate::models::Character;
use leptos::prelude::*;

#[server(prefix = "/sfn")]
pub async fn create_character(
    prompt: String,
    name: String,
    outfit_description: String,
    model_version: String,
) -> Result<Character, AppError> {
    use super::context;
    use crate::domain::characters::{self, PromptInput};
    context::for_user(move |studio, user| async move {
        let input = PromptInput {
            prompt,
            name: Some(name),
            outfit_description: Some(outfit_description),
            model_version: Some(model_version),
            ..Default::default()
        };
        characters::create_from_prompt(&studio, &user, input).await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn delete_character(id: String) -> Result<(), AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::characters::delete(&studio, &user, &id).await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn continue_training(id: String) -> Result<Character, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::characters::continue_training(&studio, &user, &id).await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn retry_training(id: String) -> Result<Character, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::characters::retry_training(&studio, &user, &id).await
    })
    .await
}

/// Characters offered by the canvas's picker at once: a user may have thousands.
pub const PICKER_PAGE: i64 = 48;

/// The picker's characters (only trained ones with `trained_only`): the most used first (or
/// those matching `q`), a page of them, plus the ones in `include` (picked already, or a
/// preset's) wherever they stand. `Page::next_cursor` says only whether there are more to find
/// by searching.
#[server(prefix = "/sfn", input = leptos::server_fn::codec::Json)]
pub async fn picker_characters(
    q: String,
    include: Vec<String>,
    trained_only: bool,
) -> Result<crate::models::Page<Character>, AppError> {
    use super::context;
    use crate::models::GalleryQuery;
    context::read_counted(move |studio, user| async move {
        let query = GalleryQuery {
            q: Some(q).filter(|q| !q.trim().is_empty()),
            sort: Some("most_used".into()),
            status: trained_only.then(|| "completed".into()),
            limit: Some(PICKER_PAGE.to_string()),
            ..Default::default()
        };
        let mut page = crate::domain::library::gallery(&studio, &user, &query).await?;
        for id in include.iter().take(PICKER_PAGE as usize) {
            if !page.items.iter().any(|c| &c.id == id) {
                if let Ok(c) = crate::domain::characters::get(&studio, &user, id).await {
                    page.items.push(c);
                }
            }
        }
        Ok::<_, crate::domain::error::DomainError>(page)
    })
    .await
}
