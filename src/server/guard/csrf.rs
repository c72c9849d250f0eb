//! Cross-site request forgery: an unsafe request (POST, PUT, PATCH, DELETE) that a browser could
//! send with our cookie must come from our own pages. Its `Origin` (else its `Referer`) must be
//! `PUBLIC_BASE_URL`'s origin or the origin of the `Host` it was sent to. This covers log-in and
//! sign-up too (log-in CSRF would sign a victim into the attacker's account).
//!
//! - `Authorization: Bearer …` requests are exempt: another site cannot make a browser send it.
//! - A request with neither `Origin` nor `Referer` is refused when it carries a cookie: browsers
//!   always send `Origin` on cross-site POSTs (and on same-origin fetches), so such a request is
//!   not from our pages; scripts without cookies (curl, tests of the API) keep working.

use super::refuse;
use crate::error::AppError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// The origins our pages are served from.
#[derive(Clone)]
pub struct SameSite {
    public_origin: Arc<Option<String>>,
}

impl SameSite {
    pub fn new(public_base_url: &str) -> Self {
        Self {
            public_origin: Arc::new(origin_of(public_base_url)),
        }
    }

    /// `Ok` when the request may go on.
    pub fn check(&self, method: &Method, headers: &HeaderMap) -> Result<(), &'static str> {
        if is_safe(method) || has_bearer(headers) {
            return Ok(());
        }
        let claimed = match (
            text(headers, header::ORIGIN),
            text(headers, header::REFERER),
        ) {
            (Some(origin), _) => origin,
            (None, Some(referer)) => referer,
            (None, None) if headers.contains_key(header::COOKIE) => {
                return Err("The request does not say which page sent it (no Origin or Referer).")
            }
            (None, None) => return Ok(()),
        };
        match origin_of(claimed) {
            Some(origin) if self.is_ours(&origin, headers) => Ok(()),
            _ => Err("The request came from another site."),
        }
    }

    fn is_ours(&self, origin: &str, headers: &HeaderMap) -> bool {
        if self.public_origin.as_deref() == Some(origin) {
            return true;
        }
        // The page's own host, whatever name it was reached by (an address, localhost, …).
        let scheme = origin.split("://").next().unwrap_or("http");
        text(headers, header::HOST)
            .and_then(|host| origin_of(&format!("{scheme}://{host}")))
            .is_some_and(|host_origin| host_origin == origin)
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn has_bearer(headers: &HeaderMap) -> bool {
    text(headers, header::AUTHORIZATION)
        .and_then(|v| v.get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `scheme://host[:port]` of a URL (default ports dropped), or `None` (e.g. `Origin: null`).
fn origin_of(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

pub async fn middleware(origins: SameSite, req: Request, next: Next) -> Response {
    match origins.check(req.method(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            tracing::warn!(path = %req.uri().path(), "cross-site request refused");
            let message = format!("{why} Use the studio's own pages, or an API token.");
            refuse(req.uri().path(), AppError::new(403, "csrf", message), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn same_origin_passes_and_foreign_origin_is_refused() {
        let guard = SameSite::new("https://studio.example.com");
        let host = (header::HOST, "127.0.0.1:3000");
        let ok = |h: &HeaderMap| guard.check(&Method::POST, h).is_ok();
        assert!(ok(&headers(&[(
            header::ORIGIN,
            "https://studio.example.com"
        )])));
        assert!(ok(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3000")
        ])));
        assert!(ok(&headers(&[(
            header::REFERER,
            "https://studio.example.com/characters?x=1"
        )])));
        assert!(!ok(&headers(&[
            host.clone(),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!ok(&headers(&[
            host.clone(),
            (header::ORIGIN, "http://127.0.0.1:3001")
        ])));
        assert!(!ok(&headers(&[host.clone(), (header::ORIGIN, "null")])));
        assert!(!ok(&headers(&[(
            header::REFERER,
            "https://studio.example.com.evil.io/"
        )])));
        // Origin wins over a matching Referer.
        assert!(!ok(&headers(&[
            (header::ORIGIN, "https://evil.example"),
            (header::REFERER, "https://studio.example.com/"),
        ])));
    }

    #[test]
    fn cookies_without_origin_are_refused_tokens_and_safe_methods_pass() {
        let guard = SameSite::new("http://127.0.0.1:3000");
        let cookie = (header::COOKIE, "avatar_studio_session=abc");
        let with_cookie = headers(std::slice::from_ref(&cookie));
        assert!(guard.check(&Method::POST, &with_cookie).is_err());
        assert!(guard.check(&Method::DELETE, &with_cookie).is_err());
        assert!(guard.check(&Method::GET, &with_cookie).is_ok());
        assert!(guard.check(&Method::POST, &headers(&[])).is_ok());
        let bearer = (header::AUTHORIZATION, "Bearer as_123");
        let evil = (header::ORIGIN, "https://evil.example");
        assert!(guard
            .check(&Method::POST, &headers(&[cookie, bearer, evil]))
            .is_ok());
    }
}
