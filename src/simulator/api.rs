//! The `/api/v1/…` calls, answered in A2E's envelope and error shapes.
// Handlers here refuse with ready A2E error responses; boxing them would only add noise.
#![allow(clippy::result_large_err)]

use super::draw::seed_of;
use super::state::{Kind, Sim, Task};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The caller's API key (set by the auth layer).
#[derive(Clone)]
pub struct ApiKey(pub String);

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/user/remainingCoins", get(balance))
        // A2E's catalog spells it `userText2Image`; the lower-case form is accepted too.
        .route("/api/v1/userText2Image/start", post(text_to_image))
        .route("/api/v1/userText2Image/{id}", status_of(Kind::Text2Image))
        .route("/api/v1/userText2image/start", post(text_to_image))
        .route("/api/v1/userText2image/{id}", status_of(Kind::Text2Image))
        .route("/api/v1/userVideoTwin/startTraining", post(start_training))
        .route(
            "/api/v1/userVideoTwin/continueTraining",
            post(continue_training),
        )
        .route(
            "/api/v1/userVideoTwin/continueTranining",
            post(continue_training),
        )
        .route("/api/v1/userVideoTwin/remove", post(remove_avatar))
        .route("/api/v1/userVideoTwin/records", get(list_avatars))
        .route("/api/v1/userVideoTwin/{id}", status_of(Kind::Avatar))
        .route("/api/v1/anchor/character_list", get(anchors))
        .route("/api/v1/userNanoBanana/start", post(nano_banana))
        .route(
            "/api/v1/userNanoBanana/detail/{id}",
            status_of(Kind::NanoBanana),
        )
        .route("/api/v1/motionTransfer/start", post(motion_transfer))
        .route("/api/v1/motionTransfer/{id}", status_of(Kind::Motion))
        .route("/api/v1/userImage2Video/start", post(image_to_video))
        .route("/api/v1/userImage2Video/{id}", status_of(Kind::Image2Video))
        .route("/api/v1/talkingPhoto/start", post(talking_photo))
        .route("/api/v1/talkingPhoto/{id}", status_of(Kind::TalkingPhoto))
        .route("/api/v1/video/generate", post(lipsync))
        .route("/api/v1/video/awsResult", post(lipsync_result))
        .route("/api/v1/video/send_tts", post(tts))
        .route("/api/v1/anchor/voice_list", get(voice_list))
        .merge(record_lists())
}

/// `GET <family>/allRecords` (paged, newest first) and `POST <family>/batchDetail {ids}` for
/// every task family, answering records as the family's status route does.
fn record_lists() -> Router<Arc<Sim>> {
    let families = [
        ("userText2Image", Kind::Text2Image),
        ("userText2image", Kind::Text2Image),
        ("userVideoTwin", Kind::Avatar),
        ("userNanoBanana", Kind::NanoBanana),
        ("motionTransfer", Kind::Motion),
        ("userImage2Video", Kind::Image2Video),
        ("talkingPhoto", Kind::TalkingPhoto),
        ("video", Kind::Lipsync),
    ];
    families
        .into_iter()
        .fold(Router::new(), |router, (family, kind)| {
            router
                .route(
                    &format!("/api/v1/{family}/allRecords"),
                    get(
                        move |s: State<Arc<Sim>>,
                              k: Extension<ApiKey>,
                              q: Query<HashMap<String, String>>| {
                            all_records(s, k, q, kind)
                        },
                    ),
                )
                .route(
                    &format!("/api/v1/{family}/batchDetail"),
                    post(
                        move |s: State<Arc<Sim>>, k: Extension<ApiKey>, b: Json<Value>| {
                            batch_detail(s, k, b, kind)
                        },
                    ),
                )
        })
}

/// The status route of one kind of task.
fn status_of(kind: Kind) -> MethodRouter<Arc<Sim>> {
    get(move |s: State<Arc<Sim>>, k: Extension<ApiKey>, p: Path<String>| status(s, k, p, kind))
}

pub fn ok(data: Value) -> Response {
    Json(json!({ "code": 0, "data": data, "trace_id": super::state::new_object_id() }))
        .into_response()
}

pub fn fail(status: StatusCode, code: i64, msg: &str) -> Response {
    (
        status,
        Json(json!({ "code": code, "msg": msg, "data": null })),
    )
        .into_response()
}

