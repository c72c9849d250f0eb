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

#[utoipa::path(get, path = "/api/a2e/avatars", tag = "characters", responses((status = 200, description = "The A2E account's avatars, with `imported` flags", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
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

#[utoipa::path(post, path = "/api/characters/import", tag = "characters", request_body(content = Object, description = "`{avatar_ids[]}`"), responses((status = 201, description = "The new characters", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 409, description = "Already imported", body = super::openapi::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<(StatusCode, Json<Vec<Character>>), AppError> {
    let made = imports::import(&state.studio, &user.id, &body.avatar_ids).await?;
    Ok((StatusCode::CREATED, Json(made)))
}
