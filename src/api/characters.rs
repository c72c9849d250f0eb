//! Characters over JSON: the original `/api/a2e/character` and `/api/a2e/avatar-status` routes,
//! and `/api/characters` for listing, uploads and training actions.

use super::json::ApiJson;
use crate::domain::avatars;
use crate::domain::characters::{self, PromptInput};
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

#[derive(Serialize)]
pub struct AvatarStatusAnswer {
    avatar_id: String,
    character_id: String,
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

#[derive(Deserialize)]
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
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Character>, AppError> {
    Ok(Json(characters::get(&state.studio, &user.id, &id).await?))
}

/// `DELETE /api/characters/{id}` (the avatar at A2E is removed too).
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    characters::delete(&state.studio, &user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/characters/{id}/continue-training` (100 credits).
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
pub async fn retry_training(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Character>, AppError> {
    Ok(Json(
        characters::retry_training(&state.studio, &user.id, &id).await?,
    ))
}

/// The most a text field of a form may hold: prompts are at most 2,000 characters.
const MAX_FORM_TEXT: usize = 8 * 1024;

/// Reads a form's text field, refusing it (400) once it outgrows `MAX_FORM_TEXT`, before more
/// of it is buffered.
async fn small_text(mut field: axum::extract::multipart::Field<'_>) -> Result<String, AppError> {
    let name = field.name().unwrap_or("field").to_string();
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| AppError::new(e.status().as_u16(), "invalid_form", e.body_text()))?
    {
        if bytes.len() + chunk.len() > MAX_FORM_TEXT {
            return Err(AppError::bad_request(
                "field_too_long",
                format!("The form field `{name}` is too long (at most {MAX_FORM_TEXT} bytes)."),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| AppError::bad_request("invalid_form", format!("`{name}` is not UTF-8 text.")))
}

/// `POST /api/characters` (multipart): `file` (image or video), `name`, and optionally
/// `prompt`, `outfit_description`, `model_version`, `gender`. Free: nothing is generated.
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Character>), AppError> {
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        AppError::new(e.status().as_u16(), "invalid_form", e.body_text())
    };
    let mut fields = std::collections::HashMap::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            file = Some(field.bytes().await.map_err(bad_form)?);
        } else if fields.len() < 16 {
            fields.insert(name, small_text(field).await?);
        }
    }
    let file = file.filter(|f| !f.is_empty()).ok_or_else(|| {
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
    let kind = match crate::store::media::sniff(&file) {
        Some((MediaKind::Video, _, _)) => MediaKind::Video,
        Some((MediaKind::Image, _, _)) => MediaKind::Image,
        _ => {
            return Err(AppError::new(
                415,
                "unsupported_media_type",
                "Upload a PNG, JPEG or WebP image, or an MP4, WebM or MOV video.",
            ))
        }
    };
    let media = state.studio.media.put_upload(file, kind).await?;
    let character = characters::create_from_upload(&state.studio, &user.id, details, media).await?;
    Ok((StatusCode::CREATED, Json(character)))
}

/// `POST /api/media` (multipart `file`): keeps an image, video or audio for later use
/// (a driving video, a voice), checked by content. Answers `{url, content_type, size}`.
pub async fn upload_media(
    State(state): State<AppState>,
    _user: CurrentUser,
    mut form: Multipart,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let bad_form = |e: axum::extract::multipart::MultipartError| {
        AppError::new(e.status().as_u16(), "invalid_form", e.body_text())
    };
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(bad_form)?;
            let media = state.studio.media.put_upload(bytes, None).await?;
            let body = serde_json::json!({ "url": media.url, "content_type": media.content_type, "size": media.size });
            return Ok((StatusCode::CREATED, Json(body)));
        }
    }
    Err(AppError::bad_request(
        "missing_file",
        "Attach the file as `file`.",
    ))
}
