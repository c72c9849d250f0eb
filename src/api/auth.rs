//! Accounts over JSON: sign-up, log-in, log-out, the current user and personal API tokens.

use super::json::ApiJson;
use crate::domain::{accounts, media, tokens};
use crate::error::AppError;
use crate::server::session::{self, CurrentUser};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    id: String,
    email: String,
    credits: i64,
    /// Bytes of media the user keeps, and their quota (`null`: no limit).
    storage_used: u64,
    storage_quota: Option<u64>,
}

/// The account summary of `user_id` (unauthorized when the account is gone).
async fn me_of(state: &AppState, user_id: &str) -> Result<Json<Me>, AppError> {
    let (user, credits) = accounts::find_with_credits(&state.studio.db, user_id)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    let storage = media::usage(&state.studio, &user.id).await?;
    Ok(Json(Me {
        id: user.id,
        email: user.email,
        credits,
        storage_used: storage.used,
        storage_quota: storage.quota,
    }))
}

#[utoipa::path(post, path = "/api/auth/signup", tag = "account", security(()), request_body = Credentials, responses((status = 201, description = "Account made, session started, starting credits granted", body = Me), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, closed sign-up, another user's id)", body = super::openapi::ErrorBody), (status = 409, description = "Conflict", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<Me>), AppError> {
    let user = accounts::sign_up(
        &state.studio.db,
        &body.email,
        &body.password,
        state.config.signup_credits,
    )
    .await?;
    session::log_in(&session, &user.id).await?;
    Ok((StatusCode::CREATED, me_of(&state, &user.id).await?))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "account", security(()), request_body = Credentials, responses((status = 200, description = "Session started", body = Me), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 429, description = "Rate limited (Retry-After)", body = super::openapi::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Json<Me>, AppError> {
    let user = accounts::log_in(&state.studio.db, &body.email, &body.password).await?;
    session::log_in(&session, &user.id).await?;
    me_of(&state, &user.id).await
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "account", responses((status = 200, description = "`{\"ok\": true}`: the session ended", body = Object)))]
pub async fn logout(session: Session) -> Result<Json<serde_json::Value>, AppError> {
    session::log_out(&session).await?;
    Ok(Json(serde_json::json!({ "ok": true })))
}

#[utoipa::path(get, path = "/api/me", tag = "account", responses((status = 200, description = "The caller and their credits", body = Me), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Me>, AppError> {
    me_of(&state, &user.id).await
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct NewTokenBody {
    name: Option<String>,
}

#[utoipa::path(post, path = "/api/tokens", tag = "account", request_body(content = Option<NewTokenBody>, description = "Optional: an empty body makes a token with the default name"), responses((status = 201, description = "`{id, name, token, created_at}`: the token is shown only here", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<tokens::NewToken>), AppError> {
    // The body is optional: an empty POST makes a token with the default name.
    let body: NewTokenBody = if body.iter().all(u8::is_ascii_whitespace) {
        NewTokenBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request("invalid_json", format!("The body is not valid JSON: {e}"))
        })?
    };
    let token = tokens::create(&state.studio.db, &user.id, body.name.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(token)))
}

#[utoipa::path(get, path = "/api/tokens", tag = "account", responses((status = 200, description = "`{tokens: [{id, name, created_at, last_used_at}]}`, without secrets", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let list = tokens::list(&state.studio.db, &user.id).await?;
    Ok(Json(serde_json::json!({ "tokens": list })))
}

#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "account", params(("id" = String, Path, description = "Its id")), responses((status = 204, description = "Revoked"), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    tokens::revoke(&state.studio.db, &user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