fn bad(msg: &str) -> Response {
    fail(StatusCode::BAD_REQUEST, 400, msg)
}

fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// Input media must be public http(s) URLs without spaces.
fn checked_url(body: &Value, field: &str) -> Result<String, Response> {
    let url = text(body, field);
    if url.is_empty() {
        return Err(bad(&format!("{field} is required")));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(' ') {
        return Err(bad(&format!(
            "{field} must be a public http(s) URL without spaces"
        )));
    }
    Ok(url.to_string())
}

fn started(
    sim: &Sim,
    key: &str,
    kind: Kind,
    body: &Value,
    figures: Vec<u64>,
    scene: u64,
    coins: f64,
) -> Response {
    match sim.start(key, kind, body.clone(), figures, scene, coins) {
        Ok(task) => ok(sim.record(&task)),
        Err(()) => fail(StatusCode::PAYMENT_REQUIRED, 402, "Insufficient coins"),
    }
}

async fn balance(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
) -> Response {
    ok(json!({ "coins": sim.balance(&key), "diamonds": 100 }))
}

async fn status(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Path(id): Path<String>,
    kind: Kind,
) -> Response {
    match sim.find(&key, &id, kind) {
        Some(task) => ok(sim.record(&task)),
        None => fail(StatusCode::NOT_FOUND, 404, "record not found"),
    }
}

/// `pageNum` (from 1) and `pageSize` (1 to 100, default 10) of a list query.
fn paging(q: &HashMap<String, String>) -> (usize, usize) {
    let page = q
        .get("pageNum")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let size = q
        .get("pageSize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10usize)
        .clamp(1, 100);
    (page, size)
}

/// One page of `tasks` as `{list, total}`.
fn page_of(sim: &Sim, tasks: Vec<Task>, q: &HashMap<String, String>) -> Response {
    let (page, size) = paging(q);
    let total = tasks.len();
    let list: Vec<Value> = tasks
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|t| sim.status_record(t))
        .collect();
    ok(json!({ "list": list, "total": total }))
}

async fn all_records(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Query(q): Query<HashMap<String, String>>,
    kind: Kind,
) -> Response {
    page_of(&sim, sim.tasks_of(&key, kind), &q)
}

const BATCH_MAX: usize = 100;

async fn batch_detail(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
    kind: Kind,
) -> Response {
    let Some(ids) = body.get("ids").and_then(Value::as_array) else {
        return bad("ids must be a list of record ids");
    };
    if ids.len() > BATCH_MAX {
        return bad(&format!("at most {BATCH_MAX} ids at a time"));
    }
    // Ids this key does not own (or of another family) are left out, as unknown.
    let records: Vec<Value> = ids
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| sim.find(&key, id, kind))
        .inspect(|t| sim.count_named(&t.id))
        .map(|t| sim.status_record(&t))
        .collect();
    ok(json!(records))
}

async fn text_to_image(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let prompt = text(&body, "prompt");
    if prompt.trim().is_empty() {
        return bad("prompt is required");
    }
    let seed = seed_of(prompt);
    started(
        &sim,
        &key,
        Kind::Text2Image,
        &body,
        vec![seed],
        seed.rotate_left(17),
        1.0,
    )
}

async fn start_training(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    if text(&body, "name").is_empty() {
        return bad("name is required");
    }
    let source = match (
        body.get("image_url").is_some(),
        body.get("video_url").is_some(),
    ) {
        (true, false) => checked_url(&body, "image_url"),
        (false, true) => checked_url(&body, "video_url"),
        _ => Err(bad("give exactly one of image_url or video_url")),
    };
    let source = match source {
        Ok(url) => url,
        Err(res) => return res,
    };
    if !matches!(text(&body, "model_version"), "" | "V2.1" | "V1.0" | "V2.0") {
        return bad("model_version must be V2.1, V2.0 or V1.0");
    }
    // The avatar's look follows what it was trained from: the face in a picture drawn here,
    // else a look of its own.
    let seed = match body.get("image_url") {
        Some(_) => seed_in_picture(&source)
            .await
            .unwrap_or_else(|| seed_of(&source)),
        None => seed_of(&source),
    };
    started(
        &sim,
        &key,
        Kind::Avatar,
        &body,
        vec![seed],
        seed.rotate_left(29),
        0.0,
    )
}

