//! The studio's side of A2E avatars: portraits, training start/continue/removal, and the job
//! that follows each training to its end. Every A2E call of the character flow goes through here.

use super::characters::announce;
use super::studio::Studio;
use crate::a2e::{self, A2eError, TaskStatus};
use crate::error::AppError;
use crate::jobs::{queue, runner::backoff_ms, Job, JobHandler, NewJob, Outcome};
use crate::models::{Character, AVATAR_COMPLETED, AVATAR_FAILED, AVATAR_TRAINING};
use crate::store::characters::{self as rows, AvatarState, NewCharacter};
use crate::store::media::{MediaKind, StoredMedia};
use crate::store::now_millis;

pub const TRAINING_JOB: &str = "avatar_training";
pub const REMOVAL_JOB: &str = "avatar_removal";

/// Typical A2E durations, in A2E seconds, for the estimates users see.
const IMAGE_TRAINING_S: i64 = 210;
const VIDEO_TRAINING_S: i64 = 450;
const CONTINUE_TRAINING_S: i64 = 1800;
const PORTRAIT_TIMEOUT_S: i64 = 180;

impl From<A2eError> for AppError {
    fn from(err: A2eError) -> Self {
        tracing::warn!(error = %err, "A2E call failed");
        AppError::new(err.http_status(), err.code(), err.user_message())
    }
}

/// What an avatar is trained from: a picture or a clip, by our public media URL.
pub enum TrainingSource {
    Image(String),
    Video(String),
}

impl TrainingSource {
    pub fn of(new: &NewCharacter) -> Self {
        match (&new.video_url, &new.image_url) {
            (Some(video), _) => Self::Video(video.clone()),
            (None, Some(image)) => Self::Image(image.clone()),
            (None, None) => Self::Image(String::new()),
        }
    }

    pub fn of_character(c: &Character) -> Result<Self, AppError> {
        match (&c.video_url, &c.image_url) {
            (Some(video), _) if c.training_kind == "video" => Ok(Self::Video(video.clone())),
            (_, Some(image)) => Ok(Self::Image(image.clone())),
            _ => Err(AppError::conflict(
                "no_source",
                "This character has no image or video to train from.",
            )),
        }
    }

    fn expected_seconds(&self) -> i64 {
        match self {
            Self::Image(_) => IMAGE_TRAINING_S,
            Self::Video(_) => VIDEO_TRAINING_S,
        }
    }
}

/// Generates a portrait at A2E and copies it into our media store.
pub async fn generate_portrait(
    studio: &Studio,
    name: &str,
    prompt: &str,
    outfit: &str,
) -> Result<StoredMedia, AppError> {
    let request = a2e::Text2ImageRequest {
        name: name.to_string(),
        prompt: portrait_prompt(prompt, outfit),
        req_key: "high_aes_general_v21_L".into(),
        width: 768,
        height: 1024,
    };
    let started = studio.a2e.text_to_image_start(&request).await?;
    let deadline = now_millis() + studio.clock.local_ms(PORTRAIT_TIMEOUT_S).max(5_000);
    let mut record = started;
    loop {
        match record.current_status {
            TaskStatus::Completed => break,
            TaskStatus::Failed => {
                let reason = record
                    .failed_message
                    .clone()
                    .unwrap_or_else(|| "A2E could not generate the portrait.".into());
                return Err(AppError::new(422, "a2e_generation_failed", reason));
            }
            _ if now_millis() > deadline => {
                return Err(AppError::new(
                    504,
                    "a2e_timeout",
                    "A2E took too long to draw the portrait. Please try again.",
                ))
            }
            _ => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            studio.clock.poll_ms.min(2_000) as u64,
        ))
        .await;
        record = studio.a2e.text_to_image_status(&record.id).await?;
    }
    let url = record.image_urls.first().ok_or_else(|| {
        AppError::new(
            502,
            "a2e_malformed",
            "A2E finished the portrait but sent no image.",
        )
    })?;
    Ok(studio.media.copy_from_url(&studio.http, url).await?)
}

/// A training image must show exactly one face, front on.
fn portrait_prompt(prompt: &str, outfit: &str) -> String {
    let outfit = if outfit.is_empty() {
        String::new()
    } else {
        format!(" Wearing {outfit}.")
    };
    format!("Portrait of one person, facing the camera, plain background. {prompt}.{outfit}")
}

