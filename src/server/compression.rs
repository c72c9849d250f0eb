//! Responses compressed on the fly: pages, JSON answers and server-function results, in the
//! encoding the client prefers of zstd, brotli and gzip (zstd for Chromium and Firefox, brotli
//! for Safari). A gallery page of fifty characters is about 80 KB of HTML and a page of the JSON
//! list about 40 KB; compressed they are 3–6 KB, which is what a creator on a slow link waits for
//! on every navigation.
//!
//! At each encoder's fastest level: measured on this machine (`./dev bench`, README), brotli at
//! its default on-the-fly quality 4 made `/characters` 35% and `/api/characters` 42% slower for
//! 5.3 KB where zstd at its fastest sends 5.6 KB and costs 10–20%.
//!
//! Only text is compressed. Media (pictures, videos, audio) is compressed already, the live event
//! stream must reach the browser event by event, and the release build's site files carry
//! precompressed siblings (answers with a `Content-Encoding` are passed through as they are).
//! The folder a debug build serves has none, so its WASM is compressed here too (`./dev run`).
//!
//! No secret shares a compressed body with text an attacker chooses (BREACH): sessions are
//! cookies, CSRF is checked on the `Origin`, and the CSP nonce changes with every response.

use axum::http::{header, Extensions, HeaderMap, StatusCode, Version};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Smaller answers gain less than the encoding's own framing and the CPU it costs.
const MIN_SIZE: u16 = 512;

/// The content types worth compressing (matched on the type before any `;` parameter).
const COMPRESSIBLE: &[&str] = &[
    "text/html",
    "text/css",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/wasm",
];

/// The layer: zstd, brotli or gzip, each at its fastest level.
pub fn layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .no_deflate()
        .quality(CompressionLevel::Fastest)
        .compress_when(SizeAbove::new(MIN_SIZE).and(is_compressible))
}

fn is_compressible(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim();
    COMPRESSIBLE.iter().any(|t| essence.eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn compressible(content_type: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        is_compressible(
            StatusCode::OK,
            Version::HTTP_11,
            &headers,
            &Extensions::new(),
        )
    }

    #[test]
    fn text_is_compressed_and_media_and_events_are_not() {
        for yes in [
            "text/html; charset=utf-8",
            "application/json",
            "Application/JSON; charset=UTF-8",
            "text/css",
            "text/javascript",
            "image/svg+xml",
            "application/wasm",
        ] {
            assert!(compressible(yes), "{yes}");
        }
        for no in [
            "image/png",
            "image/jpeg",
            "video/mp4",
            "audio/mpeg",
            "text/event-stream",
            "application/octet-stream",
            "text/htmlx",
        ] {
            assert!(!compressible(no), "{no}");
        }
        let none = is_compressible(
            StatusCode::OK,
            Version::HTTP_11,
            &HeaderMap::new(),
            &Extensions::new(),
        );
        assert!(!none, "no content type, no guess");
    }
}
