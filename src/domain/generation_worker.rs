//! The job that carries a generation through A2E: start the task, poll it, copy the results
//! home, then settle the charge — or refund it when A2E fails. One short step per run.

use super::credits;
use super::generations::{announce, charge_key, get};
use super::studio::Studio;
use crate::a2e::{self, Record, TaskStatus};
use crate::error::AppError;
use crate::jobs::{runner::backoff_ms, Job, JobHandler, Outcome};
use crate::models::{Generation, Reference};
use crate::store::generations as rows;
use serde_json::{json, Value};

/// What a step achieved.
enum Step {
    Waiting,
    Finished,
}

/// Why a step stopped: for good, or worth another try.
struct Stop {
    error: AppError,
    transient: bool,
}

impl From<AppError> for Stop {
    fn from(error: AppError) -> Self {
        let transient = matches!(error.status, 429 | 502 | 503 | 504);
        Self { error, transient }
    }
}

impl From<a2e::A2eError> for Stop {
    fn from(err: a2e::A2eError) -> Self {
        AppError::from(err).into()
    }
}

/// A start that failed is final even when "transient": it may have begun paid work, and the
/// user can retry. Polls that fail are retried.
fn final_stop(stop: Stop) -> Stop {
    Stop {
        transient: false,
        ..stop
    }
}

pub struct GenerationWorker(pub Studio);

#[async_trait::async_trait]
impl JobHandler for GenerationWorker {
    async fn run(&self, job: &Job) -> Outcome {
        let studio = &self.0;
        let (Some(user_id), Some(id)) = (&job.user_id, &job.subject_id) else {
            return Outcome::Failed {
                error: "generation job without its generation".into(),
            };
        };
        let mut g = match get(studio, user_id, id).await {
            Ok(g) if g.is_finished() => return Outcome::Done,
            Ok(g) => g,
            Err(err) if err.status == 404 => return Outcome::Done,
            Err(err) => {
                return Outcome::Retry {
                    after_ms: backoff_ms(job.attempts, 1_000, 60_000),
                    error: err.message,
                }
            }
        };
        let step = advance(studio, &mut g).await;
        match step {
            Ok(Step::Waiting) => {
                g.status = "running".into();
                save(studio, &g).await;
                Outcome::Again {
                    after_ms: studio.clock.poll_ms,
                }
            }
            Ok(Step::Finished) => {
                g.status = "completed".into();
                g.progress = 100;
                if save(studio, &g).await {
                    let _ = credits::settle(&studio.db, user_id, &charge_key(id)).await;
                }
                Outcome::Done
            }
            Err(stop) if stop.transient && job.attempts < 10 => {
                save(studio, &g).await;
                Outcome::Retry {
                    after_ms: backoff_ms(job.attempts, 1_000, 120_000),
                    error: stop.error.message,
                }
            }
            Err(stop) => {
                g.status = "failed".into();
                g.error = Some(stop.error.message);
                if save(studio, &g).await {
                    let _ = credits::refund(&studio.db, user_id, &charge_key(id)).await;
                }
                Outcome::Done
            }
        }
    }
}

/// Saves and tells the user's open pages; `false` when the generation was cancelled meanwhile.
async fn save(studio: &Studio, g: &Generation) -> bool {
    let saved = rows::save_progress(&studio.db.pool, g)
        .await
        .unwrap_or(false);
    if saved {
        announce(studio, g);
    }
    saved
}

async fn advance(studio: &Studio, g: &mut Generation) -> Result<Step, Stop> {
    if g.kind == "fight_sequence" {
        return advance_fight(studio, g).await;
    }
    let Some(task) = g.work["task_id"].as_str().map(String::from) else {
        let (task, api) = start_single(studio, g).await.map_err(final_stop)?;
        g.work["task_id"] = json!(task);
        g.work["api"] = json!(api);
        g.progress = 5;
        return Ok(Step::Waiting);
    };
    let api = g.work["api"].as_str().unwrap_or_default().to_string();
    let (status, urls) = poll(studio, &api, &task).await?;
    match status {
        TaskStatus::Completed => {
            g.result_urls = keep_all(studio, &urls).await?;
            Ok(Step::Finished)
        }
        TaskStatus::Failed => Err(Stop {
            error: AppError::new(
                422,
                "a2e_generation_failed",
                urls.first()
                    .cloned()
                    .unwrap_or_else(|| "A2E could not make it.".into()),
            ),
            transient: false,
        }),
        other => {
            g.progress = progress_of(&other, g.progress);
            Ok(Step::Waiting)
        }
    }
}

fn progress_of(status: &TaskStatus, previous: i64) -> i64 {
    let floor = match status {
        TaskStatus::Initialized => 5,
        TaskStatus::Sent => 10,
        TaskStatus::Pending => 20,
        _ => 30,
    };
    floor.max((previous + 8).min(90))
}

