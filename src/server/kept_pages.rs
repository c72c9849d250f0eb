//! Server-rendered pages kept as sent, under their user's count of changes to the rows pages
//! show (`store::change_count`), so a page nobody changed is not rendered again.
//!
//! A page is kept only when everything it showed is known to stand while that count does. The
//! server functions a page renders with say what they showed ([`Shown`]): a read of the user's
//! counted rows (`server_fns::context::read_counted`) lets the page be kept unless a row changes
//! with time (a training's ETA); any other read, an error, or a banner for this request alone
//! keeps it from being kept (every server function reads through `server_fns::context`, whose
//! plain reads say so). What A2E holds is shown for a while at most: its voices until their list
//! would be asked for again, its coins 30 s. Only a whole `200` page with no header but its
//! type is kept.
//!
//! The count is read by the request's account check before the page renders, so a kept page
//! holds at least that count's changes; a later change moves the count and the page is not
//! answered again. Each answer carries its own CSP nonce: the kept page remembers where the
//! nonce of the response that made it stood.

use super::guard::headers::CspNonce;
use super::pages::CallerFound;
use super::session::CurrentUser;
use super::state::AppState;
use crate::store::page_cache::KeptHtml;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// Pages larger than this are sent without being kept (the cache would not keep them either).
const MAX_KEPT_BYTES: usize = 2 * 1024 * 1024;

/// What a page being rendered has shown, as its server functions tell it (see the module's
/// comment). In the request's extensions while the page renders.
#[derive(Clone, Default)]
pub struct Shown(Arc<ShownSoFar>);

#[derive(Default)]
struct ShownSoFar {
    /// Something that may change while the count stands, or an error.
    unkept: AtomicBool,
    /// The earliest time something shown may have changed.
    until: Mutex<Option<Instant>>,
}

impl Shown {
    /// The page showed something the count does not follow: it is not kept.
    pub fn not_counted(&self) {
        self.0.unkept.store(true, Ordering::Relaxed);
    }

    /// The page showed something that stands until `deadline` at the latest.
    pub fn until(&self, deadline: Instant) {
        let mut until = self.0.until.lock().unwrap_or_else(|e| e.into_inner());
        *until = Some(until.map_or(deadline, |at| at.min(deadline)));
    }

    fn keepable(&self) -> Option<Option<Instant>> {
        let until = *self.0.until.lock().unwrap_or_else(|e| e.into_inner());
        (!self.0.unkept.load(Ordering::Relaxed)).then_some(until)
    }
}

/// Middleware for the page routes: finds the caller first (kept for the page's server
/// functions, see `session::KnownCaller`, and told to the page as [`CallerFound`]), then answers
/// a logged-in user's page from memory while it stands, else renders it and keeps it when it
/// may be kept.
pub async fn keep_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let caller = CurrentUser::from_request_parts(&mut parts, &state)
        .await
        .ok();
    parts.extensions.insert(CallerFound(caller.is_some()));
    let nonce = parts.extensions.get::<CspNonce>().cloned();
    let (Some(user), Some(CspNonce(nonce)), &Method::GET) = (caller, nonce, &parts.method) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let lists = state.studio.db.lists.clone();
    let path = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |pq| pq.as_str());
    let key = (user.id, path.to_string());
    let version = user.lists_version;
    let current = |kept: &KeptHtml| kept.until.is_none_or(|until| Instant::now() < until);
    if let Some(kept) = lists.html.get_usable(&key, version, current) {
        return answer(&kept, &nonce);
    }
    let shown = Shown::default();
    parts.extensions.insert(shown.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(content_type) = keepable_type(&response) else {
        return response;
    };
    let keep = move |body: Bytes| {
        if let Some(until) = shown.keepable() {
            lists
                .html
                .keep(key, version, kept_html(body, &nonce, content_type, until));
        }
    };
    response.map(|body| Body::new(Keeping::new(body, Box::new(keep))))
}

/// The content type of a response that may be kept: a whole `200` page with no other header.
fn keepable_type(response: &Response) -> Option<HeaderValue> {
    let headers = response.headers();
    let only_type = headers.len() == 1;
    let content_type = headers.get(header::CONTENT_TYPE)?;
    let html = content_type.as_bytes().starts_with(b"text/html");
    (response.status() == StatusCode::OK && only_type && html).then(|| content_type.clone())
}

fn kept_html(
    body: Bytes,
    nonce: &str,
    content_type: HeaderValue,
    until: Option<Instant>,
) -> KeptHtml {
    let nonce_at: Vec<usize> = memchr::memmem::find_iter(&body, nonce.as_bytes()).collect();
    KeptHtml {
        body,
        nonce_at: nonce_at.into(),
        nonce_len: nonce.len(),
        content_type,
        until,
    }
}

/// A kept page as this response sends it: with this response's nonce where the first one's stood.
fn answer(kept: &KeptHtml, nonce: &str) -> Response {
    let body = with_nonce(kept, nonce);
    ([(header::CONTENT_TYPE, kept.content_type.clone())], body).into_response()
}

fn with_nonce(kept: &KeptHtml, nonce: &str) -> Bytes {
    let extra = kept.nonce_at.len() * nonce.len();
    let mut out = Vec::with_capacity((kept.body.len() + extra).saturating_sub(kept.nonce_len));
    let mut from = 0;
    for &at in kept.nonce_at.iter() {
        out.extend_from_slice(&kept.body[from..at]);
        out.extend_from_slice(nonce.as_bytes());
        from = at + kept.nonce_len;
    }
    out.extend_from_slice(&kept.body[from..]);
    out.into()
}

