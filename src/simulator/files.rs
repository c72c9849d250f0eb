//! Media the simulator hands out: `/files/{kind}/{id}.{ext}`, drawn on first request, cached.

use super::state::{Kind, Sim};
use super::{draw, video};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// Files kept drawn at once (each a small PNG or a short WebM clip).
const MEDIA_CACHE_CAP: usize = 256;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/files/{kind}/{file}", get(file))
}

async fn file(State(sim): State<Arc<Sim>>, Path((kind, file)): Path<(String, String)>) -> Response {
    let cache_key = format!("{kind}/{file}");
    if let Some(bytes) = sim.media_cache.lock().unwrap().get(&cache_key).cloned() {
        return answer(&file, bytes);
    }
    let Some((id, ext)) = file.split_once('.') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let bytes = match (kind.as_str(), ext) {
        ("tts", "wav") => u64::from_str_radix(id, 16)
            .ok()
            .map(|seed| draw::speech_wav(seed, 1.5)),
        (_, "png") => task_of(&sim, &kind, id).map(|t| match t.kind {
            Kind::NanoBanana => draw::scene(&t.figure_seeds, t.scene_seed, true),
            _ => draw::portrait(t.figure_seeds[0], t.scene_seed),
        }),
        (_, "webm") => match task_of(&sim, &kind, id) {
            Some(t) => match video::webm(&t.figure_seeds, t.scene_seed).await {
                Ok(bytes) => Some(bytes),
                Err(err) => {
                    tracing::error!(%err, "simulator could not make a video");
                    return (StatusCode::SERVICE_UNAVAILABLE, err).into_response();
                }
            },
            None => None,
        },
        _ => None,
    };
    match bytes {
        Some(bytes) => {
            let bytes = bytes::Bytes::from(bytes);
            let mut cache = sim.media_cache.lock().unwrap();
            // Bounded: drawn files are cheap to draw again, memory is not.
            if cache.len() >= MEDIA_CACHE_CAP {
                cache.clear();
            }
            cache.insert(cache_key, bytes.clone());
            answer(&file, bytes)
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Finds a finished task by id across keys (media URLs are public, like A2E's).
fn task_of(sim: &Sim, kind: &str, id: &str) -> Option<super::state::Task> {
    let accounts = sim.accounts.lock().unwrap();
    let task = accounts.values().find_map(|a| a.tasks.get(id))?.clone();
    (task.kind.media_path() == kind && sim.status(&task) == "completed").then_some(task)
}

fn answer(file: &str, bytes: bytes::Bytes) -> Response {
    let mime = if file.ends_with(".wav") {
        "audio/wav"
    } else if file.ends_with(".webm") {
        "video/webm"
    } else {
        "image/png"
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=259200"),
        ],
        bytes,
    )
        .into_response()
}