fn subject(g: &Generation) -> Reference {
    g.references.first().cloned().unwrap_or_default()
}

fn input(g: &Generation, key: &str) -> String {
    g.inputs[key].as_str().unwrap_or_default().to_string()
}

/// Image URL of a reference: avatars are still shown by their character's image where an API
/// needs one (image-to-video), alongside the avatar id.
async fn image_of(studio: &Studio, g: &Generation, r: &Reference) -> Result<String, Stop> {
    if let Some(url) = &r.image_url {
        return Ok(url.clone());
    }
    let id = r.character_id.as_deref().unwrap_or_default();
    let c = super::characters::get(studio, &g.user_id, id)
        .await
        .map_err(final_stop_app)?;
    c.image_url.ok_or_else(|| {
        final_stop_app(AppError::conflict(
            "no_image",
            format!("{} has no image.", r.name),
        ))
    })
}

fn final_stop_app(error: AppError) -> Stop {
    Stop {
        error,
        transient: false,
    }
}

/// Starts the one A2E task of a single-step generation; returns its id and which API it is.
async fn start_single(studio: &Studio, g: &Generation) -> Result<(String, &'static str), Stop> {
    let who = subject(g);
    let a2e = &studio.a2e;
    let record: Record = match g.kind.as_str() {
        "scene" => {
            let request = scene_request(
                g,
                &g.references,
                &input(g, "prompt"),
                g.inputs["sketch_url"].as_str(),
            );
            return Ok((a2e.nano_banana_start(&request).await?.id, "scene"));
        }
        "motion_transfer" => {
            let request = a2e::MotionTransferRequest {
                image_url: who.image_url.clone(),
                user_video_twin_id: who.avatar_id.clone(),
                video_url: input(g, "video_url"),
                positive_prompt: input(g, "prompt"),
                negative_prompt: String::new(),
            };
            a2e.motion_transfer_start(&request).await?
        }
        "image_to_video" => {
            let request = a2e::Image2VideoRequest {
                name: who.name.clone(),
                image_url: image_of(studio, g, &who).await?,
                user_video_twin_id: who.avatar_id.clone(),
                prompt: input(g, "prompt"),
                model_type: "GENERAL".into(),
                video_time: g.inputs["duration"].as_u64().unwrap_or(5) as u32,
                ..Default::default()
            };
            return Ok((a2e.image_to_video_start(&request).await?.id, "i2v"));
        }
        _ => return start_lipsync(studio, g, &who).await,
    };
    Ok((record.id, "motion"))
}

async fn start_lipsync(
    studio: &Studio,
    g: &Generation,
    who: &Reference,
) -> Result<(String, &'static str), Stop> {
    let a2e = &studio.a2e;
    let audio = match g.inputs["audio_url"].as_str() {
        Some(url) => url.to_string(),
        None => {
            a2e.text_to_speech(&a2e::TtsRequest {
                msg: input(g, "text"),
                tts_id: "en-US-female-1".into(),
            })
            .await?
        }
    };
    match &who.avatar_id {
        // A trained avatar speaks through its anchor: A2E's avatar lipsync.
        Some(avatar) => {
            let anchor = a2e
                .anchors(avatar)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    final_stop_app(AppError::conflict(
                        "no_anchor",
                        format!("{}'s avatar has no anchor at A2E yet.", who.name),
                    ))
                })?;
            let request = a2e::LipsyncRequest {
                title: who.name.clone(),
                anchor_id: anchor.id,
                anchor_type: 0,
                audio_src: audio,
            };
            Ok((a2e.lipsync_start(&request).await?.id, "avatar_lipsync"))
        }
        None => {
            let request = a2e::TalkingPhotoRequest {
                name: who.name.clone(),
                image_url: image_of(studio, g, who).await?,
                audio_url: audio,
                prompt: String::new(),
                duration: 10,
            };
            Ok((a2e.talking_photo_start(&request).await?.id, "talking_photo"))
        }
    }
}

fn scene_request(
    g: &Generation,
    refs: &[Reference],
    prompt: &str,
    extra_image: Option<&str>,
) -> a2e::NanoBananaRequest {
    let mut input_images: Vec<String> = refs.iter().filter_map(|r| r.image_url.clone()).collect();
    input_images.extend(extra_image.map(String::from));
    let names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
    let prompt = if names.is_empty() {
        prompt.to_string()
    } else {
        format!("{prompt}. Characters: {}.", names.join(", "))
    };
    a2e::NanoBananaRequest {
        name: format!("scene-{}", &g.id[..8]),
        prompt,
        input_images,
        user_video_twin_ids: refs.iter().filter_map(|r| r.avatar_id.clone()).collect(),
        model: "nano-banana-pro".into(),
        aspect_ratio: g.inputs["aspect_ratio"].as_str().map(String::from),
        image_size: None,
    }
}

