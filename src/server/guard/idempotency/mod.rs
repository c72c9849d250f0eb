//! Idempotency keys on paid API requests, with Stripe's semantics. A request carrying
//! `Idempotency-Key` claims (user, key) by inserting a row; its answer (status and body) is kept
//! and replayed to every repeat for 24 hours. A repeat with another method, path or body gets 422;
//! a repeat while the first is still running gets 409. Answers that are our failures (5xx) are not
//! kept: nothing was done, so a retry runs afresh.
//!
//! The request runs in a task of its own: axum drops a handler when its client hangs up, and a
//! charge made without its answer being kept would be charged again on the retry.

mod store;

use super::refuse;
use crate::error::AppError;
use crate::store::{now_millis, Db};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const HEADER: &str = "idempotency-key";
/// Says that an answer is a replay.
pub const REPLAYED: &str = "idempotent-replayed";
const KEEP_MS: i64 = 24 * 60 * 60 * 1000;
/// A running claim not refreshed for this long was left by an instance that died.
const ABANDONED_MS: i64 = 5 * 60 * 1000;
const HEARTBEAT: Duration = Duration::from_secs(60);
/// The largest request body hashed: a video upload (the routes' own limit is the same).
const BODY_LIMIT: usize = 210 << 20;
/// Answers of paid routes are small JSON documents.
const ANSWER_LIMIT: usize = 16 << 20;

