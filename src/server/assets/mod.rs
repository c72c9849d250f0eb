//! The front end's files (`target/site`: `pkg/` with the WASM, JS and CSS, and the `public/`
//! files): embedded in release builds, read from `LEPTOS_SITE_ROOT` otherwise.
//!
//! Pages load the WASM, JS and CSS under `/_v/{version}/…`, where `version` is a digest of this
//! build's files: those URLs never change content, so they are cached for a year
//! (`immutable`); every other file (and a stale version's) is revalidated (`no-cache`).
//! Precompressed `.br` / `.gz` siblings (made by `cargo leptos build --release --precompress`)
//! are sent to clients that accept them.

mod embedded;

use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Prefix of the versioned URLs.
pub const VERSIONED: &str = "/_v/";
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_CACHE: &str = "no-cache";

#[derive(Debug)]
pub struct Assets {
    embedded: bool,
    version: String,
}

impl Assets {
    /// The embedded site when this binary carries one (release builds made with cargo-leptos),
    /// else the folder `site_root`.
    pub fn open(site_root: &str) -> Self {
        match embedded::version() {
            Some(version) => Self {
                embedded: true,
                version,
            },
            None => Self {
                embedded: false,
                version: disk_version(Path::new(site_root)),
            },
        }
    }

    /// Where pages load this build's scripts and style from: `/_v/{version}`.
    pub fn root(&self) -> String {
        format!("{VERSIONED}{}", self.version)
    }

    pub fn is_embedded(&self) -> bool {
        self.embedded
    }

    /// The path inside the site, and whether it was asked for under this build's version.
    fn locate<'a>(&self, path: &'a str) -> (&'a str, bool) {
        let Some(rest) = path.strip_prefix(VERSIONED) else {
            return (path, false);
        };
        match rest.find('/') {
            Some(slash) => (&rest[slash..], rest[..slash] == self.version),
            None => (path, false),
        }
    }
}

/// The router's fallback: a site file, else the app's own 404 page.
pub async fn serve(assets: Arc<Assets>, State(state): State<AppState>, req: Request) -> Response {
    let (path, current) = assets.locate(req.uri().path());
    let path = path.to_owned();
    let cache = if current { IMMUTABLE } else { NO_CACHE };
    if assets.embedded {
        if let Some(response) = embedded::respond(path.trim_start_matches('/'), req.headers()) {
            return with_cache(response, cache);
        }
    }
    // From the folder (leptos' handler: precompressed siblings, ranges), or the 404 page.
    let uri = Uri::builder()
        .path_and_query(path.as_str())
        .build()
        .unwrap_or_else(|_| req.uri().clone());
    let handler = leptos_axum::file_and_error_handler_with_context::<AppState, _>(
        page_context(&assets, &state.pages_in_memory),
        crate::app::shell,
    );
    let response = handler(uri, State(state), req).await;
    // A file (not the rendered 404 page) gets its caching rule.
    let file = matches!(
        response.status(),
        StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT
    ) && !is_page(&response);
    match file {
        true => with_cache(response, cache),
        false => response,
    }
}

/// What pages need from the server: the URL prefix of this build's files, and the count of
/// pages in memory.
pub fn page_context(
    assets: &Assets,
    pages: &super::pages::PagesInMemory,
) -> impl Fn() + Clone + Send + 'static {
    let root = crate::app::AssetRoot(assets.root());
    let pages = pages.clone();
    move || {
        leptos::prelude::provide_context(root.clone());
        leptos::prelude::provide_context(pages.clone());
    }
}

fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn with_cache(mut response: Response, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// A digest of the names, sizes and modification times of the folder's files: it changes
/// whenever the front end is rebuilt, and costs no reading of the (large, in debug) WASM.
fn disk_version(root: &Path) -> String {
    let mut files = Vec::new();
    list_files(root, &mut files);
    files.sort();
    let mut digest = Sha256::new();
    for path in &files {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        digest.update(path.to_string_lossy().as_bytes());
        digest.update(meta.len().to_le_bytes());
        digest.update(modified.as_nanos().to_le_bytes());
    }
    short(digest.finalize().as_slice())
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => list_files(&path, out),
            Ok(_) => out.push(path),
            Err(_) => {}
        }
    }
}

/// 16 hex digits of a digest: plenty to tell builds apart.
fn short(digest: &[u8]) -> String {
    hex::encode(&digest[..8])
}

/// Whether the request accepts `coding` (`br`, `gzip`), by its `Accept-Encoding`.
pub fn accepts(headers: &axum::http::HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}

/// The content type of a site file, by its extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default();
    match ext.to_ascii_lowercase().as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn with_accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
        headers
    }

    #[test]
    fn encodings_are_read_from_accept_encoding() {
        let h = with_accept("gzip, deflate, br, zstd");
        assert!(accepts(&h, "br") && accepts(&h, "gzip"));
        let h = with_accept("gzip;q=1.0, br;q=0");
        assert!(accepts(&h, "gzip") && !accepts(&h, "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
        assert!(!accepts(&with_accept("identity"), "br"));
    }

    #[test]
    fn versioned_paths_are_located() {
        let assets = Assets {
            embedded: false,
            version: "abc".into(),
        };
        assert_eq!(assets.root(), "/_v/abc");
        assert_eq!(assets.locate("/_v/abc/pkg/app.js"), ("/pkg/app.js", true));
        assert_eq!(assets.locate("/_v/old/pkg/app.js"), ("/pkg/app.js", false));
        assert_eq!(assets.locate("/pkg/app.js"), ("/pkg/app.js", false));
        assert_eq!(assets.locate("/_v/abc"), ("/_v/abc", false));
        assert_eq!(content_type("pkg/app.wasm"), "application/wasm");
    }
}
