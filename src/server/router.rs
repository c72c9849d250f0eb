//! The one HTTP router: health, JSON API, server functions, pages and static files.

use super::state::AppState;
use crate::app::{shell, App};
use crate::config::Config;
use crate::jobs::{EventHub, Runner};
use crate::store::{sessions::Sessions, Db};
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

pub const SESSION_COOKIE: &str = "avatar_studio_session";

/// A started server: its router, shared state, and the background job runner.
pub struct Built {
    pub router: Router,
    pub state: AppState,
    pub runner: tokio::task::JoinHandle<()>,
}

/// Connects the database, runs migrations, starts the job runner and assembles the router.
pub async fn build(config: Config) -> Result<Built, String> {
    let db = Db::connect(&config.database_url).await?;
    let sessions = Sessions::open(&db).await?;
    sessions.spawn_cleanup();
    let shutdown = CancellationToken::new();
    let jobs = Runner::new(db.clone(), Duration::from_millis(config.job_tick_ms));
    let state = AppState {
        leptos_options: AppState::leptos_options(&config),
        config: Arc::new(config),
        db,
        events: EventHub::new(),
        jobs: jobs.clone(),
        shutdown: shutdown.clone(),
    };
    let runner = jobs.spawn(shutdown.cancelled_owned());
    Ok(Built {
        router: router(state.clone(), sessions),
        state,
        runner,
    })
}

pub fn router(state: AppState, sessions: Sessions) -> Router {
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::api::routes())
        .leptos_routes(&state, generate_route_list(App), move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(session_layer)
        // One log line per request: method, path (no query: it may hold secrets), status, latency.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    if state.db.ping().await {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ok" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "database unavailable" })),
        )
    }
}
