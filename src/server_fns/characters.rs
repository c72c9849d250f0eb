//! Characters for the UI: list, create by prompt, delete, continue and retry training.
//! (Uploads go to the JSON route `POST /api/characters`, which takes multipart bodies.)

use crate::error::AppError;
use crate::models::Character;
use leptos::prelude::*;

#[server(prefix = "/sfn")]
pub async fn list_characters() -> Result<Vec<Character>, AppError> {
    use super::context;
    context::answer(
        async {
            let (state, user) = (context::state()?, context::user_id().await?);
            crate::domain::characters::list(&state.studio, &user).await
        }
        .await,
    )
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
    context::answer(
        async {
            let (state, user) = (context::state()?, context::user_id().await?);
            let input = PromptInput {
                prompt,
                name: Some(name),
                outfit_description: Some(outfit_description),
                model_version: Some(model_version),
                ..Default::default()
            };
            characters::create_from_prompt(&state.studio, &user, input).await
        }
        .await,
    )
}

#[server(prefix = "/sfn")]
pub async fn delete_character(id: String) -> Result<(), AppError> {
    use super::context;
    context::answer(
        async {
            let (state, user) = (context::state()?, context::user_id().await?);
            crate::domain::characters::delete(&state.studio, &user, &id).await
        }
        .await,
    )
}

#[server(prefix = "/sfn")]
pub async fn continue_training(id: String) -> Result<Character, AppError> {
    use super::context;
    context::answer(
        async {
            let (state, user) = (context::state()?, context::user_id().await?);
            crate::domain::characters::continue_training(&state.studio, &user, &id).await
        }
        .await,
    )
}

#[server(prefix = "/sfn")]
pub async fn retry_training(id: String) -> Result<Character, AppError> {
    use super::context;
    context::answer(
        async {
            let (state, user) = (context::state()?, context::user_id().await?);
            crate::domain::characters::retry_training(&state.studio, &user, &id).await
        }
        .await,
    )
}
