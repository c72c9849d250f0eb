//! The site compiled into release binaries (`rust-embed`), so the binary alone serves a working
//! front end from any folder. Debug builds (and the tests) leave this out and read the folder.

use axum::http::HeaderMap;
use axum::response::Response;

#[cfg(not(debug_assertions))]
mod site {
    /// `cargo leptos build --release` builds the site before the server, so it is there to
    /// embed; a plain `cargo build --release` finds none and serves the folder instead.
    #[derive(rust_embed::RustEmbed)]
    #[folder = "target/site/"]
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
    // Compressed siblings are served in place of their file, not as files of their own.
    let file = site::Site::get(path)?;
    let (data, coding) = ["br", "gzip"]
        .into_iter()
        .filter(|coding| super::accepts(request, coding))
        .find_map(|coding| {
            let ext = if coding == "br" { "br" } else { "gz" };
            site::Site::get(&format!("{path}.{ext}")).map(|f| (f.data, Some(coding)))
        })
        .unwrap_or((file.data, None));
    let tag = format!(
        "\"{}{}\"",
        super::short(&file.metadata.sha256_hash()),
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
        // Embedded bytes are served in place, never copied.
        false => response.body(match data {
            std::borrow::Cow::Borrowed(bytes) => Body::from(bytes::Bytes::from_static(bytes)),
            std::borrow::Cow::Owned(bytes) => Body::from(bytes),
        }),
    };
    response.ok()
}

#[cfg(debug_assertions)]
pub fn respond(_path: &str, _request: &HeaderMap) -> Option<Response> {
    None
}