/// Runs a paid request under its idempotency key, if it has one.
pub async fn run(db: &Db, user: &str, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let Some(key) = valid_key(key) else {
        let err = AppError::bad_request(
            "invalid_idempotency_key",
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
        );
        return refuse(&path, err, None);
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        let err = AppError::new(413, "body_too_large", "The request body is too large.");
        return refuse(&path, err, None);
    };
    let print = fingerprint(&parts, &bytes);
    let job = Job {
        db: db.clone(),
        user: user.to_string(),
        key,
    };
    match job.claim(&print).await {
        Ok(Claimed::Run) => {
            job.answer(next, Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Claimed::Replay(row)) => replay(row),
        Ok(Claimed::Refused(err)) => refuse(&path, err, None),
        Err(err) => refuse(&path, AppError::from(err), None),
    }
}

enum Claimed {
    Run,
    Replay(store::KeyRow),
    Refused(AppError),
}

struct Job {
    db: Db,
    user: String,
    key: String,
}

impl Job {
    async fn claim(&self, print: &str) -> sqlx::Result<Claimed> {
        let (db, user, key) = (&self.db, self.user.as_str(), self.key.as_str());
        // Twice at most: once more after removing an expired key.
        for _ in 0..2 {
            if store::claim(db, user, key, print).await? {
                return Ok(Claimed::Run);
            }
            let Some(row) = store::find(db, user, key).await? else {
                continue; // swept in between
            };
            let now = now_millis();
            if row.created_at < now - KEEP_MS {
                store::delete_expired(db, user, key, row.created_at).await?;
                continue;
            }
            if row.fingerprint != print {
                return Ok(Claimed::Refused(AppError::new(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with other parameters. Use a new key for a new request.",
                )));
            }
            if row.done {
                return Ok(Claimed::Replay(row));
            }
            if row.updated_at < now - ABANDONED_MS
                && store::take_over(db, user, key, row.updated_at).await?
            {
                return Ok(Claimed::Run);
            }
            return Ok(Claimed::Refused(AppError::conflict(
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still running. Retry when it has answered.",
            )));
        }
        Ok(Claimed::Refused(AppError::conflict(
            "idempotency_in_progress",
            "This Idempotency-Key is being used by another request. Retry in a moment.",
        )))
    }

    /// Runs the request to its end in a task of its own and keeps its answer.
    async fn answer(self, next: Next, req: Request) -> Response {
        let task = tokio::spawn(async move {
            let response = {
                let run = next.run(req);
                tokio::pin!(run);
                let mut beat = tokio::time::interval(HEARTBEAT);
                beat.tick().await;
                loop {
                    tokio::select! {
                        response = &mut run => break response,
                        _ = beat.tick() => {
                            let _ = store::heartbeat(&self.db, &self.user, &self.key).await;
                        }
                    }
                }
            };
            self.keep(response).await
        });
        task.await.unwrap_or_else(|err| {
            tracing::error!(error = %err, "idempotent request failed");
            AppError::internal().into_response()
        })
    }

    async fn keep(&self, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, ANSWER_LIMIT).await {
            Ok(bytes) => bytes,
            Err(_) => {
                let _ = store::release(&self.db, &self.user, &self.key).await;
                return AppError::internal().into_response();
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let kept = if parts.status.is_server_error() {
            store::release(&self.db, &self.user, &self.key).await
        } else {
            let status = parts.status.as_u16();
            store::complete(&self.db, &self.user, &self.key, status, content_type, &text).await
        };
        if let Err(err) = kept {
            tracing::error!(error = %err, "idempotency key not updated");
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

fn replay(row: store::KeyRow) -> Response {
    let status = row
        .status_code
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, row.body.unwrap_or_default()).into_response();
    let headers = response.headers_mut();
    if let Some(value) = row
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn valid_key(value: &HeaderValue) -> Option<String> {
    let key = value.to_str().ok()?.trim();
    let ok = (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| key.to_string())
}

/// What makes two requests "the same": method, path and query, content type and body. A
/// multipart boundary is random per request, so it is left out of both.
fn fingerprint(parts: &axum::http::request::Parts, body: &[u8]) -> String {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty());
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str());
    hash.update(b"\n");
    hash.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
    hash.update(b"\n");
    hash.update(content_type.split(';').next().unwrap_or_default().trim());
    hash.update(b"\n");
    match boundary {
        Some(boundary) => hash_without(&mut hash, body, boundary.as_bytes()),
        None => hash.update(body),
    }
    hex::encode(hash.finalize())
}

/// Hashes `body` with every occurrence of `needle` left out.
fn hash_without(hash: &mut Sha256, body: &[u8], needle: &[u8]) {
    let mut rest = body;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        hash.update(&rest[..at]);
        hash.update(b"\0");
        rest = &rest[at + needle.len()..];
    }
    hash.update(rest);
}

/// Deletes the keys older than 24 hours; returns how many.
pub async fn sweep_expired(db: &Db) -> sqlx::Result<u64> {
    store::sweep(db, now_millis() - KEEP_MS).await
}

/// Deletes expired keys every hour (and once at start).
pub fn spawn_sweep(db: Db, shutdown: CancellationToken) {
    crate::shutdown::hourly(shutdown, "expired idempotency keys swept", move || {
        let db = db.clone();
        async move { sweep_expired(&db).await }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(content_type: &str) -> axum::http::request::Parts {
        let req = Request::post("/api/characters")
            .header(header::CONTENT_TYPE, content_type)
            .body(())
            .unwrap();
        req.into_parts().0
    }

    #[test]
    fn fingerprints_ignore_the_multipart_boundary_only() {
        let a = fingerprint(
            &parts("multipart/form-data; boundary=aaaa"),
            b"--aaaa\r\nname=x\r\n--aaaa--",
        );
        let b = fingerprint(
            &parts("multipart/form-data; boundary=bbbb"),
            b"--bbbb\r\nname=x\r\n--bbbb--",
        );
        let c = fingerprint(
            &parts("multipart/form-data; boundary=bbbb"),
            b"--bbbb\r\nname=y\r\n--bbbb--",
        );
        assert_eq!(a, b);
        assert_ne!(b, c);
        let json = fingerprint(&parts("application/json"), br#"{"a":1}"#);
        assert_ne!(json, fingerprint(&parts("application/json"), br#"{"a":2}"#));
    }

    #[test]
    fn keys_are_checked() {
        assert!(valid_key(&HeaderValue::from_static("order-42")).is_some());
        assert!(valid_key(&HeaderValue::from_static("")).is_none());
        assert!(valid_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_none());
    }
}
