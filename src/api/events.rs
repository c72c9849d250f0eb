//! `GET /api/events`: the caller's live updates as server-sent events.

use crate::server::session::{Credential, CurrentUser};
use crate::server::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::convert::Infallible;

/// How often an open stream checks that its log-in or token still stands.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Resolves once the credential behind a stream is gone (logged out, expired, revoked).
async fn credential_ends(state: AppState, credential: Credential) {
    loop {
        tokio::time::sleep(RECHECK).await;
        if !credential.still_valid(&state).await {
            return;
        }
    }
}

#[utoipa::path(get, path = "/api/events", tag = "meta", responses((status = 200, description = "Server-sent events `character`, `generation` and `credits`: changes of the caller's items; `resync`: some may have been missed, reload", content_type = "text/event-stream"), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = state
        .studio
        .events
        .subscribe(user.id)
        .map(|event| {
            let sse = Event::default().event(event.kind).json_data(&event);
            Ok(sse.unwrap_or_else(|_| Event::default().comment("unserialisable event")))
        })
        // Open streams must not hold the server up when it shuts down, and end with their log-in.
        .take_until(state.shutdown.clone().cancelled_owned())
        .take_until(credential_ends(state.clone(), user.credential));
    Sse::new(events).keep_alive(KeepAlive::default())
}
