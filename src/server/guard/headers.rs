//! Security headers on every response. The Content-Security-Policy lets our own script, WASM,
//! styles and media load and nothing else; Leptos' inline hydration scripts carry a nonce made
//! fresh for each response (handed to the page through the request, see [`adopt_nonce`]).

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use rand::RngCore as _;

/// This response's CSP nonce, for the inline scripts of the page being rendered.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

#[derive(Clone)]
pub struct SecurityHeaders {
    https: bool,
}

impl SecurityHeaders {
    pub fn new(public_base_url: &str) -> Self {
        Self {
            https: public_base_url.starts_with("https://"),
        }
    }
}

/// The policy. `'wasm-unsafe-eval'` lets the browser compile our WASM bundle (and nothing more);
/// `data:`/`blob:` images and media are the sketch pad's drawing and local previews.
pub fn content_security_policy(nonce: &str) -> String {
    [
        "default-src 'self'",
        &format!("script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'"),
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
    .join("; ")
}

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn middleware(config: SecurityHeaders, mut req: Request, next: Next) -> Response {
    let nonce = new_nonce();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    if config.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000"),
        );
    }
    response
}

/// Called while the page shell renders: makes Leptos put this response's nonce on its inline
/// scripts (leptos_axum would otherwise make its own, which our header does not know).
pub fn adopt_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}