/// Reads the figure seed of a picture drawn by this simulator (kept in the studio's own store).
async fn seed_in_picture(url: &str) -> Option<u64> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .ok()?;
    let bytes = client.get(url).send().await.ok()?.bytes().await.ok()?;
    super::draw::seed_in_png(&bytes)
}

fn id_of(body: &Value) -> String {
    text(body, "_id").to_string()
}

async fn continue_training(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let id = id_of(&body);
    let Some(task) = sim.find(&key, &id, Kind::Avatar) else {
        return fail(StatusCode::NOT_FOUND, 404, "record not found");
    };
    if sim.status(&task) != "completed" {
        return bad("only a completed avatar can continue training");
    }
    // Another 30 minutes (A2E time) from now, shown as `processing` until then.
    let speedup = sim.speedup;
    let updated = sim.update(&key, &id, |t: &mut Task| {
        t.duration_s = sim_elapsed(t, speedup) + CONTINUE_S;
        t.continued = true;
    });
    ok(updated.map(|t| sim.record(&t)).unwrap_or(Value::Null))
}

/// A2E seconds a continued training takes (about +30 min).
const CONTINUE_S: f64 = 1800.0;

fn sim_elapsed(task: &Task, speedup: f64) -> f64 {
    task.started.elapsed().as_secs_f64() * speedup
}

async fn remove_avatar(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    if sim.remove(&key, &id_of(&body)) {
        ok(Value::Null)
    } else {
        fail(StatusCode::NOT_FOUND, 404, "record not found")
    }
}

async fn list_avatars(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut avatars = sim.tasks_of(&key, Kind::Avatar);
    if let Some(status) = q.get("status").filter(|s| !s.is_empty()) {
        avatars.retain(|t| sim.status(t) == status);
    }
    page_of(&sim, avatars, &q)
}

async fn anchors(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let id = q.get("user_video_twin_id").cloned().unwrap_or_default();
    match sim.find(&key, &id, Kind::Avatar) {
        Some(task) if sim.status(&task) == "completed" => ok(json!([{
            "_id": format!("{}a", &task.id[..23]),
            "user_video_twin_id": task.id,
            "type": "custom",
            "video_cover": sim.media_url(&task, "png"),
            "base_video": sim.media_url(&task, "webm"),
        }])),
        Some(_) => ok(json!([])),
        None => fail(StatusCode::NOT_FOUND, 404, "record not found"),
    }
}

/// Seeds of the avatars a request names, in order; `Err` for an id this key does not own.
fn avatar_seeds(sim: &Sim, key: &str, ids: &[String]) -> Result<Vec<u64>, Response> {
    ids.iter()
        .map(|id| match sim.find(key, id, Kind::Avatar) {
            Some(t) if sim.status(&t) == "completed" => Ok(t.figure_seeds[0]),
            Some(_) => Err(bad(&format!("avatar {id} is not trained yet"))),
            None => Err(fail(
                StatusCode::NOT_FOUND,
                404,
                &format!("avatar {id} not found"),
            )),
        })
        .collect()
}

