//! The HTTP edge's defences, as middleware around the whole router: security headers, the
//! client's address, CSRF (same-origin) checks, closed sign-up, rate limits and idempotency keys.
//! Handlers and the domain know nothing of them.

pub mod client_ip;
pub mod csrf;
pub mod form_posts;
pub mod headers;
pub mod idempotency;
pub mod limits;
pub mod routes;

use crate::error::AppError;
use crate::server::state::AppState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;

/// Layers that must see the request before the session layer: headers, client address, CSRF.
pub fn outer(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let origins = csrf::SameSite::new(&state.config.public_base_url());
    let proxies = client_ip::TrustedProxies::new(&state.config.trusted_proxy);
    let security = headers::SecurityHeaders::new(&state.config.public_base_url());
    router
        // Inside the CSRF guard: only posts from our own pages are sent back to them.
        .layer(from_fn(form_posts::middleware))
        .layer(from_fn(move |req, next| {
            csrf::middleware(origins.clone(), req, next)
        }))
        .layer(from_fn(move |req, next| {
            client_ip::middleware(proxies.clone(), req, next)
        }))
        .layer(from_fn(move |req, next| {
            headers::middleware(security.clone(), req, next)
        }))
}

/// Layers that need the session (to know the user): sign-up gate, rate limits, idempotency.
/// Also starts their housekeeping (forgetting idle limit buckets, sweeping expired keys).
pub fn inner(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let limits = Arc::new(limits::Limits::new(&state.config));
    limits::spawn_cleanup(Arc::downgrade(&limits), state.shutdown.clone());
    idempotency::spawn_sweep(state.studio.db.clone(), state.shutdown.clone());
    let state = state.clone();
    router
        .layer(from_fn(move |req, next| {
            routes::middleware(state.clone(), limits.clone(), req, next)
        }))
        .layer(from_fn(crate::server::session::know_caller))
}

/// An error answer from the edge, in the shape its caller reads: server functions decode an
/// `AppError` as such, the JSON API answers `{"error":{"code","message"}}`.
pub fn refuse(path: &str, err: AppError, retry_after_secs: Option<u64>) -> Response {
    let mut response = if routes::is_server_fn(path) {
        let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::FORBIDDEN);
        let body = serde_json::to_string(&err).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        err.into_response()
    };
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    response
}
