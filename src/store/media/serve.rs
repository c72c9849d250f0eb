//! `GET|HEAD /media/{key}`: type, strong ETag (the key is the content hash), conditional
//! requests and byte ranges, so videos seek.

use super::sniff::mime_of_key;
use super::MediaStore;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use std::ops::Range;
use std::sync::Arc;

/// Bytes read per step when streaming a file: large enough that a local read or an S3 ranged
/// GET per step costs little, small enough that a request holds little memory.
const WINDOW: u64 = 1 << 20;

pub fn routes<S: Clone + Send + Sync + 'static>(store: MediaStore) -> Router<S> {
    Router::new()
        .route("/media/{*key}", get(serve))
        .with_state(store)
}

/// Keys are `<64 hex>.<ext>`: nothing else (no `..`, no slashes) reaches the disk.
pub(crate) fn valid_key(key: &str) -> bool {
    let Some((hash, ext)) = key.split_once('.') else {
        return false;
    };
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && !ext.is_empty()
        && ext.len() <= 5
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
}

async fn serve(
    State(store): State<MediaStore>,
    Path(key): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Some(path) = store.path_of(&key) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(meta) = store.objects().head(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let size = meta.size;
    let etag = format!("\"{}\"", key.split('.').next().unwrap_or_default());
    let common = [
        (header::ETAG, etag.clone()),
        (header::ACCEPT_RANGES, "bytes".to_string()),
        (
            header::CACHE_CONTROL,
            "public, max-age=31536000, immutable".to_string(),
        ),
        (header::CONTENT_TYPE, mime_of_key(&key).to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, size));
    let (status, start, len) = match range {
        None => (StatusCode::OK, 0, size),
        Some(Some((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Some(None) => {
            let mut res = (StatusCode::RANGE_NOT_SATISFIABLE, common).into_response();
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                format!("bytes */{size}").parse().unwrap(),
            );
            return res;
        }
    };
    let body = if method == Method::HEAD || len == 0 {
        Body::empty()
    } else {
        // The first window is read before answering: a file removed since `head` (the sweep,
        // a deletion) is a 404, not a connection that breaks off after its headers.
        let first_end = (start + WINDOW).min(start + len);
        let Ok(first) = store.objects().get_range(&path, start..first_end).await else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let rest = windows(store.objects().clone(), path, first_end..start + len);
        let first = futures::stream::iter([Ok::<_, std::io::Error>(first)]);
        Body::from_stream(first.chain(rest))
    };
    let mut res = (status, common, body).into_response();
    res.headers_mut().insert(header::CONTENT_LENGTH, len.into());
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!("bytes {start}-{}/{size}", start + len - 1);
        res.headers_mut()
            .insert(header::CONTENT_RANGE, value.parse().unwrap());
    }
    res
}

/// Only the asked-for bytes, read a window at a time: a large video is never held whole.
/// (object_store's own local stream reads 8 KiB per blocking call: `./dev bench` measured
/// 1 MiB ranges 13× and whole files 6× slower that way.)
fn windows(
    objects: Arc<dyn ObjectStore>,
    path: ObjectPath,
    range: Range<u64>,
) -> impl Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures::stream::try_unfold(range.start, move |at| {
        let (objects, path, end) = (objects.clone(), path.clone(), range.end);
        async move {
            if at >= end {
                return Ok(None);
            }
            let next = end.min(at + WINDOW);
            let bytes = objects.get_range(&path, at..next).await;
            Ok(Some((bytes.map_err(std::io::Error::other)?, next)))
        }
    })
}

/// One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, clipped to the file; `None` when unsatisfiable.
fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (from, to) = spec.split(',').next()?.trim().split_once('-')?;
    let (start, end) = match (from.trim(), to.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return None;
            }
            (size.saturating_sub(n), size.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, size.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(size.checked_sub(1)?),
        ),
    };
    (start <= end && start < size).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_each_form() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=9-3", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=0-0", 0), None);
    }

    #[test]
    fn keys_cannot_escape_the_folder() {
        let hash = "a".repeat(64);
        assert!(valid_key(&format!("{hash}.png")));
        assert!(!valid_key(&format!("../{hash}.png")));
        assert!(!valid_key(&format!("{hash}.png/../../x")));
        assert!(!valid_key("x.png"));
        assert!(!valid_key(&format!("{}.png", "A".repeat(64))));
    }
}
