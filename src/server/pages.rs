//! Server-rendered pages are rendered, and freed, to the end even when the client hangs up.
//!
//! Leptos frees a page's reactive state (its owner, with every resource, signal and the data
//! they hold) when the response's stream ends; until then the owner is kept alive by its own
//! nodes. A handler dropped mid-render (axum drops it when the client disconnects) or a body
//! dropped before its end never got there, so every abandoned page stayed in memory for good
//! (the bench's 10-minute soak: 55 → 298 MiB, all of it from requests cut off by the load tool).
//! So a page renders in a task of its own, and a body dropped before its end is read to its end
//! in the background. [`PagesInMemory`] counts the pages not yet freed.
//!
//! A page also knows, before it renders, whether its caller is logged in ([`CallerFound`],
//! found by `kept_pages`).

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tracing::Instrument;

/// Middleware for the page routes: see the module's comment.
pub async fn render_to_the_end(req: Request, next: Next) -> Response {
    let rendering = async move {
        next.run(req)
            .await
            .map(|body| Body::new(ReadToEndOnDrop::new(body)))
    };
    match tokio::spawn(rendering.instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Whether a page's request came from a logged-in caller, found before the page renders (by
/// `kept_pages::keep_pages`, which needs the caller anyway), so the page decides synchronously
/// what to build (see `app::session::SessionCtx::logged_in`): deciding inside a `<Suspense>`
/// would build the page again each time Leptos checks the boundary for pending loads, with a
/// new set of resources and server calls each time.
#[derive(Clone, Copy, Debug)]
pub struct CallerFound(pub bool);

/// A response body that, dropped before its end, is read to its end in the background.
struct ReadToEndOnDrop {
    body: Option<Body>,
    ended: bool,
}

impl ReadToEndOnDrop {
    fn new(body: Body) -> Self {
        Self {
            body: Some(body),
            ended: false,
        }
    }
}

impl HttpBody for ReadToEndOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_default()
    }
}

impl Drop for ReadToEndOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.body.take().filter(|_| !self.ended) else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut frames = body.into_data_stream();
                while futures::StreamExt::next(&mut frames).await.is_some() {}
            });
        }
    }
}

/// How many rendered pages' reactive state is still held (rendering, being sent, or leaked):
/// idle, it is zero. At `/metrics` as `avatar_studio_pages_in_memory`.
#[derive(Clone, Default)]
pub struct PagesInMemory(Arc<AtomicUsize>);

impl PagesInMemory {
    /// Counts the page being rendered now, until its owner is cleaned up.
    pub fn count_this_page(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
        let count = self.0.clone();
        leptos::prelude::on_cleanup(move || {
            count.fetch_sub(1, Ordering::Relaxed);
        });
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn a_body_dropped_before_its_end_is_read_to_its_end() {
        let (reached_end, ended) = tokio::sync::oneshot::channel();
        let frames = futures::stream::iter(["<html>", "</html>"])
            .map(|text| Ok::<_, std::io::Error>(Bytes::from(text)))
            .chain(futures::stream::once(async move {
                let _ = reached_end.send(());
                Ok(Bytes::new())
            }));
        let mut body = ReadToEndOnDrop::new(Body::from_stream(frames));
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(first.is_some_and(|frame| frame.is_ok()));
        drop(body); // the client hung up
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), ended).await;
        assert!(
            matches!(read, Ok(Ok(()))),
            "the rest was read in the background"
        );
    }
}
