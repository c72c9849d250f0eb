//! The library over JSON: the paged gallery and history (arrays, with GitHub's
//! `Link: <…>; rel="next"` when there is more), editing a character, its training history and
//! provenance, making a generation again, deleting one.

use super::json::ApiJson;
use super::lists::{list_answer, pairs, query_value};
use crate::domain::generations;
use crate::domain::library::{self, CharacterPatch};
use crate::error::AppError;
use crate::models::{Character, CharacterEvent, GalleryQuery, Generation};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

/// `GET /api/characters?q=&status=&training=&tag=&sort=&limit=&cursor=`.
#[utoipa::path(get, path = "/api/characters", tag = "characters", params(("q" = Option<String>, Query, description = "Search name, prompt, outfit"), ("status" = Option<String>, Query, description = "Avatar status"), ("training" = Option<String>, Query, description = "image or video"), ("tag" = Option<String>, Query, description = "A tag"), ("sort" = Option<String>, Query, description = "newest, name or most_used"), ("limit" = Option<u32>, Query, description = "Page size"), ("cursor" = Option<String>, Query, description = "From the Link header")), responses((status = 200, description = "A page of characters (a JSON array); `Link: <…>; rel=\"next\"` when there is more", body = Vec<Object>), (status = 400, description = "Invalid input (bad cursor, limit, filter)", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn list_characters(
    State(state): State<AppState>,
    user: CurrentUser,
    uri: Uri,
) -> Result<Response, AppError> {
    let all = pairs(&uri);
    let query = GalleryQuery::from_pairs(all.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let read = library::gallery(&state.studio, &user.id, &query);
    list_answer(&state, &user, &uri, read).await
}

/// `PATCH /api/characters/{id}` `{name?, tags?, outfit_description?}`.
#[utoipa::path(patch, path = "/api/characters/{id}", tag = "characters", params(("id" = String, Path, description = "Its id")), request_body(content = Object, description = "`{name?, tags?, outfit_description?}`"), responses((status = 200, description = "The character", body = Object), (status = 400, description = "Invalid input (bad cursor, limit, filter)", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn update_character(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<CharacterPatch>,
) -> Result<Json<Character>, AppError> {
    Ok(Json(
        library::update(&state.studio, &user.id, &id, patch).await?,
    ))
}

/// `GET /api/characters/{id}/events`: the training history, oldest first.
#[utoipa::path(get, path = "/api/characters/{id}/events", tag = "characters", params(("id" = String, Path, description = "Its id")), responses((status = 200, description = "Its training history, oldest first", body = Vec<Object>), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn character_events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<CharacterEvent>>, AppError> {
    Ok(Json(library::events(&state.studio, &user.id, &id).await?))
}

/// `GET /api/characters/{id}/generations?limit=&cursor=`: every generation that used it.
#[utoipa::path(get, path = "/api/characters/{id}/generations", tag = "characters", params(("id" = String, Path, description = "Its id"), ("limit" = Option<u32>, Query, description = "Page size"), ("cursor" = Option<String>, Query, description = "From the Link header")), responses((status = 200, description = "Every generation that used it (paged)", body = Vec<Object>), (status = 400, description = "Invalid input (bad cursor, limit, filter)", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn character_generations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    let all = pairs(&uri);
    let (limit, cursor) = (query_value(&all, "limit"), query_value(&all, "cursor"));
    let read = library::provenance(&state.studio, &user.id, &id, limit, cursor);
    list_answer(&state, &user, &uri, read).await
}

/// `GET /api/generations?limit=&cursor=`: the history, newest first.
#[utoipa::path(get, path = "/api/generations", tag = "generations", params(("limit" = Option<u32>, Query, description = "Page size"), ("cursor" = Option<String>, Query, description = "From the Link header")), responses((status = 200, description = "A page of the history, newest first", body = Vec<Object>), (status = 400, description = "Invalid input (bad cursor, limit, filter)", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn list_generations(
    State(state): State<AppState>,
    user: CurrentUser,
    uri: Uri,
) -> Result<Response, AppError> {
    let all = pairs(&uri);
    let (limit, cursor) = (query_value(&all, "limit"), query_value(&all, "cursor"));
    let read = library::generations(&state.studio, &user.id, limit, cursor);
    list_answer(&state, &user, &uri, read).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemakeBody {
    #[serde(alias = "useCurrentAvatar")]
    use_current_avatar: bool,
}

/// `POST /api/generations/{id}/remake {use_current_avatar?}`: 202, a new generation. An empty
/// body means the same references as the first time.
#[utoipa::path(post, path = "/api/generations/{id}/remake", tag = "generations", params(("id" = String, Path, description = "Its id")), request_body(content = Object, description = "`{use_current_avatar?}`"), responses((status = 202, description = "A new generation, charged like any other", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 402, description = "Not enough credits", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody)))]
pub async fn remake(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Generation>), AppError> {
    let body: RemakeBody = if body.iter().all(u8::is_ascii_whitespace) {
        RemakeBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            AppError::bad_request(
                "invalid_request",
                format!("The body must be {{\"use_current_avatar\": true|false}}: {e}"),
            )
        })?
    };
    let made = generations::remake(&state.studio, &user.id, &id, body.use_current_avatar).await?;
    Ok((StatusCode::ACCEPTED, Json(made)))
}

/// `DELETE /api/generations/{id}`: 204; a running one must be cancelled first (409).
#[utoipa::path(delete, path = "/api/generations/{id}", tag = "generations", params(("id" = String, Path, description = "Its id")), responses((status = 204, description = "Deleted"), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 404, description = "No such item of the caller's", body = super::openapi::ErrorBody), (status = 409, description = "Still running: cancel it first", body = super::openapi::ErrorBody)))]
pub async fn delete_generation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    generations::delete(&state.studio, &user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
