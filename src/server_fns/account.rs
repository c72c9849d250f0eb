//! The account pages: the credits page's ledger, API tokens, password, deleting the account.

use crate::account_types::{CreditSummary, LedgerPage};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// How long a kept credits page may show A2E's coins (see `server::kept_pages`).
#[cfg(feature = "ssr")]
const A2E_COINS_SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// The credits page: the summary, and one page of entries after `cursor` (newest first).
#[server(prefix = "/sfn")]
pub async fn load_credits(cursor: Option<String>) -> Result<(CreditSummary, LedgerPage), AppError> {
    use super::context;
    use crate::domain::ledger;
    let demo = context::state()?.config.demo_mode();
    context::read_counted(move |studio, user| async move {
        let summary = ledger::summary(&studio, &user, demo).await?;
        if summary.a2e.is_some() {
            // They move on their own: a page showing them is kept this long at most.
            let until = std::time::Instant::now() + A2E_COINS_SHOWN_FOR;
            context::tell_page(|shown| shown.until(until));
        }
        let limit = ledger::DEFAULT_LIMIT;
        let page = ledger::page(&studio.db, &user, limit, cursor.as_deref()).await?;
        Ok::<_, crate::domain::error::DomainError>((summary, page))
    })
    .await
}

/// A personal API token as the account page lists it (never its secret).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenSummary {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Its last use is counted (to the minute, see `store::tokens`).
impl crate::models::ChangesWithTime for TokenSummary {
    fn changes_with_time(&self) -> bool {
        false
    }
}

#[server(prefix = "/sfn")]
pub async fn list_api_tokens() -> Result<Vec<TokenSummary>, AppError> {
    use super::context;
    context::read_counted(move |studio, user| async move {
        let list = crate::domain::tokens::list(&studio.db, &user).await?;
        Ok::<_, crate::domain::error::DomainError>(
            list.into_iter()
                .map(|t| TokenSummary {
                    id: t.id,
                    name: t.name,
                    created_at: t.created_at,
                    last_used_at: t.last_used_at,
                })
                .collect(),
        )
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::tokens::revoke(&studio.db, &user, &id).await
    })
    .await
}

/// Changes the password; this browser stays logged in, every other session ends.
#[server(prefix = "/sfn")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use super::context;
    let result = async {
        let (state, user) = (context::state()?, context::user_id().await?);
        let db = &state.studio.db;
        crate::domain::accounts::change_password(db, &user, &current_password, &new_password)
            .await?;
        crate::server::session::log_in(&context::session().await?, &user).await
    }
    .await;
    context::answer(result)
}

/// Deletes the account (after checking the password) and logs this browser out.
#[server(prefix = "/sfn")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    use super::context;
    let result = async {
        let (state, user) = (context::state()?, context::user_id().await?);
        crate::domain::closing::delete_account(&state.studio, &user, &password).await?;
        crate::server::session::log_out(&context::session().await?).await
    }
    .await;
    context::answer(result)
}

#[server(prefix = "/sfn")]
pub async fn list_presets() -> Result<Vec<crate::account_types::Preset>, AppError> {
    use super::context;
    context::read_counted(move |studio, user| async move {
        crate::domain::presets::list(&studio, &user).await
    })
    .await
}

/// One preset (for the forms that start from it).
#[server(prefix = "/sfn")]
pub async fn load_preset(id: String) -> Result<crate::account_types::Preset, AppError> {
    use super::context;
    context::read_counted(move |studio, user| async move {
        crate::domain::presets::get(&studio, &user, &id).await
    })
    .await
}

/// Saves a trained character's defaults as a named preset (empty fields: the character's own,
/// or none).
#[server(prefix = "/sfn")]
pub async fn save_preset(
    name: String,
    character_id: String,
    outfit_description: String,
    model_version: String,
    voice: String,
    aspect_ratio: String,
    motion_clip_url: String,
) -> Result<crate::account_types::Preset, AppError> {
    use super::context;
    use crate::domain::presets::{self, PresetInput};
    let some = |v: String| Some(v).filter(|v| !v.trim().is_empty());
    let input = PresetInput {
        name,
        character_id,
        outfit_description: some(outfit_description),
        model_version: some(model_version),
        voice: some(voice),
        aspect_ratio: some(aspect_ratio),
        motion_clip_url: some(motion_clip_url),
    };
    context::for_user(
        move |studio, user| async move { presets::create(&studio, &user, input).await },
    )
    .await
}

#[server(prefix = "/sfn")]
pub async fn delete_preset(id: String) -> Result<(), AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::presets::delete(&studio, &user, &id).await
    })
    .await
}

/// The A2E account's avatars the user may adopt (with `imported` flags).
#[server(prefix = "/sfn")]
pub async fn list_importable_avatars(
) -> Result<Vec<crate::account_types::ImportableAvatar>, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::imports::importable(&studio, &user).await
    })
    .await
}

/// Adopts the chosen A2E avatars as characters; answers how many were imported.
#[server(prefix = "/sfn", input = Json)]
pub async fn import_avatars(avatar_ids: Vec<String>) -> Result<usize, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::imports::import(&studio, &user, &avatar_ids)
            .await
            .map(|made| made.len())
    })
    .await
}
