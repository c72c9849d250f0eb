//! Test controls: faults, a failing next training, the request log, reset, and avatars trained
//! in the A2E account outside the studio (as in A2E's own app).

use super::state::{Faults, Sim};
use super::FLAVOURS;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// `server_error` answers 503 before any work; `timeout` answers nothing for 30 s and takes no
/// effect; `lost_response` takes effect but loses the answer (see `flavour`); `slow` waits
/// `delay_ms` (default 3000), then takes effect and answers; `not_found` answers 404 as for a
/// call A2E does not offer. `only` limits faults to calls whose path ends with it.
const KINDS: [&str; 9] = [
    "not_found",
    "server_error",
    "rate_limit",
    "timeout",
    "malformed",
    "code_nonzero",
    "moderation",
    "lost_response",
    "slow",
];

/// Longest `slow` delay accepted.
const MAX_DELAY_MS: u64 = 120_000;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_simulator/faults", post(set_faults).get(get_faults))
        .route("/_simulator/fail-next-training", post(fail_next_training))
        .route("/_simulator/requests", get(requests).delete(clear_requests))
        .route("/_simulator/reset", post(reset))
        .route("/_simulator/stats", get(stats))
        .route("/_simulator/avatars", post(train_elsewhere))
}

async fn set_faults(State(sim): State<Arc<Sim>>, Json(faults): Json<Faults>) -> Response {
    if !(0.0..=1.0).contains(&faults.rate) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "rate must be between 0 and 1" })),
        )
            .into_response();
    }
    if let Some(unknown) = faults.kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("unknown fault kind {unknown}"), "kinds": KINDS })),
        )
            .into_response();
    }
    if faults.delay_ms.is_some_and(|d| d > MAX_DELAY_MS) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("delay_ms must be at most {MAX_DELAY_MS}") })),
        )
            .into_response();
    }
    if let Some(flavour) = faults.flavour.as_deref().filter(|f| !FLAVOURS.contains(f)) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("unknown flavour {flavour}"), "flavours": FLAVOURS })),
        )
            .into_response();
    }
    *sim.faults.lock().unwrap() = faults.clone();
    Json(json!(faults)).into_response()
}

async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!(*sim.faults.lock().unwrap()))
}

#[derive(serde::Deserialize)]
struct FailNext {
    reason: Option<String>,
}

async fn fail_next_training(
    State(sim): State<Arc<Sim>>,
    Json(body): Json<FailNext>,
) -> Json<Value> {
    let reason = body
        .reason
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "Training failed (simulated)".into());
    *sim.fail_next_training.lock().unwrap() = Some(reason.clone());
    Json(json!({ "reason": reason }))
}

async fn requests(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(json!({ "requests": *sim.requests.lock().unwrap() }))
}

async fn clear_requests(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.requests.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.accounts.lock().unwrap().clear();
    sim.requests.lock().unwrap().clear();
    *sim.calls.lock().unwrap() = Default::default();
    *sim.faults.lock().unwrap() = Faults::default();
    *sim.fail_next_training.lock().unwrap() = None;
    StatusCode::NO_CONTENT
}

/// Calls counted per route and, for every avatar of every account, the calls naming it and
/// when its training started and ends on the wall clock (Unix ms): `./dev bench` compares
/// these with what the studio wrote, to measure its polling cost and lag.
async fn stats(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as f64)
        .unwrap_or(0.0);
    let calls = sim.calls.lock().unwrap();
    let accounts = sim.accounts.lock().unwrap();
    let avatars: Vec<Value> = accounts
        .values()
        .flat_map(|account| account.tasks.values())
        .filter(|task| task.kind == super::state::Kind::Avatar)
        .map(|task| {
            let started_ms = now_ms - task.started.elapsed().as_secs_f64() * 1000.0;
            let ends_ms = started_ms + task.duration_s * 1000.0 / sim.speedup;
            json!({
                "id": task.id,
                "name": task.name,
                "calls": calls.by_task.get(&task.id).copied().unwrap_or(0),
                "started_at_ms": started_ms.round() as i64,
                "ends_at_ms": ends_ms.round() as i64,
            })
        })
        .collect();
    Json(json!({ "calls": calls.by_route, "avatars": avatars }))
}

#[derive(serde::Deserialize)]
struct Elsewhere {
    name: String,
    /// The account (API key) it belongs to; the studio's own when the simulator has one key.
    key: Option<String>,
}

/// Starts training an avatar in the account as A2E's own app would (not through the API's
/// request log): the studio finds it in its list of avatars, to import.
async fn train_elsewhere(State(sim): State<Arc<Sim>>, Json(body): Json<Elsewhere>) -> Response {
    let Some(key) = body.key.or_else(|| sim.only_key.clone()) else {
        let error = json!({ "error": "give the account's key" });
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    };
    let seed = super::draw::seed_of(&body.name);
    let input = json!({ "name": body.name, "image_url": "https://a2e.example/upload.png" });
    match sim.start(
        &key,
        super::state::Kind::Avatar,
        input,
        vec![seed],
        seed.rotate_left(29),
        0.0,
    ) {
        Ok(task) => Json(sim.record(&task)).into_response(),
        Err(()) => StatusCode::PAYMENT_REQUIRED.into_response(),
    }
}
