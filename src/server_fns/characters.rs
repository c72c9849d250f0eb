//! Characters for the UI: list, create by prompt, delete, continue and retry training.
//! (Uploads go to the JSON route `POST /api/characters`, which takes multipart bodies.)

use crate::error::AppError;
use crate::models::Character;
use leptos::prelude::*;

#[server(prefix = "/sfn")]
pub async fn list_characters() -> Result<Vec<Character>, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::characters::list(&studio, &user).await
    })
    .await
}

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
