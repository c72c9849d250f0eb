//! A2E simulator: the same calls, envelope, ids, statuses and errors as A2E, with state per
//! API key and a clock that can run fast. Mounted in-process (demo mode, `/a2e-sim`) or run
//! alone (`avatar-studio simulate-a2e`). Control routes under `/_simulator/` exist only here.

mod api;
mod control;
mod draw;
mod files;
mod state;
mod video;

/// The face a simulated picture was drawn with: tests use it to see a look carried through.
pub use draw::seed_in_png as face_in_picture;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use state::Sim;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    pub speedup: f64,
    /// Absolute URL where this router is reachable (media URLs are built from it).
    pub public_base_url: String,
    /// The only API key accepted (the studio's own, made at each start); `None` accepts any
    /// key, each with its own state (the standalone simulator, as a stand-in for A2E).
    pub only_key: Option<String>,
    /// Serve the test controls under `/_simulator/`.
    pub controls: bool,
}

pub fn router(config: SimulatorConfig) -> Router {
    let mut sim = Sim::new(config.speedup, config.public_base_url);
    sim.only_key = config.only_key;
    let sim = Arc::new(sim);
    let api = api::routes().layer(middleware::from_fn_with_state(sim.clone(), gate));
    let mut router = Router::new().merge(api).merge(files::routes());
    if config.controls {
        router = router.merge(control::routes());
    }
    router.with_state(sim)
}

/// A key made at start, so no one but the studio that made it can use its simulator.
pub fn fresh_key() -> String {
    use rand::Rng;
    let bytes: [u8; 24] = rand::thread_rng().gen();
    format!("sk_sim_{}", hex::encode(bytes))
}

/// Serves the simulator alone until Ctrl-C or SIGTERM.
pub async fn serve(addr: SocketAddr, speedup: f64, controls: bool) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router(SimulatorConfig {
        speedup,
        public_base_url: format!("http://{bound}"),
        only_key: None,
        controls,
    });
    println!("A2E simulator listening on http://{bound} (speed-up {speedup})");
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown::signal())
        .await
        .map_err(|e| format!("simulator error: {e}"))
}

/// Every `/api/v1` call: needs a bearer key, is logged (without the key), may meet a fault.
async fn gate(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(String::from);
    let allowed = |k: &String| sim.only_key.as_ref().is_none_or(|only| only == k);
    let Some(key) = key.filter(allowed) else {
        return api::fail(
            StatusCode::UNAUTHORIZED,
            401,
            "Unauthorized: invalid API key",
        );
    };
    let (mut parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 10 << 20)
        .await
        .unwrap_or_default();
    sim.count_call(parts.method.as_str(), parts.uri.path());
    sim.log_request(serde_json::json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "body": serde_json::from_slice::<serde_json::Value>(&bytes).ok(),
    }));
    parts.extensions.insert(api::ApiKey(key));
    let fault = sim.draw_fault(parts.uri.path());
    let request = Request::from_parts(parts, Body::from(bytes));
    match fault {
        None => next.run(request).await,
        // Waits, then takes effect and answers as usual; the work goes on even when the
        // caller stops waiting, as it would at A2E.
        Some((kind, faults)) if kind == "slow" => {
            let work = tokio::spawn(async move {
                tokio::time::sleep(faults.delay()).await;
                next.run(request).await
            });
            work.await.unwrap_or_else(|_| {
                api::fail(StatusCode::INTERNAL_SERVER_ERROR, 500, "simulator failure")
            })
        }
        // Takes effect (a start creates its task, which runs), but the answer is lost.
        Some((kind, faults)) if kind == "lost_response" => {
            let _answer = next.run(request).await;
            lose_answer(faults.flavour.as_deref())
        }
        Some((kind, _)) => inject(&kind).await,
    }
}

/// `lost_response` flavours.
pub(crate) const FLAVOURS: [&str; 2] = ["dropped_connection", "gateway_timeout"];

/// What a caller sees of a call whose answer was lost: a 504, or a connection that drops
/// before the answer is complete (a body that fails makes hyper abort the connection).
fn lose_answer(flavour: Option<&str>) -> Response {
    let flavour = flavour.unwrap_or_else(|| FLAVOURS[rand::random::<usize>() % FLAVOURS.len()]);
    if flavour == "gateway_timeout" {
        return api::fail(
            StatusCode::GATEWAY_TIMEOUT,
            504,
            "Gateway timeout (simulated)",
        );
    }
    let broken = futures::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection dropped (simulated)",
        ))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(broken))
        .unwrap()
}

/// Faults that answer in place of A2E: the call takes no effect.
async fn inject(fault: &str) -> Response {
    match fault {
        "rate_limit" => {
            let mut res = api::fail(StatusCode::TOO_MANY_REQUESTS, 429, "Too many requests");
            res.headers_mut()
                .insert(header::RETRY_AFTER, "1".parse().unwrap());
            res
        }
        "timeout" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            api::fail(StatusCode::GATEWAY_TIMEOUT, 504, "Gateway timeout")
        }
        "malformed" => Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{\"code\":0,\"data\":{\"_id\":"))
            .unwrap(),
        "code_nonzero" => api::fail(StatusCode::OK, 1001, "parameter error (simulated)"),
        // As a call A2E does not offer.
        "not_found" => api::fail(StatusCode::NOT_FOUND, 404, "Not Found (simulated)"),
        "moderation" => api::fail(
            StatusCode::FORBIDDEN,
            1003,
            "The content violates the usage policy (simulated)",
        ),
        // `server_error`: refused before any work, as A2E's 503.
        _ => api::fail(
            StatusCode::SERVICE_UNAVAILABLE,
            503,
            "Service unavailable (simulated)",
        ),
    }
}
