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
}

pub fn router(config: SimulatorConfig) -> Router {
    let sim = Arc::new(Sim::new(config.speedup, config.public_base_url));
    let api = api::routes().layer(middleware::from_fn_with_state(sim.clone(), gate));
    Router::new()
        .merge(api)
        .merge(control::routes())
        .merge(files::routes())
        .with_state(sim)
}

/// Serves the simulator alone until Ctrl-C or SIGTERM.
pub async fn serve(addr: SocketAddr, speedup: f64) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router(SimulatorConfig {
        speedup,
        public_base_url: format!("http://{bound}"),
    });
    println!("A2E simulator listening on http://{bound} (speed-up {speedup})");
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::server::shutdown_signal())
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
    let Some(key) = key else {
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
    sim.log_request(serde_json::json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "body": serde_json::from_slice::<serde_json::Value>(&bytes).ok(),
    }));
    if let Some(fault) = sim.draw_fault() {
        return inject(&fault).await;
    }
    parts.extensions.insert(api::ApiKey(key));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

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
        "moderation" => api::fail(
            StatusCode::FORBIDDEN,
            1003,
            "The content violates the usage policy (simulated)",
        ),
        _ => api::fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "Internal server error (simulated)",
        ),
    }
}