/// Status of a task and, when done, its result URLs (or, when failed, its reason first).
async fn poll(studio: &Studio, api: &str, task: &str) -> Result<(TaskStatus, Vec<String>), Stop> {
    let a2e = &studio.a2e;
    let record = match api {
        "scene" => a2e.nano_banana_status(task).await?,
        "motion" => a2e.motion_transfer_status(task).await?,
        "i2v" => a2e.image_to_video_status(task).await?,
        "talking_photo" => a2e.talking_photo_status(task).await?,
        _ => {
            let r = a2e.lipsync_status(task).await?;
            let urls = match r.status {
                TaskStatus::Failed => r.failed_message.into_iter().collect(),
                _ => r.result.into_iter().collect(),
            };
            return Ok((r.status, urls));
        }
    };
    let urls = match record.current_status {
        TaskStatus::Failed => record.failed_message.into_iter().collect(),
        _ if !record.image_urls.is_empty() => record.image_urls,
        _ => record.result_url.into_iter().collect(),
    };
    Ok((record.current_status, urls))
}

async fn keep_all(studio: &Studio, urls: &[String]) -> Result<Vec<String>, Stop> {
    if urls.is_empty() {
        return Err(final_stop_app(AppError::new(
            502,
            "a2e_malformed",
            "A2E finished but sent no result.",
        )));
    }
    let mut kept = Vec::with_capacity(urls.len());
    for url in urls {
        kept.push(
            studio
                .media
                .copy_from_url(&studio.http, url)
                .await
                .map_err(AppError::from)?
                .url,
        );
    }
    Ok(kept)
}

/// One move of a fight: a scene with the same avatars (continuing from the previous move's
/// scene), then a clip animated from it.
async fn advance_fight(studio: &Studio, g: &mut Generation) -> Result<Step, Stop> {
    let steps = g.work["steps"].as_array().cloned().unwrap_or_default();
    let Some(index) = steps.iter().position(|s| s["video_url"].is_null()) else {
        g.result_urls = steps
            .iter()
            .filter_map(|s| s["video_url"].as_str().map(String::from))
            .collect();
        return Ok(Step::Finished);
    };
    let step = steps[index].clone();
    let previous_scene = index
        .checked_sub(1)
        .and_then(|i| steps[i]["scene_url"].as_str().map(String::from));
    let a2e = &studio.a2e;
    let setting = input(g, "setting");
    let mut updated = step.clone();
    if step["scene_task"].is_null() {
        let prompt = format!(
            "Fight scene, move {}: {}. {setting}",
            index + 1,
            step["move"].as_str().unwrap_or_default()
        );
        let request = scene_request(g, &g.references, &prompt, previous_scene.as_deref());
        updated["scene_task"] = json!(
            a2e.nano_banana_start(&request)
                .await
                .map_err(|e| final_stop(e.into()))?
                .id
        );
    } else if step["scene_url"].is_null() {
        if let Some(url) = poll_move(studio, "scene", &step["scene_task"], index).await? {
            updated["scene_url"] = json!(url);
        }
    } else if step["video_task"].is_null() {
        let request = a2e::Image2VideoRequest {
            name: format!("fight-{}-{}", &g.id[..8], index + 1),
            image_url: step["scene_url"].as_str().unwrap_or_default().to_string(),
            user_video_twin_id: g.references.iter().find_map(|r| r.avatar_id.clone()),
            prompt: step["move"].as_str().unwrap_or_default().to_string(),
            model_type: "GENERAL".into(),
            video_time: 5,
            ..Default::default()
        };
        updated["video_task"] = json!(
            a2e.image_to_video_start(&request)
                .await
                .map_err(|e| final_stop(e.into()))?
                .id
        );
    } else if let Some(url) = poll_move(studio, "i2v", &step["video_task"], index).await? {
        updated["video_url"] = json!(url);
    }
    let done_parts: usize = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = if i == index { &updated } else { s };
            ["scene_task", "scene_url", "video_task", "video_url"]
                .iter()
                .filter(|k| !s[**k].is_null())
                .count()
        })
        .sum();
    g.progress = (done_parts * 100 / (steps.len() * 4).max(1)).min(99) as i64;
    g.work["steps"][index] = updated;
    g.work["current_step"] = Value::from(index + 1);
    Ok(Step::Waiting)
}

/// Polls one task of a fight move: its result, kept in our store, once done.
async fn poll_move(
    studio: &Studio,
    api: &str,
    task: &Value,
    index: usize,
) -> Result<Option<String>, Stop> {
    let (status, urls) = poll(studio, api, task.as_str().unwrap_or_default()).await?;
    match status {
        TaskStatus::Completed => Ok(keep_all(studio, &urls).await?.into_iter().next()),
        TaskStatus::Failed => {
            let reason = urls.first().cloned().unwrap_or_default();
            Err(final_stop_app(AppError::new(
                422,
                "a2e_generation_failed",
                format!("Move {}: {reason}", index + 1),
            )))
        }
        _ => Ok(None),
    }
}
