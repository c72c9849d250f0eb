//! Generations with characters: scenes, motion transfer, image-to-video, lipsync and fight
//! sequences. A character with a trained avatar is always sent by its avatar id; otherwise by
//! its image. Each generation is charged on submit, settled on success, refunded otherwise.

use super::characters;
use super::credits;
use super::studio::Studio;
use crate::error::AppError;
use crate::jobs::{queue, NewJob};
use crate::models::{Character, Generation, Reference};
use crate::store::generations as rows;
use crate::store::media::MediaKind;
use crate::store::{self, now_millis};
use serde::Deserialize;
use serde_json::{json, Value};

pub const GENERATION_JOB: &str = "generation";
const MAX_PROMPT: usize = 2000;
const MAX_REFS: usize = 6;
const MAX_MOVES: usize = 10;
const MAX_SPEECH: usize = 1000;

/// A character reference as sent in: a full character row, `{id}`, `{avatar_id}` or `{image_url, name}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RefInput {
    #[serde(alias = "characterId")]
    pub id: Option<String>,
    #[serde(alias = "avatarId")]
    pub avatar_id: Option<String>,
    #[serde(alias = "imageUrl")]
    pub image_url: Option<String>,
    pub name: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn check_url(url: &str, field: &str) -> Result<String, AppError> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
        || url.len() > 2000
    {
        return Err(AppError::bad_request(
            "invalid_url",
            format!("{field} must be an http(s) URL without spaces."),
        ));
    }
    Ok(url.to_string())
}

fn of_character(c: &Character) -> Reference {
    let trained = c.is_trained();
    Reference {
        name: c.name.clone(),
        via: if trained { "avatar" } else { "image" }.into(),
        character_id: Some(c.id.clone()),
        avatar_id: if trained { c.avatar_id.clone() } else { None },
        image_url: if trained { None } else { c.image_url.clone() },
    }
}

/// Resolves one reference; ids that are not the caller's answer 404.
pub async fn resolve(studio: &Studio, user_id: &str, r: &RefInput) -> Result<Reference, AppError> {
    if let Some(id) = non_empty(&r.id) {
        return Ok(of_character(&characters::get(studio, user_id, id).await?));
    }
    if let Some(avatar) = non_empty(&r.avatar_id) {
        return Ok(of_character(
            &characters::get_by_avatar(studio, user_id, avatar).await?,
        ));
    }
    if let Some(url) = non_empty(&r.image_url) {
        let name = non_empty(&r.name)
            .unwrap_or("Reference")
            .chars()
            .take(100)
            .collect();
        return Ok(Reference {
            name,
            via: "image".into(),
            image_url: Some(check_url(url, "image_url")?),
            ..Default::default()
        });
    }
    Err(AppError::bad_request(
        "invalid_reference",
        "Each reference needs an id, an avatar_id or an image_url.",
    ))
}

async fn resolve_all(
    studio: &Studio,
    user_id: &str,
    refs: &[RefInput],
    required: bool,
) -> Result<Vec<Reference>, AppError> {
    if refs.len() > MAX_REFS {
        return Err(AppError::bad_request(
            "too_many_references",
            format!("Use at most {MAX_REFS} characters at once."),
        ));
    }
    if required && refs.is_empty() {
        return Err(AppError::bad_request(
            "missing_references",
            "Pick at least one character.",
        ));
    }
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        out.push(resolve(studio, user_id, r).await?);
    }
    Ok(out)
}

/// The one subject of a video call: an image URL, an avatar id or a character id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SubjectInput {
    #[serde(alias = "imageUrl", alias = "image_url")]
    pub image: Option<String>,
    #[serde(alias = "avatarId")]
    pub avatar_id: Option<String>,
    #[serde(alias = "characterId")]
    pub character_id: Option<String>,
}

async fn resolve_subject(
    studio: &Studio,
    user_id: &str,
    s: &SubjectInput,
) -> Result<Reference, AppError> {
    let r = RefInput {
        id: s.character_id.clone(),
        avatar_id: s.avatar_id.clone(),
        image_url: s.image.clone(),
        name: None,
    };
    if non_empty(&r.id).is_none()
        && non_empty(&r.avatar_id).is_none()
        && non_empty(&r.image_url).is_none()
    {
        return Err(AppError::bad_request(
            "missing_subject",
            "Give image, avatarId or characterId.",
        ));
    }
    resolve(studio, user_id, &r).await
}

