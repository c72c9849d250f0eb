//! Generations over JSON: the original `/api/a2e/*` routes (each answers at once with
//! `{id, status, references, cost}`), and `/api/generations` to follow, list, cancel, retry.

use super::characters::check_user_id;
use super::json::ApiJson;
use crate::domain::generations::{
    self, FightInput, LipsyncInput, MotionInput, SceneInput, VideoInput,
};
use crate::error::AppError;
use crate::models::{Generation, GenerationKind, GenerationStatus, Prices, Reference, Voice};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

/// The immediate answer to a submitted generation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Submitted {
    id: String,
    #[schema(value_type = String)]
    kind: GenerationKind,
    #[schema(value_type = String)]
    status: GenerationStatus,
    /// How each character was sent to A2E: `{name, via: "avatar" | "image", …}`.
    #[schema(value_type = Vec<Object>)]
    references: Vec<Reference>,
    cost: i64,
}

impl From<Generation> for Submitted {
    fn from(g: Generation) -> Self {
        Self {
            kind: g.kind(),
            id: g.id,
            status: g.status,
            references: g.references,
            cost: g.cost,
        }
    }
}

/// Every body may carry `userId`, which must be the caller's.
#[derive(Deserialize)]
pub struct WithUser<T> {
    #[serde(flatten)]
    input: T,
    #[serde(default, alias = "userId")]
    user_id: Option<String>,
}

type Answer = Result<(StatusCode, Json<Submitted>), AppError>;

fn accepted(g: Generation) -> Answer {
    Ok((StatusCode::ACCEPTED, Json(g.into())))
}

#[utoipa::path(post, path = "/api/a2e/nanobanana", tag = "generations", request_body(content = Object, description = "`{prompt, characterRefs[], sketch?, aspect_ratio?}`"), responses((status = 202, description = "Accepted: follow it at /api/generations/{id}", body = Submitted), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn scene(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<SceneInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_scene(&state.studio, &user.id, body.input).await?)
}

#[utoipa::path(post, path = "/api/a2e/motion-transfer", tag = "generations", request_body(content = Object, description = "`{imageUrl | avatarId | characterId, videoUrl, prompt?}`"), responses((status = 202, description = "Accepted", body = Submitted), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn motion_transfer(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<MotionInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_motion_transfer(&state.studio, &user.id, body.input).await?)
}

#[utoipa::path(post, path = "/api/a2e/i2v", tag = "generations", request_body(content = Object, description = "`{image | avatarId | characterId, prompt, duration?}`"), responses((status = 202, description = "Accepted", body = Submitted), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn image_to_video(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<VideoInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_image_to_video(&state.studio, &user.id, body.input).await?)
}

#[utoipa::path(post, path = "/api/a2e/lipsync", tag = "generations", request_body(content = Object, description = "`{image | avatarId | characterId, audioUrl | text, voice?}` (`voice`: an id of `GET /api/a2e/voices`, for `text`)"), responses((status = 202, description = "Accepted", body = Submitted), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn lipsync(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<LipsyncInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_lipsync(&state.studio, &user.id, body.input).await?)
}

#[utoipa::path(post, path = "/api/a2e/fight-sequence", tag = "generations", request_body(content = Object, description = "`{characterRefs[], moves[]}`: a scene and a clip per move"), responses((status = 202, description = "Accepted", body = Submitted), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn fight_sequence(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<FightInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_fight_sequence(&state.studio, &user.id, body.input).await?)
}

#[utoipa::path(get, path = "/api/generations/{id}", tag = "generations", params(("id" = String, Path, description = "Its id")), responses((status = 200, description = "One generation: status, progress, result_urls, error, references", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Generation>, AppError> {
    Ok(Json(generations::get(&state.studio, &user.id, &id).await?))
}

#[utoipa::path(post, path = "/api/generations/{id}/cancel", tag = "generations", params(("id" = String, Path, description = "Its id")), responses((status = 200, description = "Cancelled (refunded if A2E had not started it)", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 409, description = "Conflict", body = super::openapi::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Generation>, AppError> {
    Ok(Json(
        generations::cancel(&state.studio, &user.id, &id).await?,
    ))
}

#[utoipa::path(post, path = "/api/generations/{id}/retry", tag = "generations", params(("id" = String, Path, description = "Its id")), responses((status = 202, description = "The same spec submitted again", body = Submitted), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Answer {
    accepted(generations::retry(&state.studio, &user.id, &id).await?)
}

/// `GET /api/prices`: what each kind of generation costs, for showing before submitting.
#[utoipa::path(get, path = "/api/prices", tag = "meta", security(()), responses((status = 200, description = "Credits per kind of generation", body = Prices)))]
pub async fn prices(State(state): State<AppState>) -> Json<Prices> {
    Json(state.studio.prices)
}

/// `GET /api/a2e/voices`: the voices a lipsync's text can be spoken in (A2E's list).
#[utoipa::path(get, path = "/api/a2e/voices", tag = "generations", responses((status = 200, description = "A2E's text-to-speech voices: `[{id, name, group}]`", body = [Voice]), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 502, description = "A2E could not be asked", body = super::openapi::ErrorBody)))]
pub async fn voices(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> Result<Json<Vec<Voice>>, AppError> {
    let voices = crate::domain::voices::list(&state.studio).await?;
    Ok(Json(voices.as_ref().clone()))
}
