//! Request latency by matched route: `/api/characters/{id}`, never the raw path with its id.

use super::recorder::HTTP_DURATION;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The route label of requests no route matched (static files, unknown pages).
pub const UNMATCHED: &str = "unmatched";

/// Times each request to its response's head (a stream's body may flow much longer).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(req).await;
    metrics::histogram!(
        HTTP_DURATION,
        "method" => method,
        "route" => route.unwrap_or_else(|| UNMATCHED.to_owned()),
        "status" => response.status().as_u16().to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// Any method a client invents would be a new series: only the standard ones are named.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
