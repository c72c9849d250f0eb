//! Cross-site request forgery: an unsafe request that rides on the session cookie must come
//! from the studio's own pages. The browser says where a request comes from in `Origin` (sent
//! on every cross-site POST) or else `Referer`; it must match `PUBLIC_BASE_URL` or the host the
//! request was sent to. Requests with a Bearer token carry their authority themselves and are
//! exempt. Log-in and sign-up (JSON routes and server functions) are checked even without a
//! cookie, so no other site can log a visitor into an account of its choosing.

use super::state::AppState;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, REFERER};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_site_only(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() || exempt(&request) {
        return next.run(request).await;
    }
    let base = state.config.public_base_url();
    if comes_from_site(request.headers(), &base) {
        next.run(request).await
    } else {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
        AppError::new(
            403,
            "csrf",
            "This request did not come from the studio's own pages, so it was refused.",
        )
        .into_response()
    }
}

fn exempt(request: &Request) -> bool {
    let headers = request.headers();
    let path = request.uri().path();
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("bearer "));
    // Logging in changes who the browser is, cookie or not: always checked.
    let signs_in = path.starts_with("/api/auth/") || path.starts_with("/sfn/");
    bearer || path.starts_with("/a2e-sim/") || (!headers.contains_key(COOKIE) && !signs_in)
}

/// Whether `Origin` (else `Referer`) names the site: `base` or the host the request went to.
fn comes_from_site(headers: &HeaderMap, base: &str) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(from) = text(ORIGIN)
        .filter(|o| !o.is_empty() && *o != "null")
        .map(String::from)
        .or_else(|| text(REFERER).and_then(origin_of))
    else {
        return false;
    };
    let from = from.trim_end_matches('/');
    let own = origin_of(base).unwrap_or_default();
    let host = text(HOST).unwrap_or_default();
    from == own
        || (!host.is_empty()
            && (from == format!("http://{host}") || from == format!("https://{host}")))
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(axum::http::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_the_site_itself_is_trusted() {
        let base = "https://studio.example.com";
        let ok = |h: &[(axum::http::HeaderName, &str)]| comes_from_site(&headers(h), base);
        assert!(ok(&[(ORIGIN, "https://studio.example.com")]));
        assert!(ok(&[(
            REFERER,
            "https://studio.example.com/characters?x=1"
        )]));
        assert!(ok(&[
            (ORIGIN, "http://127.0.0.1:3000"),
            (HOST, "127.0.0.1:3000")
        ]));
        assert!(!ok(&[(ORIGIN, "https://evil.example")]));
        assert!(!ok(&[(ORIGIN, "https://studio.example.com.evil.example")]));
        assert!(!ok(&[(ORIGIN, "null"), (HOST, "studio.example.com")]));
        assert!(!ok(&[(REFERER, "https://evil.example/studio.example.com")]));
        assert!(!ok(&[(HOST, "studio.example.com")]), "no origin at all");
    }
}
