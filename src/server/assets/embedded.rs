//! The site compiled into release binaries (`rust-embed`), so the binary alone serves a working
//! front end from any folder. Debug builds (and the tests) leave this out and read the folder.

use axum::http::HeaderMap;
use axum::response::Response;

#[cfg(not(debug_assertions))]
mod site {
    /// `cargo leptos build --release` builds the site before the server, so it is there to
    /// embed; a plain `cargo build --release` finds none and serves the folder instead.
    /// The WASM itself is left out (1.8 MB, the binary's biggest file): its brotli and gzip
    /// siblings carry it, and every browser accepts one of them (see `respond`).
    #[derive(rust_embed::RustEmbed)]
    #[folder = "target/site/"]
    #[exclude = "pkg/*.wasm"]
    #[allow_missing = true]
    pub struct Site;
}

/// A digest of the embedded files, or `None` when nothing is embedded.
#[cfg(not(debug_assertions))]
pub fn version() -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut names: Vec<_> = site::Site::iter().collect();
    if names.is_empty() {
        return None;
    }
    names.sort();
    let mut digest = Sha256::new();
    for name in &names {
        if let Some(file) = site::Site::get(name) {
            digest.update(name.as_bytes());
            digest.update(file.metadata.sha256_hash());
        }
    }
    Some(super::short(digest.finalize().as_slice()))
}

#[cfg(debug_assertions)]
pub fn version() -> Option<String> {
    None
}

/// The embedded file at `path` (inside the site, no leading slash), in the best encoding the
/// request accepts; `None` when there is no such file.
#[cfg(not(debug_assertions))]
pub fn respond(path: &str, request: &HeaderMap) -> Option<Response> {
    use axum::body::Body;
    use axum::http::{header, HeaderValue, StatusCode};
    let sibling = |ext: &str| site::Site::get(&format!("{path}.{ext}"));
    let file = site::Site::get(path);
    // A file left out of the binary is known by its gzip sibling.
    let digest = match &file {
        Some(file) => file.metadata.sha256_hash(),
        None => sibling("gz")?.metadata.sha256_hash(),
    };
    // Compressed siblings are served in place of their file, not as files of their own.
    let encoded = [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .filter(|(coding, _)| super::accepts(request, coding))
        .find_map(|(coding, ext)| sibling(ext).map(|f| (f.data, coding)));
    let (body, coding) = match (encoded, file) {
        (Some((data, coding)), _) => (embedded_body(data), Some(coding)),
        (None, Some(file)) => (embedded_body(file.data), None),
        (None, None) => (Body::from(decoded(path, &sibling("gz")?.data)?), None),
    };
    let tag = format!(
        "\"{}{}\"",
        super::short(&digest),
        coding.map(|c| format!("-{c}")).unwrap_or_default()
    );
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, super::content_type(path))
        .header(header::ETAG, &tag);
    if let Some(coding) = coding {
        response = response.header(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    let response = match fresh {
        true => response
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty()),
        false => response.body(body),
    };
    response.ok()
}

/// Embedded bytes are served in place, never copied.
#[cfg(not(debug_assertions))]
fn embedded_body(data: std::borrow::Cow<'static, [u8]>) -> axum::body::Body {
    match data {
        std::borrow::Cow::Borrowed(bytes) => bytes::Bytes::from_static(bytes).into(),
        std::borrow::Cow::Owned(bytes) => bytes.into(),
    }
}

/// A file left out of the binary, decoded from its gzip sibling for a client that accepts
/// neither encoding (none of today's browsers): once, then kept, so such requests cost no more
/// than any other.
#[cfg(not(debug_assertions))]
fn decoded(path: &str, gzipped: &[u8]) -> Option<bytes::Bytes> {
    use std::collections::HashMap;
    use std::io::Read;
    use std::sync::{LazyLock, Mutex};
    static DECODED: LazyLock<Mutex<HashMap<String, bytes::Bytes>>> =
        LazyLock::new(Default::default);
    let mut decoded = DECODED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(bytes) = decoded.get(path) {
        return Some(bytes.clone());
    }
    let mut plain = Vec::new();
    if let Err(e) = flate2::read::GzDecoder::new(gzipped).read_to_end(&mut plain) {
        tracing::error!(path, error = %e, "an embedded file's gzip sibling does not decode");
        return None;
    }
    let bytes = bytes::Bytes::from(plain);
    decoded.insert(path.to_string(), bytes.clone());
    Some(bytes)
}

#[cfg(debug_assertions)]
pub fn respond(_path: &str, _request: &HeaderMap) -> Option<Response> {
    None
}
