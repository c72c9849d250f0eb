//! `GET|POST /api/presets`, `DELETE /api/presets/{id}`: named defaults of trained characters.
//! The list is a JSON array, not paged: a user keeps at most 100 presets.

use super::json::ApiJson;
use crate::account_types::Preset;
use crate::domain::presets::{self, PresetInput};
use crate::error::AppError;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

#[utoipa::path(get, path = "/api/presets", tag = "characters", responses((status = 200, description = "The caller's presets", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Preset>>, AppError> {
    Ok(Json(presets::list(&state.studio, &user.id).await?))
}

#[utoipa::path(post, path = "/api/presets", tag = "characters", request_body(content = Object, description = "`{name, character_id, outfit_description?, model_version?, voice?, aspect_ratio?, motion_clip_url?}`"), responses((status = 201, description = "The preset", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<PresetInput>,
) -> Result<(StatusCode, Json<Preset>), AppError> {
    let preset = presets::create(&state.studio, &user.id, body).await?;
    Ok((StatusCode::CREATED, Json(preset)))
}

#[utoipa::path(delete, path = "/api/presets/{id}", tag = "characters", params(("id" = String, Path, description = "Its id")), responses((status = 204, description = "Deleted"), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    presets::delete(&state.studio, &user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
