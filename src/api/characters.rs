//! Characters over JSON: the original `/api/a2e/character` and `/api/a2e/avatar-status` routes,
//! and `/api/characters` for listing, uploads and training actions.

use super::json::ApiJson;
use super::upload;
use crate::domain::characters::{self, PromptInput};
use crate::domain::{avatars, media, preflight};
use crate::error::AppError;
use crate::models::{self, Character};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::media::MediaKind;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

const WAIT_FOR_AVATAR_MS: i64 = 5 * 60 * 1000;

/// `userId` in a body is accepted only when it names the caller.
pub fn check_user_id(claimed: Option<&str>, user: &CurrentUser) -> Result<(), AppError> {
    match claimed {
        Some(id) if !id.is_empty() && id != user.id => Err(AppError::forbidden(
            "userId does not match the authenticated user.",
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
pub struct CreateBody {
    #[serde(flatten)]
    input: PromptInput,
    #[serde(default, alias = "waitForAvatar")]
    wait_for_avatar: bool,
    #[serde(default, alias = "userId")]
    user_id: Option<String>,
}

/// `POST /api/a2e/character`.
#[utoipa::path(post, path = "/api/a2e/character", tag = "characters", request_body(content = Object, description = "`{prompt, name?, outfit_description?, referenceImage?, model_version?, gender?, waitForAvatar?, userId?}`"), responses((status = 201, description = "The character: portrait generated (2 credits), avatar training started", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 422, description = "Refused by A2E's content rules, or an Idempotency-Key reused", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody), (status = 503, description = "A2E unavailable", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Character>), AppError> {
    check_user_id(body.user_id.as_deref(), &user)?;
    let studio = &state.studio;
    let mut character = characters::create_from_prompt(studio, &user.id, body.input).await?;
    if body.wait_for_avatar {
        character =
            characters::wait_for_avatar(studio, &user.id, &character.id, WAIT_FOR_AVATAR_MS)
                .await?;
    }
    Ok((StatusCode::CREATED, Json(character)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AvatarStatusAnswer {
    avatar_id: String,
    character_id: String,
    /// `pending`, `training`, `completed` or `failed`.
    #[schema(value_type = String)]
    status: models::AvatarStatus,
    is_complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<i64>,
}

impl From<Character> for AvatarStatusAnswer {
    fn from(c: Character) -> Self {
        let is_complete = is_final(&c);
        Self {
            avatar_id: c.avatar_id.unwrap_or_default(),
            character_id: c.id,
            is_complete,
            status: c.avatar_status,
            error: c.avatar_error,
            progress: c.avatar_progress,
            eta_seconds: c.eta_seconds,
        }
    }
}

fn is_final(c: &Character) -> bool {
    matches!(
        c.avatar_status,
        models::AvatarStatus::Completed | models::AvatarStatus::Failed
    )
}

#[derive(Deserialize)]
pub struct StatusQuery {
    #[serde(alias = "avatarId")]
    avatar_id: Option<String>,
}

/// `GET /api/a2e/avatar-status?avatar_id=…`: refreshed from A2E, written to the database.
#[utoipa::path(get, path = "/api/a2e/avatar-status", tag = "characters", params(("avatar_id" = String, Query, description = "The avatar's A2E id")), responses((status = 200, description = "The training's state, refreshed from A2E", body = AvatarStatusAnswer), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody), (status = 503, description = "A2E unavailable", body = super::openapi::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<StatusQuery>,
) -> Result<Json<AvatarStatusAnswer>, AppError> {
    let avatar_id = q
        .avatar_id
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| AppError::bad_request("missing_avatar_id", "Give avatar_id."))?;
    let character = characters::get_by_avatar(&state.studio, &user.id, avatar_id.trim()).await?;
    Ok(Json(
        avatars::refresh(&state.studio, &character).await?.into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PollBody {
    #[serde(alias = "avatarId")]
    avatar_id: String,
    #[serde(default, alias = "maxAttempts")]
    max_attempts: Option<i64>,
    #[serde(default, alias = "intervalMs")]
    interval_ms: Option<i64>,
    #[serde(default, alias = "userId")]
    user_id: Option<String>,
}

/// `POST /api/a2e/avatar-status`: polls until the training ends or the attempts run out.
#[utoipa::path(post, path = "/api/a2e/avatar-status", tag = "characters", request_body = PollBody, responses((status = 200, description = "The training's state once final or the attempts ran out", body = AvatarStatusAnswer), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody), (status = 503, description = "A2E unavailable", body = super::openapi::ErrorBody)))]
pub async fn poll(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<PollBody>,
) -> Result<Json<AvatarStatusAnswer>, AppError> {
    check_user_id(body.user_id.as_deref(), &user)?;
    let attempts = body.max_attempts.unwrap_or(60);
    let interval = body.interval_ms.unwrap_or(5_000);
    if !(1..=120).contains(&attempts) {
        return Err(AppError::bad_request(
            "invalid_max_attempts",
            "max_attempts must be between 1 and 120.",
        ));
    }
    if !(100..=60_000).contains(&interval) || attempts * interval > 15 * 60 * 1000 {
        return Err(AppError::bad_request(
            "invalid_interval_ms",
            "interval_ms must be between 100 and 60000, and the whole wait at most 15 minutes.",
        ));
    }
    let mut character =
        characters::get_by_avatar(&state.studio, &user.id, body.avatar_id.trim()).await?;
    for attempt in 0..attempts {
        character = avatars::refresh(&state.studio, &character).await?;
        if is_final(&character) || attempt + 1 == attempts {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(interval as u64)).await;
    }
    Ok(Json(character.into()))
}

/// `GET /api/characters/{id}`.
#[utoipa::path(get, path = "/api/characters/{id}", tag = "characters", params(("id" = String, Path, description = "Its id")), responses((status = 200, description = "One character", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Character>, AppError> {
    Ok(Json(characters::get(&state.studio, &user.id, &id).await?))
}

/// `DELETE /api/characters/{id}` (the avatar at A2E is removed too).
#[utoipa::path(delete, path = "/api/characters/{id}", tag = "characters", params(("id" = String, Path, description = "Its id")), responses((status = 204, description = "Deleted (its avatar is removed at A2E too)"), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    characters::delete(&state.studio, &user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/characters/{id}/continue-training` (100 credits).
#[utoipa::path(post, path = "/api/characters/{id}/continue-training", tag = "characters", params(("id" = String, Path, description = "Its id")), responses((status = 200, description = "The character, training again (100 credits, +30 min)", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 409, description = "Conflict", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn continue_training(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Character>, AppError> {
    Ok(Json(
        characters::continue_training(&state.studio, &user.id, &id).await?,
    ))
}

/// `POST /api/characters/{id}/retry-training`.
#[utoipa::path(post, path = "/api/characters/{id}/retry-training", tag = "characters", params(("id" = String, Path, description = "Its id")), responses((status = 200, description = "The character, its failed step started again", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 409, description = "Conflict", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn retry_training(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Character>, AppError> {
    Ok(Json(
        characters::retry_training(&state.studio, &user.id, &id).await?,
    ))
}

/// `POST /api/characters` (multipart): `file` (image or video), `name`, and optionally
/// `prompt`, `outfit_description`, `model_version`, `gender`. Free: nothing is generated.
#[utoipa::path(post, path = "/api/characters", tag = "characters", request_body(content = Object, content_type = "multipart/form-data", description = "`file` (PNG, JPEG or WebP image, or MP4, WebM or MOV video), `name`, optional `prompt`, `outfit_description`, `model_version`, `gender`"), responses((status = 201, description = "The character, made from the upload (free)", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 413, description = "Too large", body = super::openapi::ErrorBody), (status = 415, description = "Unsupported media type", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Character>), AppError> {
    let studio = &state.studio;
    let mut fields = std::collections::HashMap::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(upload::bad_form)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let accept = [MediaKind::Image, MediaKind::Video];
            file = Some(upload::read_file(field, studio.media.limits(), &accept).await?);
        } else if fields.len() < 16 {
            fields.insert(name, upload::small_text(field).await?);
        }
    }
    let (file, kind) = file.ok_or_else(|| {
        AppError::bad_request("missing_file", "Attach an image or a video as `file`.")
    })?;
    let text = |k: &str| fields.get(k).cloned().filter(|v| !v.trim().is_empty());
    check_user_id(text("userId").or(text("user_id")).as_deref(), &user)?;
    let details = characters::check_details(
        text("prompt").unwrap_or_default(),
        text("name"),
        text("outfit_description"),
        text("model_version"),
        text("gender"),
        None,
        false,
    )?;
    // Nothing is kept of a file A2E could not train from.
    preflight::check_training_media(file.clone()).await?;
    let media = media::keep_upload(studio, &user.id, file, kind).await?;
    let character = characters::create_from_upload(studio, &user.id, details, media).await?;
    Ok((StatusCode::CREATED, Json(character)))
}

/// `POST /api/media` (multipart `file`): keeps an image, video or audio for later use
/// (a driving video, a voice), checked by content. Answers `{url, content_type, size}`.
#[utoipa::path(post, path = "/api/media", tag = "characters", request_body(content = Object, content_type = "multipart/form-data", description = "`file`: an image, video or audio"), responses((status = 201, description = "`{url, content_type, size}`: kept for later use", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 413, description = "Too large", body = super::openapi::ErrorBody), (status = 415, description = "Unsupported media type", body = super::openapi::ErrorBody)))]
pub async fn upload_media(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: Multipart,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let studio = &state.studio;
    while let Some(field) = form.next_field().await.map_err(upload::bad_form)? {
        if field.name() == Some("file") {
            let accept = [MediaKind::Image, MediaKind::Video, MediaKind::Audio];
            let (bytes, kind) = upload::read_file(field, studio.media.limits(), &accept).await?;
            let media = media::keep_upload(studio, &user.id, bytes, kind).await?;
            let body = serde_json::json!({ "url": media.url, "content_type": media.content_type, "size": media.size });
            return Ok((StatusCode::CREATED, Json(body)));
        }
    }
    Err(AppError::bad_request(
        "missing_file",
        "Attach the file as `file`.",
    ))
}