type OnEnd = Box<dyn FnOnce(Bytes) + Send>;

/// A response body passed on as it comes, whose whole text is handed to `on_end` when it ends
/// (not when the client hangs up before, nor past [`MAX_KEPT_BYTES`]).
struct Keeping {
    body: Body,
    read: Vec<Bytes>,
    length: usize,
    on_end: Option<OnEnd>,
}

impl Keeping {
    fn new(body: Body, on_end: OnEnd) -> Self {
        Self {
            body,
            read: Vec::new(),
            length: 0,
            on_end: Some(on_end),
        }
    }

    fn note(&mut self, data: &Bytes) {
        if self.on_end.is_none() {
            return;
        }
        self.length += data.len();
        if self.length > MAX_KEPT_BYTES {
            self.on_end = None;
            self.read = Vec::new();
        } else {
            self.read.push(data.clone());
        }
    }

    fn end(&mut self) {
        let Some(on_end) = self.on_end.take() else {
            return;
        };
        let mut whole = Vec::with_capacity(self.length);
        for data in std::mem::take(&mut self.read) {
            whole.extend_from_slice(&data);
        }
        on_end(whole.into());
    }
}

impl HttpBody for Keeping {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let data = data.clone();
                    self.note(&data);
                }
            }
            // A page that failed midway is not kept.
            Poll::Ready(Some(Err(_))) => self.on_end = None,
            Poll::Ready(None) => self.end(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Tells the page being rendered, if any, what a server function showed (called through
/// `server_fns::context`).
pub fn tell_page(tell: impl FnOnce(&Shown)) {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>();
    if let Some(shown) = parts.as_ref().and_then(|p| p.extensions.get::<Shown>()) {
        tell(shown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn kept(text: &str, nonce: &str) -> KeptHtml {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        kept_html(Bytes::from(text.to_string()), nonce, html, None)
    }

    #[test]
    fn each_answer_carries_its_own_nonce() {
        let page = kept(
            r#"<script nonce="AAAA">1</script><p>x</p><script nonce="AAAA">"#,
            "AAAA",
        );
        assert_eq!(page.nonce_at.len(), 2);
        assert_eq!(
            with_nonce(&page, "bbbbbb"),
            r#"<script nonce="bbbbbb">1</script><p>x</p><script nonce="bbbbbb">"#
        );
        let none = kept("<p>no script</p>", "AAAA");
        assert_eq!(with_nonce(&none, "bbbbbb"), "<p>no script</p>");
    }

    #[test]
    fn a_page_that_showed_something_uncounted_is_not_kept() {
        let shown = Shown::default();
        assert_eq!(shown.keepable(), Some(None));
        let (soon, later) = (
            Instant::now(),
            Instant::now() + std::time::Duration::from_secs(9),
        );
        shown.until(later);
        shown.until(soon);
        assert_eq!(shown.keepable(), Some(Some(soon)), "the earliest deadline");
        shown.not_counted();
        assert_eq!(shown.keepable(), None);
    }

    #[test]
    fn only_a_whole_ok_page_with_no_header_but_its_type_is_kept() {
        let page = |status: StatusCode, headers: &[(&'static str, &'static str)]| {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = status;
            for (name, value) in headers {
                response
                    .headers_mut()
                    .insert(*name, HeaderValue::from_static(value));
            }
            keepable_type(&response).is_some()
        };
        let html = ("content-type", "text/html; charset=utf-8");
        assert!(page(StatusCode::OK, &[html]));
        assert!(!page(StatusCode::NOT_FOUND, &[html]), "an error page");
        assert!(!page(StatusCode::FOUND, &[html, ("location", "/login")]));
        assert!(!page(StatusCode::OK, &[html, ("set-cookie", "a=b")]));
        assert!(!page(
            StatusCode::OK,
            &[("content-type", "application/json")]
        ));
        assert!(!page(StatusCode::OK, &[]));
    }

    async fn read_all(body: Body) -> Bytes {
        axum::body::to_bytes(body, usize::MAX).await.unwrap()
    }

    #[tokio::test]
    async fn a_whole_body_is_handed_on_and_a_cut_one_is_not() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let chunks = ["<html>", "<p>", "</html>"].map(|t| Ok::<_, std::io::Error>(Bytes::from(t)));
        let on_end = {
            let tx = tx.clone();
            Box::new(move |b: Bytes| tx.send(b).unwrap()) as OnEnd
        };
        let body = Body::new(Keeping::new(
            Body::from_stream(futures::stream::iter(chunks)),
            on_end,
        ));
        assert_eq!(read_all(body).await, "<html><p></html>");
        assert_eq!(rx.recv().await.unwrap(), "<html><p></html>");

        let endless = futures::stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from("x")));
        let on_end = Box::new(move |b: Bytes| tx.send(b).unwrap()) as OnEnd;
        let mut body =
            Body::new(Keeping::new(Body::from_stream(endless), on_end)).into_data_stream();
        assert!(body.next().await.is_some());
        drop(body); // the client hung up
        assert!(rx.try_recv().is_err(), "nothing handed on");
    }
}
