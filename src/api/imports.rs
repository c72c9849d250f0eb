//! `GET /api/a2e/avatars` (the A2E account's avatars the caller may adopt, with `imported`
//! flags) and `POST /api/characters/import {avatar_ids[]}` (adopt them as characters).

use super::json::ApiJson;
use crate::account_types::ImportableAvatar;
use crate::domain::imports;
use crate::error::AppError;
use crate::models::Character;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ImportableAvatar>>, AppError> {
    Ok(Json(imports::importable(&state.studio, &user.id).await?))
}

#[derive(Deserialize)]
pub struct ImportBody {
    #[serde(alias = "avatarIds")]
    avatar_ids: Vec<String>,
}

pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<(StatusCode, Json<Vec<Character>>), AppError> {
    let made = imports::import(&state.studio, &user.id, &body.avatar_ids).await?;
    Ok((StatusCode::CREATED, Json(made)))
}