fn strings(body: &Value, field: &str) -> Vec<String> {
    body.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn nano_banana(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let prompt = text(&body, "prompt");
    if prompt.trim().is_empty() {
        return bad("prompt is required");
    }
    let mut figures = match avatar_seeds(&sim, &key, &strings(&body, "user_video_twin_ids")) {
        Ok(seeds) => seeds,
        Err(res) => return res,
    };
    figures.extend(
        strings(&body, "input_images")
            .iter()
            .map(|url| seed_of(url)),
    );
    started(
        &sim,
        &key,
        Kind::NanoBanana,
        &body,
        figures,
        seed_of(prompt),
        2.0,
    )
}

/// The look of whoever a video call animates: an avatar id or an image URL.
fn subject_seed(
    sim: &Sim,
    key: &str,
    body: &Value,
    avatar_field: &str,
    image_field: &str,
) -> Result<u64, Response> {
    let avatar = text(body, avatar_field);
    if !avatar.is_empty() {
        return avatar_seeds(sim, key, &[avatar.to_string()]).map(|s| s[0]);
    }
    checked_url(body, image_field).map(|url| seed_of(&url))
}

async fn motion_transfer(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let seed = match subject_seed(&sim, &key, &body, "user_video_twin_id", "image_url")
        .and_then(|s| checked_url(&body, "video_url").map(|_| s))
    {
        Ok(seed) => seed,
        Err(res) => return res,
    };
    started(
        &sim,
        &key,
        Kind::Motion,
        &body,
        vec![seed],
        seed_of(text(&body, "video_url")),
        5.0,
    )
}

async fn image_to_video(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let seed = match subject_seed(&sim, &key, &body, "user_video_twin_id", "image_url") {
        Ok(seed) => seed,
        Err(res) => return res,
    };
    let time = body.get("video_time").and_then(Value::as_u64).unwrap_or(5);
    if ![5, 10, 15, 20].contains(&time) {
        return bad("video_time must be 5, 10, 15 or 20");
    }
    started(
        &sim,
        &key,
        Kind::Image2Video,
        &body,
        vec![seed],
        seed_of(text(&body, "prompt")),
        time as f64,
    )
}

async fn talking_photo(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let seed = match checked_url(&body, "image_url")
        .and_then(|u| checked_url(&body, "audio_url").map(|_| seed_of(&u)))
    {
        Ok(seed) => seed,
        Err(res) => return res,
    };
    started(&sim, &key, Kind::TalkingPhoto, &body, vec![seed], seed, 3.0)
}

async fn lipsync(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let anchor = text(&body, "anchor_id");
    // Anchors are named after their avatar: the first 23 characters are the avatar's.
    let avatar: String = anchor.chars().take(23).collect();
    let owner = {
        let accounts = sim.accounts.lock().unwrap();
        accounts.get(&key).and_then(|a| {
            a.tasks
                .values()
                .find(|t| t.kind == Kind::Avatar && t.id.starts_with(&avatar) && anchor.len() == 24)
                .cloned()
        })
    };
    let Some(avatar) = owner else {
        return fail(StatusCode::NOT_FOUND, 404, "anchor not found");
    };
    if let Err(res) = checked_url(&body, "audioSrc") {
        return res;
    }
    started(
        &sim,
        &key,
        Kind::Lipsync,
        &body,
        avatar.figure_seeds.clone(),
        avatar.scene_seed,
        3.0,
    )
}

async fn lipsync_result(
    State(sim): State<Arc<Sim>>,
    Extension(ApiKey(key)): Extension<ApiKey>,
    Json(body): Json<Value>,
) -> Response {
    let Some(task) = sim.find(&key, &id_of(&body), Kind::Lipsync) else {
        return fail(StatusCode::NOT_FOUND, 404, "record not found");
    };
    ok(sim.lipsync_record(&task))
}

/// A language group: its value, its label, and its voices (`tts_id`, name).
type VoiceGroup = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// A few public voices, grouped by language as A2E lists them.
const VOICES: [VoiceGroup; 3] = [
    (
        "en-US",
        "English (US)",
        &[
            ("en-US-female-1", "Aria (female)"),
            ("en-US-male-1", "Brian (male)"),
        ],
    ),
    (
        "en-GB",
        "English (UK)",
        &[
            ("en-GB-female-1", "Lily (female)"),
            ("en-GB-male-1", "George (male)"),
        ],
    ),
    (
        "es-ES",
        "Spanish (Spain)",
        &[("es-ES-female-1", "Lucia (female)")],
    ),
];

async fn voice_list() -> Response {
    let groups: Vec<Value> = VOICES
        .iter()
        .map(|(value, label, voices)| {
            let children: Vec<Value> = voices
                .iter()
                .map(|(id, name)| json!({ "value": id, "label": name }))
                .collect();
            json!({ "value": value, "label": label, "children": children })
        })
        .collect();
    ok(json!(groups))
}

async fn tts(State(sim): State<Arc<Sim>>, Json(body): Json<Value>) -> Response {
    let msg = text(&body, "msg");
    if msg.trim().is_empty() {
        return bad("msg is required");
    }
    let voice = text(&body, "tts_id");
    let known = VOICES
        .iter()
        .any(|(_, _, voices)| voices.iter().any(|(id, _)| *id == voice));
    if !known {
        return bad("unknown tts_id");
    }
    ok(json!(format!(
        "{}/files/tts/{:016x}.wav",
        sim.public_base_url,
        seed_of(&format!("{voice}:{msg}"))
    )))
}