fn check_prompt(prompt: &str, required: bool) -> Result<String, AppError> {
    let prompt = prompt.trim();
    if required && prompt.is_empty() {
        return Err(AppError::bad_request("missing_prompt", "Write a prompt."));
    }
    if prompt.chars().count() > MAX_PROMPT {
        return Err(AppError::bad_request(
            "invalid_field",
            format!("The prompt is too long (at most {MAX_PROMPT} characters)."),
        ));
    }
    Ok(prompt.to_string())
}

const ASPECT_RATIOS: [&str; 5] = ["1:1", "16:9", "9:16", "4:3", "3:4"];

fn check_aspect(aspect: Option<&str>) -> Result<String, AppError> {
    match aspect.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok("16:9".into()),
        Some(a) if ASPECT_RATIOS.contains(&a) => Ok(a.into()),
        Some(a) => Err(AppError::bad_request(
            "invalid_aspect_ratio",
            format!(
                "Unknown aspect ratio {a:?}: use one of {}.",
                ASPECT_RATIOS.join(", ")
            ),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SceneInput {
    pub prompt: String,
    #[serde(alias = "characterRefs")]
    pub character_refs: Vec<RefInput>,
    /// A composition guide: a data URL or one of our media URLs.
    pub sketch: Option<String>,
    #[serde(alias = "aspectRatio")]
    pub aspect_ratio: Option<String>,
}

pub async fn create_scene(
    studio: &Studio,
    user_id: &str,
    input: SceneInput,
) -> Result<Generation, AppError> {
    let prompt = check_prompt(&input.prompt, true)?;
    let aspect = check_aspect(input.aspect_ratio.as_deref())?;
    let refs = resolve_all(studio, user_id, &input.character_refs, false).await?;
    let sketch = match non_empty(&input.sketch) {
        Some(sketch) => Some(keep_sketch(studio, sketch).await?),
        None => None,
    };
    let inputs = json!({ "prompt": prompt, "aspect_ratio": aspect, "sketch_url": sketch });
    submit(
        studio,
        user_id,
        "scene",
        studio.prices.scene,
        inputs,
        refs,
        json!({}),
    )
    .await
}

async fn keep_sketch(studio: &Studio, sketch: &str) -> Result<String, AppError> {
    if studio.media.key_from_url(sketch).is_some() {
        return Ok(sketch.to_string());
    }
    let Some(data) = sketch
        .strip_prefix("data:image/png;base64,")
        .or_else(|| sketch.strip_prefix("data:image/jpeg;base64,"))
    else {
        return Err(AppError::bad_request(
            "invalid_sketch",
            "The sketch must be a PNG or JPEG data URL, or an uploaded image.",
        ));
    };
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| {
            AppError::bad_request(
                "invalid_sketch",
                "The sketch is not valid base64 image data.",
            )
        })?;
    Ok(studio
        .media
        .put_upload(bytes.into(), MediaKind::Image)
        .await?
        .url)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MotionInput {
    #[serde(flatten)]
    pub subject: SubjectInput,
    #[serde(alias = "videoUrl")]
    pub video_url: String,
    pub prompt: String,
}

pub async fn create_motion_transfer(
    studio: &Studio,
    user_id: &str,
    input: MotionInput,
) -> Result<Generation, AppError> {
    let prompt = check_prompt(&input.prompt, false)?;
    if input.video_url.trim().is_empty() {
        return Err(AppError::bad_request(
            "missing_video",
            "Give videoUrl: the video whose motion is copied.",
        ));
    }
    let video = check_url(&input.video_url, "videoUrl")?;
    let subject = resolve_subject(studio, user_id, &input.subject).await?;
    let inputs = json!({ "prompt": prompt, "video_url": video });
    submit(
        studio,
        user_id,
        "motion_transfer",
        studio.prices.motion_transfer,
        inputs,
        vec![subject],
        json!({}),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VideoInput {
    #[serde(flatten)]
    pub subject: SubjectInput,
    pub prompt: String,
    pub duration: Option<u32>,
}

pub async fn create_image_to_video(
    studio: &Studio,
    user_id: &str,
    input: VideoInput,
) -> Result<Generation, AppError> {
    let prompt = check_prompt(&input.prompt, true)?;
    let duration = input.duration.unwrap_or(5);
    if ![5, 10, 15, 20].contains(&duration) {
        return Err(AppError::bad_request(
            "invalid_duration",
            "duration is 5, 10, 15 or 20 seconds.",
        ));
    }
    let subject = resolve_subject(studio, user_id, &input.subject).await?;
    let inputs = json!({ "prompt": prompt, "duration": duration });
    submit(
        studio,
        user_id,
        "image_to_video",
        studio.prices.image_to_video,
        inputs,
        vec![subject],
        json!({}),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LipsyncInput {
    #[serde(flatten)]
    pub subject: SubjectInput,
    #[serde(alias = "audioUrl")]
    pub audio_url: Option<String>,
    pub text: Option<String>,
}

pub async fn create_lipsync(
    studio: &Studio,
    user_id: &str,
    input: LipsyncInput,
) -> Result<Generation, AppError> {
    let audio = non_empty(&input.audio_url)
        .map(|a| check_url(a, "audioUrl"))
        .transpose()?;
    let text = non_empty(&input.text).map(String::from);
    match (&audio, &text) {
        (None, None) => {
            return Err(AppError::bad_request(
                "missing_speech",
                "Give audioUrl or text to speak.",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AppError::bad_request(
                "ambiguous_speech",
                "Give either audioUrl or text, not both.",
            ))
        }
        (_, Some(t)) if t.chars().count() > MAX_SPEECH => {
            return Err(AppError::bad_request(
                "invalid_field",
                format!("The text is too long (at most {MAX_SPEECH} characters)."),
            ))
        }
        _ => {}
    }
    let subject = resolve_subject(studio, user_id, &input.subject).await?;
    let inputs = json!({ "audio_url": audio, "text": text });
    submit(
        studio,
        user_id,
        "lipsync",
        studio.prices.lipsync,
        inputs,
        vec![subject],
        json!({}),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FightInput {
    #[serde(alias = "characterRefs")]
    pub character_refs: Vec<RefInput>,
    pub moves: Vec<String>,
    #[serde(alias = "aspectRatio")]
    pub aspect_ratio: Option<String>,
    pub setting: Option<String>,
}

pub async fn create_fight_sequence(
    studio: &Studio,
    user_id: &str,
    input: FightInput,
) -> Result<Generation, AppError> {
    let refs = resolve_all(studio, user_id, &input.character_refs, true).await?;
    let moves: Vec<String> = input
        .moves
        .iter()
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if moves.is_empty() || moves.len() > MAX_MOVES || moves.len() != input.moves.len() {
        return Err(AppError::bad_request(
            "invalid_moves",
            format!("Give 1 to {MAX_MOVES} moves, none of them empty."),
        ));
    }
    for m in &moves {
        check_prompt(m, true)?;
    }
    let setting = check_prompt(input.setting.as_deref().unwrap_or_default(), false)?;
    let aspect = check_aspect(input.aspect_ratio.as_deref())?;
    let steps: Vec<Value> = moves.iter().map(|m| json!({ "move": m })).collect();
    let cost = studio.prices.fight_move * moves.len() as i64;
    let inputs = json!({ "moves": moves, "aspect_ratio": aspect, "setting": setting });
    submit(
        studio,
        user_id,
        "fight_sequence",
        cost,
        inputs,
        refs,
        json!({ "steps": steps }),
    )
    .await
}

/// Charges, saves and queues a generation; answers at once.
async fn submit(
    studio: &Studio,
    user_id: &str,
    kind: &str,
    cost: i64,
    inputs: Value,
    references: Vec<Reference>,
    work: Value,
) -> Result<Generation, AppError> {
    let id = store::new_id();
    let key = charge_key(&id);
    credits::reserve(&studio.db, user_id, cost, &key, kind).await?;
    let now = now_millis();
    let generation = Generation {
        id: id.clone(),
        user_id: user_id.to_string(),
        kind: kind.to_string(),
        status: "queued".into(),
        progress: 0,
        inputs,
        references,
        work,
        result_urls: vec![],
        error: None,
        cost,
        created_at: now,
        updated_at: now,
    };
    let queued = async {
        rows::insert(&studio.db.pool, &generation).await?;
        let job = NewJob {
            kind: GENERATION_JOB,
            user_id: Some(user_id.to_string()),
            subject_id: Some(id.clone()),
            payload: json!({}),
            delay_ms: 0,
            dedupe_key: Some(format!("generation:{id}")),
        };
        queue::enqueue(&studio.db, job).await
    };
    if let Err(err) = queued.await {
        credits::refund(&studio.db, user_id, &key).await?;
        return Err(err.into());
    }
    studio.jobs.nudge();
    announce(studio, &generation);
    Ok(generation)
}

pub fn charge_key(id: &str) -> String {
    format!("generation:{id}")
}

pub fn announce(studio: &Studio, g: &Generation) {
    studio.publish(
        &g.user_id,
        "generation",
        &g.id,
        serde_json::to_value(g).unwrap_or_default(),
    );
}

pub async fn get(studio: &Studio, user_id: &str, id: &str) -> Result<Generation, AppError> {
    rows::get(&studio.db.pool, user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Generation"))
}

pub async fn list(studio: &Studio, user_id: &str) -> Result<Vec<Generation>, AppError> {
    Ok(rows::list(&studio.db.pool, user_id, 100).await?)
}

/// Stops an unfinished generation and refunds it.
pub async fn cancel(studio: &Studio, user_id: &str, id: &str) -> Result<Generation, AppError> {
    let mut g = get(studio, user_id, id).await?;
    if g.is_finished() {
        return Err(AppError::conflict(
            "already_finished",
            format!("This generation is already {}.", g.status),
        ));
    }
    g.status = "cancelled".into();
    g.error = Some("Cancelled by you.".into());
    if !rows::save_progress(&studio.db.pool, &g).await? {
        return Err(AppError::conflict(
            "already_finished",
            "This generation has just finished.",
        ));
    }
    queue::cancel_for_subject(&studio.db, id).await?;
    credits::refund(&studio.db, user_id, &charge_key(id)).await?;
    let g = get(studio, user_id, id).await?;
    announce(studio, &g);
    Ok(g)
}

/// Runs a failed or cancelled generation again, as a new one (charged again).
pub async fn retry(studio: &Studio, user_id: &str, id: &str) -> Result<Generation, AppError> {
    let old = get(studio, user_id, id).await?;
    if !matches!(old.status.as_str(), "failed" | "cancelled") {
        return Err(AppError::conflict(
            "not_failed",
            "Only a failed or cancelled generation can be retried.",
        ));
    }
    let refs: Vec<RefInput> = old
        .references
        .iter()
        .map(|r| RefInput {
            id: r.character_id.clone(),
            image_url: if r.character_id.is_none() {
                r.image_url.clone()
            } else {
                None
            },
            name: Some(r.name.clone()),
            ..Default::default()
        })
        .collect();
    let subject = refs
        .first()
        .map(|r| SubjectInput {
            character_id: r.id.clone(),
            image: r.image_url.clone(),
            avatar_id: None,
        })
        .unwrap_or_default();
    let text = |k: &str| old.inputs[k].as_str().map(String::from);
    match old.kind.as_str() {
        "scene" => {
            create_scene(
                studio,
                user_id,
                SceneInput {
                    prompt: text("prompt").unwrap_or_default(),
                    character_refs: refs,
                    sketch: text("sketch_url"),
                    aspect_ratio: text("aspect_ratio"),
                },
            )
            .await
        }
        "motion_transfer" => {
            create_motion_transfer(
                studio,
                user_id,
                MotionInput {
                    subject,
                    video_url: text("video_url").unwrap_or_default(),
                    prompt: text("prompt").unwrap_or_default(),
                },
            )
            .await
        }
        "image_to_video" => {
            create_image_to_video(
                studio,
                user_id,
                VideoInput {
                    subject,
                    prompt: text("prompt").unwrap_or_default(),
                    duration: old.inputs["duration"].as_u64().map(|d| d as u32),
                },
            )
            .await
        }
        "lipsync" => {
            create_lipsync(
                studio,
                user_id,
                LipsyncInput {
                    subject,
                    audio_url: text("audio_url"),
                    text: text("text"),
                },
            )
            .await
        }
        _ => {
            let moves = old.inputs["moves"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            create_fight_sequence(
                studio,
                user_id,
                FightInput {
                    character_refs: refs,
                    moves,
                    aspect_ratio: text("aspect_ratio"),
                    setting: text("setting"),
                },
            )
            .await
        }
    }
}