/// Keeps a reference image given by URL or data URL, checked like an upload.
pub async fn keep_reference_image(
    studio: &Studio,
    reference: &str,
) -> Result<StoredMedia, AppError> {
    let reference = reference.trim();
    let media = if let Some(data) = reference.strip_prefix("data:") {
        let bytes = decode_data_url(data)?;
        studio
            .media
            .put_upload(bytes.into(), MediaKind::Image)
            .await?
    } else if reference.starts_with("http://") || reference.starts_with("https://") {
        studio.media.copy_from_url(&studio.http, reference).await?
    } else {
        return Err(AppError::bad_request(
            "invalid_reference_image",
            "referenceImage must be an http(s) URL or a data: URL.",
        ));
    };
    if !media.content_type.starts_with("image/") {
        return Err(AppError::new(
            415,
            "unsupported_media_type",
            "referenceImage must be a PNG, JPEG or WebP image.",
        ));
    }
    Ok(media)
}

fn decode_data_url(data: &str) -> Result<Vec<u8>, AppError> {
    use base64::Engine;
    let bad = || {
        AppError::bad_request(
            "invalid_reference_image",
            "The data URL is not base64 image data.",
        )
    };
    let (meta, payload) = data.split_once(',').ok_or_else(bad)?;
    if !meta.ends_with(";base64") {
        return Err(bad());
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|_| bad())
}

/// Asks A2E to train an avatar; the state to record when it accepted.
pub async fn start_training(
    studio: &Studio,
    source: &TrainingSource,
    name: &str,
    prompt: &str,
    gender: Option<&str>,
    model_version: &str,
) -> Result<AvatarState, AppError> {
    let (image_url, video_url) = match source {
        TrainingSource::Image(url) => (Some(url.clone()), None),
        TrainingSource::Video(url) => (None, Some(url.clone())),
    };
    let request = a2e::TrainingRequest {
        name: name.to_string(),
        image_url,
        video_url,
        gender: gender.unwrap_or("female").to_string(),
        model_version: model_version.to_string(),
        prompt: prompt.chars().take(500).collect(),
        ..Default::default()
    };
    let record = studio.a2e.start_training(&request).await?;
    Ok(training_state(
        studio,
        Some(record.id),
        source.expected_seconds(),
    ))
}

/// Asks A2E to continue a trained avatar's training.
pub async fn continue_training(studio: &Studio, avatar_id: &str) -> Result<AvatarState, AppError> {
    studio.a2e.continue_training(avatar_id).await?;
    Ok(training_state(
        studio,
        Some(avatar_id.to_string()),
        CONTINUE_TRAINING_S,
    ))
}

fn training_state(studio: &Studio, avatar_id: Option<String>, expected_s: i64) -> AvatarState {
    let now = now_millis();
    AvatarState {
        avatar_id,
        status: AVATAR_TRAINING.into(),
        error: None,
        progress: Some(0),
        started_at: Some(now),
        eta_at: Some(now + studio.clock.local_ms(expected_s)),
        preview_url: None,
    }
}

/// Makes sure a job follows the character's training (one per character).
pub async fn track(studio: &Studio, user_id: &str, character_id: &str) -> Result<(), AppError> {
    queue::enqueue(
        &studio.db,
        NewJob {
            kind: TRAINING_JOB,
            user_id: Some(user_id.to_string()),
            subject_id: Some(character_id.to_string()),
            payload: serde_json::json!({ "character_id": character_id }),
            delay_ms: studio.clock.poll_ms,
            dedupe_key: Some(format!("training:{character_id}")),
        },
    )
    .await?;
    Ok(())
}

/// Removes an avatar at A2E in the background, retrying through outages.
pub async fn schedule_removal(
    studio: &Studio,
    user_id: &str,
    avatar_id: &str,
) -> Result<(), AppError> {
    queue::enqueue(
        &studio.db,
        NewJob {
            kind: REMOVAL_JOB,
            user_id: Some(user_id.to_string()),
            subject_id: None,
            payload: serde_json::json!({ "avatar_id": avatar_id }),
            delay_ms: 0,
            dedupe_key: Some(format!("removal:{avatar_id}")),
        },
    )
    .await?;
    studio.jobs.nudge();
    Ok(())
}

