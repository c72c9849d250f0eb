//! Plain form posts to server functions: the page's forms are `ActionForm`s, which the browser
//! posts by itself when the page's script has not loaded (yet). server_fn then answers with a
//! redirect back to the page (its `Referer`), the error, if any, in the URL (`__path`, `__err`)
//! for the page to show. Two things would break that, and are mended here, in one place:
//!
//! - an error status set on the answer (server functions give their errors their HTTP status,
//!   and the edge refuses with 403/429/…) turns the redirect into a bare error page;
//! - server_fn appends the new error to a `Referer` that may still carry an earlier one, and the
//!   page would show the earlier.
//!
//! So every failed plain form post to a server function is answered `303 See Other` to its page
//! with only the new error in the URL. Requests from the page's script (which accept JSON, not
//! HTML) and successful answers pass untouched. Cross-site posts never get here: the CSRF guard
//! (outside this layer) refuses them, so the `Referer` followed is one of our own pages.

use super::routes::is_server_fn;
use crate::error::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::ServerFnUrlError;

/// An error answer's body is one small JSON `AppError`.
const ERROR_BODY_LIMIT: usize = 64 << 10;

pub async fn middleware(req: Request, next: Next) -> Response {
    let page = match plain_form_post(&req) {
        Some(page) => page,
        None => return next.run(req).await,
    };
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let err = match to_bytes(body, ERROR_BODY_LIMIT).await {
        Ok(bytes) => serde_json::from_slice::<AppError>(&bytes).unwrap_or_else(|_| {
            AppError::new(
                status.as_u16(),
                "error",
                status.canonical_reason().unwrap_or("Error"),
            )
        }),
        Err(_) => AppError::internal(),
    };
    parts.status = StatusCode::SEE_OTHER;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    match HeaderValue::from_str(&back_to(&page, &path, err)) {
        Ok(location) => {
            parts.headers.insert(header::LOCATION, location);
            Response::from_parts(parts, Body::empty())
        }
        // Unreachable for a URL we built; answer with the error as it was.
        Err(_) => Response::from_parts(parts, Body::empty()),
    }
}

/// The page a plain HTML form post to a server function came from, if the request is one.
fn plain_form_post(req: &Request) -> Option<String> {
    let headers = req.headers();
    let accepts_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if req.method() != Method::POST || !is_server_fn(req.uri().path()) || !accepts_html {
        return None;
    }
    let page = headers.get(header::REFERER)?.to_str().ok()?;
    url::Url::parse(page).ok().map(|_| page.to_string())
}

/// `page` without any earlier error, and with this one.
fn back_to(page: &str, server_fn: &str, err: AppError) -> String {
    let mut page = page.to_string();
    ServerFnUrlError::<AppError>::strip_error_info(&mut page);
    ServerFnUrlError::new(server_fn, err)
        .to_url(&page)
        .map(String::from)
        .unwrap_or(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_keeps_its_query_and_gets_only_the_new_error() {
        let old = back_to(
            "http://studio.test/characters?q=sage",
            "/sfn/old",
            AppError::forbidden("old"),
        );
        let url = back_to(&old, "/sfn/new", AppError::payment_required("new"));
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("q".into(), "sage".into()));
        assert_eq!(pairs.iter().filter(|(k, _)| k == "__err").count(), 1);
        let (_, encoded) = pairs.iter().find(|(k, _)| k == "__err").unwrap();
        let err = ServerFnUrlError::<AppError>::decode_err(encoded);
        assert_eq!(err.message, "new");
        assert!(pairs.contains(&("__path".into(), "/sfn/new".into())));
    }
}
