//! Generations over JSON: the original `/api/a2e/*` routes (each answers at once with
//! `{id, status, references, cost}`), and `/api/generations` to follow, list, cancel, retry.

use super::characters::check_user_id;
use super::json::ApiJson;
use crate::domain::generations::{
    self, FightInput, LipsyncInput, MotionInput, SceneInput, VideoInput,
};
use crate::error::AppError;
use crate::models::{Generation, GenerationKind, GenerationStatus, Prices, Reference};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

/// The immediate answer to a submitted generation.
#[derive(Serialize)]
pub struct Submitted {
    id: String,
    kind: GenerationKind,
    status: GenerationStatus,
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

pub async fn scene(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<SceneInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_scene(&state.studio, &user.id, body.input).await?)
}

pub async fn motion_transfer(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<MotionInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_motion_transfer(&state.studio, &user.id, body.input).await?)
}

pub async fn image_to_video(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<VideoInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_image_to_video(&state.studio, &user.id, body.input).await?)
}

pub async fn lipsync(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<LipsyncInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_lipsync(&state.studio, &user.id, body.input).await?)
}

pub async fn fight_sequence(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WithUser<FightInput>>,
) -> Answer {
    check_user_id(body.user_id.as_deref(), &user)?;
    accepted(generations::create_fight_sequence(&state.studio, &user.id, body.input).await?)
}

pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Generation>, AppError> {
    Ok(Json(generations::get(&state.studio, &user.id, &id).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Generation>, AppError> {
    Ok(Json(
        generations::cancel(&state.studio, &user.id, &id).await?,
    ))
}

pub async fn retry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Answer {
    accepted(generations::retry(&state.studio, &user.id, &id).await?)
}

/// `GET /api/prices`: what each kind of generation costs, for showing before submitting.
pub async fn prices(State(state): State<AppState>) -> Json<Prices> {
    Json(state.studio.prices)
}