/// Reads the training's state at A2E and records any change. Returns the character as now stored.
pub async fn refresh(studio: &Studio, character: &Character) -> Result<Character, AppError> {
    let Some(avatar_id) = &character.avatar_id else {
        return Ok(character.clone());
    };
    if character.avatar_status != AVATAR_TRAINING {
        return Ok(character.clone());
    }
    let record = studio.a2e.training_status(avatar_id).await?;
    let state = match record.current_status {
        TaskStatus::Completed => AvatarState {
            status: AVATAR_COMPLETED.into(),
            progress: Some(100),
            preview_url: keep_preview(studio, &record).await,
            ..Default::default()
        },
        TaskStatus::Failed => AvatarState {
            status: AVATAR_FAILED.into(),
            error: Some(
                record
                    .failed_message
                    .clone()
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "A2E stopped the training without a reason.".into()),
            ),
            ..Default::default()
        },
        _ => AvatarState {
            status: AVATAR_TRAINING.into(),
            progress: Some(estimated_progress(character)),
            eta_at: character.eta_seconds.map(|s| now_millis() + s * 1000),
            ..Default::default()
        },
    };
    let changed =
        state.status != character.avatar_status || state.progress != character.avatar_progress;
    if changed {
        let eta_at = if state.status == AVATAR_TRAINING {
            state.eta_at
        } else {
            None
        };
        rows::set_avatar_state(
            &studio.db.pool,
            &character.id,
            &AvatarState { eta_at, ..state },
            None,
        )
        .await?;
    }
    let now = super::characters::get(studio, &character.user_id, &character.id).await?;
    if changed {
        announce(studio, &now);
    }
    Ok(now)
}

/// A2E's preview URLs expire: keep a copy. A preview is a nicety, so failing to copy is no error.
async fn keep_preview(studio: &Studio, record: &a2e::Record) -> Option<String> {
    let url = record
        .preview_result_url
        .as_ref()
        .or(record.cover_url.as_ref())?;
    match studio.media.copy_from_url(&studio.http, url).await {
        Ok(media) => Some(media.url),
        Err(err) => {
            tracing::warn!(error = %err, "could not keep the avatar preview");
            None
        }
    }
}

/// Elapsed share of the expected training time, held below 100 until A2E says it is done.
fn estimated_progress(c: &Character) -> i64 {
    let floor = c.avatar_progress.unwrap_or(0);
    let (Some(started), Some(eta_s)) = (c.training_started_at, c.eta_seconds) else {
        return floor;
    };
    let elapsed = (now_millis() - started).max(0) as f64 / 1000.0;
    let total = elapsed + eta_s as f64;
    let share = if total > 0.0 {
        100.0 * elapsed / total
    } else {
        95.0
    };
    (share as i64).clamp(floor.min(95), 95)
}

/// Follows one character's training until A2E says it ended.
pub struct TrainingTracker(pub Studio);

#[async_trait::async_trait]
impl JobHandler for TrainingTracker {
    async fn run(&self, job: &Job) -> Outcome {
        let studio = &self.0;
        let (Some(user_id), Some(character_id)) = (&job.user_id, &job.subject_id) else {
            return Outcome::Failed {
                error: "training job without its character".into(),
            };
        };
        let character = match super::characters::get(studio, user_id, character_id).await {
            Ok(c) => c,
            Err(err) if err.status == 404 => return Outcome::Done,
            Err(err) => return retry(job, err.message, 1_000),
        };
        match refresh(studio, &character).await {
            Ok(now) if now.avatar_status == AVATAR_TRAINING => Outcome::Again {
                after_ms: studio.clock.poll_ms,
            },
            Ok(_) => Outcome::Done,
            Err(err) if err.status == 404 => {
                let state = AvatarState {
                    status: AVATAR_FAILED.into(),
                    error: Some("A2E no longer knows this avatar.".into()),
                    ..Default::default()
                };
                let _ = rows::set_avatar_state(&studio.db.pool, character_id, &state, None).await;
                if let Ok(c) = super::characters::get(studio, user_id, character_id).await {
                    announce(studio, &c);
                }
                Outcome::Done
            }
            Err(err) if err.status == 429 => Outcome::Retry {
                after_ms: 5_000,
                error: err.message,
            },
            Err(err) => retry(job, err.message, studio.clock.poll_ms.max(1_000)),
        }
    }
}

fn retry(job: &Job, error: String, base_ms: i64) -> Outcome {
    Outcome::Retry {
        after_ms: backoff_ms(job.attempts, base_ms, 300_000),
        error,
    }
}

/// Removes a deleted character's avatar at A2E.
pub struct AvatarRemover(pub Studio);

#[async_trait::async_trait]
impl JobHandler for AvatarRemover {
    async fn run(&self, job: &Job) -> Outcome {
        let Some(avatar_id) = job.payload["avatar_id"].as_str() else {
            return Outcome::Failed {
                error: "removal job without an avatar id".into(),
            };
        };
        match self.0.a2e.remove_avatar(avatar_id).await {
            Ok(()) => Outcome::Done,
            Err(err) if err.http_status() == 404 => Outcome::Done,
            Err(err) if job.attempts >= 20 => Outcome::Failed {
                error: err.to_string(),
            },
            Err(err) => retry(job, err.to_string(), 2_000),
        }
    }
}
