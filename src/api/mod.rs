//! The JSON API: `{"error":{"code","message"}}` on every failure, snake_case out, camelCase accepted in.

pub mod auth;
pub mod characters;
pub mod events;
pub mod generations;
pub mod json;
pub mod library;

use crate::error::AppError;
use crate::server::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post};
use axum::Router;

/// The largest request body: a video upload.
const UPLOAD_LIMIT: usize = 210 << 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signup", post(auth::signup))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route(
            "/api/tokens",
            post(auth::create_token).get(auth::list_tokens),
        )
        .route("/api/tokens/{id}", delete(auth::revoke_token))
        .route("/api/events", get(events::stream))
        .route("/api/a2e/character", post(characters::create))
        .route(
            "/api/a2e/avatar-status",
            get(characters::status).post(characters::poll),
        )
        // Uploads (videos) may be far larger than the default body limit.
        .route(
            "/api/characters",
            get(library::list_characters)
                .post(characters::upload)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route(
            "/api/characters/{id}",
            get(characters::get)
                .delete(characters::delete)
                .patch(library::update_character),
        )
        .route(
            "/api/characters/{id}/events",
            get(library::character_events),
        )
        .route(
            "/api/characters/{id}/generations",
            get(library::character_generations),
        )
        .route(
            "/api/characters/{id}/continue-training",
            post(characters::continue_training),
        )
        .route(
            "/api/characters/{id}/retry-training",
            post(characters::retry_training),
        )
        .route("/api/a2e/nanobanana", post(generations::scene))
        .route(
            "/api/a2e/motion-transfer",
            post(generations::motion_transfer),
        )
        .route("/api/a2e/i2v", post(generations::image_to_video))
        .route("/api/a2e/lipsync", post(generations::lipsync))
        .route("/api/a2e/fight-sequence", post(generations::fight_sequence))
        .route("/api/generations", get(library::list_generations))
        .route(
            "/api/generations/{id}",
            get(generations::get).delete(library::delete_generation),
        )
        .route("/api/generations/{id}/remake", post(library::remake))
        .route("/api/generations/{id}/cancel", post(generations::cancel))
        .route("/api/generations/{id}/retry", post(generations::retry))
        .route("/api/prices", get(generations::prices))
        .route(
            "/api/media",
            post(characters::upload_media).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/api", any(unknown_route))
        .route("/api/{*rest}", any(unknown_route))
}

async fn unknown_route() -> AppError {
    AppError::new(404, "unknown_route", "There is no API route at this path.")
}
