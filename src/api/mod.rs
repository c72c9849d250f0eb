//! The JSON API: `{"error":{"code","message"}}` on every failure, snake_case out, camelCase accepted in.

pub mod account;
pub mod auth;
pub mod characters;
pub mod events;
pub mod generations;
pub mod imports;
pub mod json;
pub mod library;
pub mod lists;
pub mod openapi;
pub mod presets;
pub mod upload;

use crate::error::AppError;
use crate::server::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post, MethodRouter};
use axum::Router;

/// The largest request body: a video upload.
const UPLOAD_LIMIT: usize = 210 << 20;

/// The JSON router, and the path of each of its routes (for checking the description).
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, methods);
        self
    }

    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }
}

pub fn routes() -> Router<AppState> {
    // Anything else under /api is a JSON 404, not the app's 404 page.
    table().router.route("/api/{*rest}", any(unknown_route))
}

/// Every JSON route, each one described in [`openapi::ApiDoc`].
pub fn table() -> Routes {
    Routes::default()
        .route("/api", get(openapi::page))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .route("/api/auth/signup", post(auth::signup))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::me).delete(account::delete_me))
        .route("/api/me/password", post(account::change_password))
        .route(
            "/api/tokens",
            post(auth::create_token).get(auth::list_tokens),
        )
        .route("/api/tokens/{id}", delete(auth::revoke_token))
        .route("/api/events", get(events::stream))
        .route("/api/ledger", get(account::ledger))
        .route("/api/credits", get(account::credits))
        .route("/api/presets", get(presets::list).post(presets::create))
        .route("/api/presets/{id}", delete(presets::delete))
        .route("/api/a2e/avatars", get(imports::list))
        .route("/api/characters/import", post(imports::import))
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
        .route("/api/a2e/voices", get(generations::voices))
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
}

async fn unknown_route() -> AppError {
    AppError::new(404, "unknown_route", "There is no API route at this path.")
}
