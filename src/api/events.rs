//! `GET /api/events`: the caller's live updates as server-sent events.

use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use std::convert::Infallible;

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
        // Open streams must not hold the server up when it shuts down.
        .take_until(state.shutdown.clone().cancelled_owned());
    Sse::new(events).keep_alive(KeepAlive::default())
}
