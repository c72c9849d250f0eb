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

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<Preset>>, AppError> {
    Ok(Json(presets::list(&state.studio, &user.id).await?))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<PresetInput>,
) -> Result<(StatusCode, Json<Preset>), AppError> {
    let preset = presets::create(&state.studio, &user.id, body).await?;
    Ok((StatusCode::CREATED, Json(preset)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    presets::delete(&state.studio, &user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
