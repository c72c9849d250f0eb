//! Generations with characters: scenes, motion transfer, image-to-video, lipsync and fight
//! sequences. A character with a trained avatar is always sent by its avatar id; otherwise by
//! its image. Each request is checked into a typed [`GenerationSpec`]; submitting one writes
//! the charge, the row and its job in one transaction, and running it again is submitting the
//! same spec.

use super::characters;
use super::credits::{self, Close};
use super::error::DomainError;
use super::studio::Studio;
use super::voices;
use crate::jobs::{queue, NewJob};
use crate::models::{
    Character, FightStep, Generation, GenerationSpec, GenerationStatus, GenerationWork, Reference,
    SubjectChoice, TaskApi, Via,
};
use crate::store::generations as rows;
use crate::store::media::MediaKind;
use crate::store::{self, now_millis};
use serde::Deserialize;

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

/// A URL a user gives for A2E to fetch: well formed, and (unless it is the user's own media)
/// public, by the same rule as the URLs the studio fetches itself.
pub(crate) async fn check_url(
    studio: &Studio,
    url: &str,
    field: &str,
) -> Result<String, DomainError> {
    let url = well_formed(url, field)?;
    if studio.media.key_from_url(&url).is_none() {
        studio
            .outbound
            .check(&url)
            .await
            .map_err(|refused| DomainError::invalid("url_refused", refused))?;
    }
    Ok(url)
}

fn well_formed(url: &str, field: &str) -> Result<String, DomainError> {
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
        || url.len() > 2000
    {
        return Err(DomainError::invalid(
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
        via: if trained { Via::Avatar } else { Via::Image },
        character_id: Some(c.id.clone()),
        avatar_id: if trained { c.avatar_id.clone() } else { None },
        image_url: if trained { None } else { c.image_url.clone() },
        outfit: Some(c.outfit_description.trim().to_string()).filter(|o| !o.is_empty()),
    }
}

/// Checks one reference as sent in and turns it into the user's choice; ids that are not the
/// caller's answer 404.
pub async fn choose(
    studio: &Studio,
    user_id: &str,
    r: &RefInput,
) -> Result<SubjectChoice, DomainError> {
    if let Some(id) = non_empty(&r.id) {
        let c = characters::get(studio, user_id, id).await?;
        return Ok(SubjectChoice {
            character_id: Some(c.id),
            ..Default::default()
        });
    }
    if let Some(avatar) = non_empty(&r.avatar_id) {
        let c = characters::get_by_avatar(studio, user_id, avatar).await?;
        return Ok(SubjectChoice {
            character_id: Some(c.id),
            ..Default::default()
        });
    }
    if let Some(url) = non_empty(&r.image_url) {
        let name = non_empty(&r.name)
            .unwrap_or("Reference")
            .chars()
            .take(100)
            .collect();
        return Ok(SubjectChoice {
            image_url: Some(check_url(studio, url, "image_url").await?),
            name: Some(name),
            ..Default::default()
        });
    }
    Err(DomainError::invalid(
        "invalid_reference",
        "Each reference needs an id, an avatar_id or an image_url.",
    ))
}

/// How a choice is sent to A2E now: a character by its avatar when trained, else its image.
async fn reference_of(
    studio: &Studio,
    user_id: &str,
    choice: &SubjectChoice,
) -> Result<Reference, DomainError> {
    match (&choice.character_id, &choice.image_url) {
        (Some(id), _) => Ok(of_character(&characters::get(studio, user_id, id).await?)),
        (None, Some(url)) => Ok(Reference {
            name: choice.name.clone().unwrap_or_else(|| "Reference".into()),
            via: Via::Image,
            character_id: None,
            avatar_id: None,
            image_url: Some(url.clone()),
            outfit: None,
        }),
        (None, None) => Err(DomainError::invalid(
            "invalid_reference",
            "Each reference needs an id, an avatar_id or an image_url.",
        )),
    }
}

async fn choose_all(
    studio: &Studio,
    user_id: &str,
    refs: &[RefInput],
    required: bool,
) -> Result<Vec<SubjectChoice>, DomainError> {
    if refs.len() > MAX_REFS {
        return Err(DomainError::invalid(
            "too_many_references",
            format!("Use at most {MAX_REFS} characters at once."),
        ));
    }
    if required && refs.is_empty() {
        return Err(DomainError::invalid(
            "missing_references",
            "Pick at least one character.",
        ));
    }
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        out.push(choose(studio, user_id, r).await?);
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

async fn choose_subject(
    studio: &Studio,
    user_id: &str,
    s: &SubjectInput,
) -> Result<SubjectChoice, DomainError> {
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
        return Err(DomainError::invalid(
            "missing_subject",
            "Give image, avatarId or characterId.",
        ));
    }
    choose(studio, user_id, &r).await
}

fn check_prompt(prompt: &str, required: bool) -> Result<String, DomainError> {
    let prompt = prompt.trim();
    if required && prompt.is_empty() {
        return Err(DomainError::invalid("missing_prompt", "Write a prompt."));
    }
    if prompt.chars().count() > MAX_PROMPT {
        return Err(DomainError::invalid(
            "invalid_field",
            format!("The prompt is too long (at most {MAX_PROMPT} characters)."),
        ));
    }
    Ok(prompt.to_string())
}

const ASPECT_RATIOS: [&str; 5] = ["1:1", "16:9", "9:16", "4:3", "3:4"];

pub(crate) fn check_aspect(aspect: Option<&str>) -> Result<String, DomainError> {
    match aspect.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok("16:9".into()),
        Some(a) if ASPECT_RATIOS.contains(&a) => Ok(a.into()),
        Some(a) => Err(DomainError::invalid(
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
) -> Result<Generation, DomainError> {
    let prompt = check_prompt(&input.prompt, true)?;
    let aspect = check_aspect(input.aspect_ratio.as_deref())?;
    let characters = choose_all(studio, user_id, &input.character_refs, false).await?;
    let sketch_url = match non_empty(&input.sketch) {
        Some(sketch) => Some(keep_sketch(studio, user_id, sketch).await?),
        None => None,
    };
    let spec = GenerationSpec::Scene {
        prompt,
        aspect_ratio: aspect,
        sketch_url,
        characters,
    };
    submit(studio, user_id, spec).await
}

async fn keep_sketch(studio: &Studio, user_id: &str, sketch: &str) -> Result<String, DomainError> {
    if studio.media.key_from_url(sketch).is_some() {
        return Ok(sketch.to_string());
    }
    let Some(data) = sketch
        .strip_prefix("data:image/png;base64,")
        .or_else(|| sketch.strip_prefix("data:image/jpeg;base64,"))
    else {
        return Err(DomainError::invalid(
            "invalid_sketch",
            "The sketch must be a PNG or JPEG data URL, or an uploaded image.",
        ));
    };
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| {
            DomainError::invalid(
                "invalid_sketch",
                "The sketch is not valid base64 image data.",
            )
        })?;
    Ok(
        super::media::keep_upload(studio, user_id, bytes.into(), MediaKind::Image)
            .await?
            .url,
    )
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
) -> Result<Generation, DomainError> {
    let prompt = check_prompt(&input.prompt, false)?;
    if input.video_url.trim().is_empty() {
        return Err(DomainError::invalid(
            "missing_video",
            "Give videoUrl: the video whose motion is copied.",
        ));
    }
    let video_url = check_url(studio, &input.video_url, "videoUrl").await?;
    let subject = choose_subject(studio, user_id, &input.subject).await?;
    let spec = GenerationSpec::MotionTransfer {
        prompt,
        video_url,
        subject,
    };
    submit(studio, user_id, spec).await
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
) -> Result<Generation, DomainError> {
    let prompt = check_prompt(&input.prompt, true)?;
    let duration = input.duration.unwrap_or(5);
    if ![5, 10, 15, 20].contains(&duration) {
        return Err(DomainError::invalid(
            "invalid_duration",
            "duration is 5, 10, 15 or 20 seconds.",
        ));
    }
    let subject = choose_subject(studio, user_id, &input.subject).await?;
    let spec = GenerationSpec::ImageToVideo {
        prompt,
        duration,
        subject,
    };
    submit(studio, user_id, spec).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LipsyncInput {
    #[serde(flatten)]
    pub subject: SubjectInput,
    #[serde(alias = "audioUrl")]
    pub audio_url: Option<String>,
    pub text: Option<String>,
    /// An A2E voice id (`GET /api/a2e/voices`) for `text`; A2E's first voice when absent.
    #[serde(alias = "ttsId", alias = "tts_id", alias = "voiceId")]
    pub voice: Option<String>,
}

pub async fn create_lipsync(
    studio: &Studio,
    user_id: &str,
    input: LipsyncInput,
) -> Result<Generation, DomainError> {
    let audio = match non_empty(&input.audio_url) {
        Some(a) => Some(check_url(studio, a, "audioUrl").await?),
        None => None,
    };
    let text = non_empty(&input.text).map(String::from);
    match (&audio, &text) {
        (None, None) => {
            return Err(DomainError::invalid(
                "missing_speech",
                "Give audioUrl or text to speak.",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(DomainError::invalid(
                "ambiguous_speech",
                "Give either audioUrl or text, not both.",
            ))
        }
        (_, Some(t)) if t.chars().count() > MAX_SPEECH => {
            return Err(DomainError::invalid(
                "invalid_field",
                format!("The text is too long (at most {MAX_SPEECH} characters)."),
            ))
        }
        _ => {}
    }
    let requested = non_empty(&input.voice);
    let voice = match (&text, requested) {
        (Some(_), requested) => voices::choose(studio, requested).await?,
        (None, Some(_)) => {
            return Err(DomainError::invalid(
                "voice_without_text",
                "A voice reads text: give text with it, or leave the voice out for audioUrl.",
            ))
        }
        (None, None) => None,
    };
    let subject = choose_subject(studio, user_id, &input.subject).await?;
    let spec = GenerationSpec::Lipsync {
        audio_url: audio,
        text,
        voice,
        subject,
    };
    submit(studio, user_id, spec).await
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
) -> Result<Generation, DomainError> {
    let characters = choose_all(studio, user_id, &input.character_refs, true).await?;
    let moves: Vec<String> = input
        .moves
        .iter()
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if moves.is_empty() || moves.len() > MAX_MOVES || moves.len() != input.moves.len() {
        return Err(DomainError::invalid(
            "invalid_moves",
            format!("Give 1 to {MAX_MOVES} moves, none of them empty."),
        ));
    }
    for m in &moves {
        check_prompt(m, true)?;
    }
    let setting = check_prompt(input.setting.as_deref().unwrap_or_default(), false)?;
    let aspect = check_aspect(input.aspect_ratio.as_deref())?;
    let spec = GenerationSpec::FightSequence {
        moves,
        aspect_ratio: aspect,
        setting,
        characters,
    };
    submit(studio, user_id, spec).await
}

/// What a spec costs.
fn price_of(studio: &Studio, spec: &GenerationSpec) -> i64 {
    let prices = &studio.prices;
    match spec {
        GenerationSpec::Scene { .. } => prices.scene,
        GenerationSpec::MotionTransfer { .. } => prices.motion_transfer,
        GenerationSpec::ImageToVideo { .. } => prices.image_to_video,
        GenerationSpec::Lipsync { .. } => prices.lipsync,
        GenerationSpec::FightSequence { moves, .. } => prices.fight_move * moves.len() as i64,
    }
}

/// The references a spec sends, as of now (a character trained since is sent by its avatar).
async fn references_of(
    studio: &Studio,
    user_id: &str,
    spec: &GenerationSpec,
) -> Result<Vec<Reference>, DomainError> {
    let choices: Vec<&SubjectChoice> = match spec {
        GenerationSpec::Scene { characters, .. }
        | GenerationSpec::FightSequence { characters, .. } => characters.iter().collect(),
        GenerationSpec::MotionTransfer { subject, .. }
        | GenerationSpec::ImageToVideo { subject, .. }
        | GenerationSpec::Lipsync { subject, .. } => vec![subject],
    };
    let mut refs = Vec::with_capacity(choices.len());
    for choice in choices {
        refs.push(reference_of(studio, user_id, choice).await?);
    }
    Ok(refs)
}

/// The A2E work a spec starts from.
fn work_of(spec: &GenerationSpec, refs: &[Reference]) -> GenerationWork {
    let api = match spec {
        GenerationSpec::Scene { .. } => TaskApi::Scene,
        GenerationSpec::MotionTransfer { .. } => TaskApi::Motion,
        GenerationSpec::ImageToVideo { .. } => TaskApi::I2v,
        GenerationSpec::Lipsync { .. } if refs.first().is_some_and(|r| r.avatar_id.is_some()) => {
            TaskApi::AvatarLipsync
        }
        GenerationSpec::Lipsync { .. } => TaskApi::TalkingPhoto,
        GenerationSpec::FightSequence { moves, .. } => {
            let steps = moves
                .iter()
                .map(|m| FightStep {
                    action: m.clone(),
                    ..Default::default()
                })
                .collect();
            return GenerationWork {
                steps,
                ..Default::default()
            };
        }
    };
    GenerationWork {
        api: Some(api),
        ..Default::default()
    }
}

/// Charges, saves and queues a generation — one transaction — and answers at once. Each
/// character goes by its avatar as it is now (or its image while untrained).
pub async fn submit(
    studio: &Studio,
    user_id: &str,
    spec: GenerationSpec,
) -> Result<Generation, DomainError> {
    let references = references_of(studio, user_id, &spec).await?;
    submit_with(studio, user_id, spec, references).await
}

/// Submits a spec with references already decided (e.g. those an earlier run used).
pub async fn submit_with(
    studio: &Studio,
    user_id: &str,
    spec: GenerationSpec,
    references: Vec<Reference>,
) -> Result<Generation, DomainError> {
    // New work makes new files: refused once the user's storage is full.
    super::media::room(studio, user_id).await?;
    let id = store::new_id();
    let key = charge_key(&id);
    let cost = price_of(studio, &spec);
    let now = now_millis();
    let generation = Generation {
        id: id.clone(),
        user_id: user_id.to_string(),
        work: GenerationWork {
            expected_ms: studio.clock.local_ms(spec.typical_a2e_seconds()) + studio.clock.poll_ms,
            ..work_of(&spec, &references)
        },
        status: GenerationStatus::Queued,
        progress: 0,
        references,
        result_urls: vec![],
        error: None,
        notice: None,
        cost,
        created_at: now,
        updated_at: now,
        spec,
    };
    let mut tx = studio.db.pool.begin().await?;
    let note = generation.kind().as_str();
    credits::reserve_in(&mut tx, user_id, cost, &key, note).await?;
    rows::insert(&mut tx, &generation).await?;
    rows::link_characters(&mut tx, &generation).await?;
    let job = NewJob {
        reservation_key: Some(key),
        deadline_ms: studio.job_deadline_ms,
        ..NewJob::about(GENERATION_JOB, user_id, &id, format!("generation:{id}"))
    };
    queue::enqueue_in(&mut tx, job).await?;
    tx.commit().await?;
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

pub async fn get(studio: &Studio, user_id: &str, id: &str) -> Result<Generation, DomainError> {
    rows::get(&studio.db.pool, user_id, id)
        .await?
        .ok_or_else(|| DomainError::not_found("Generation"))
}

/// Stops an unfinished generation. Before A2E started it, its price is refunded and its job
/// stopped; once A2E started it, A2E has charged the operator, so the charge is kept and the
/// result is still kept if it arrives; while a start's answer is still out, the job decides as
/// soon as it knows. One transaction: the mark, the money and the job together.
pub async fn cancel(studio: &Studio, user_id: &str, id: &str) -> Result<Generation, DomainError> {
    let g = get(studio, user_id, id).await?;
    if g.is_finished() {
        return Err(finished(&g));
    }
    let mut tx = studio.db.pool.begin().await?;
    // Marking first takes the row's write lock: the worker's next fenced write waits for this
    // transaction and then sees the generation cancelled, so it cannot start anything new.
    if !rows::mark_cancelled(&mut tx, user_id, id, "Cancelled by you.").await? {
        return Err(finished(&g));
    }
    let now = rows::get(&mut *tx, user_id, id)
        .await?
        .ok_or_else(|| DomainError::not_found("Generation"))?;
    if now.work.any_started() {
        credits::close_in(&mut tx, user_id, &charge_key(id), Close::Settle).await?;
    } else if !now.work.any_unknown() {
        credits::close_in(&mut tx, user_id, &charge_key(id), Close::Refund).await?;
        queue::cancel_for_subject(&mut tx, id).await?;
    }
    // Else a start's answer is still out: the job settles or refunds once A2E's answer (or a
    // lookup) says whether it started.
    tx.commit().await?;
    let g = get(studio, user_id, id).await?;
    announce(studio, &g);
    Ok(g)
}

fn finished(g: &Generation) -> DomainError {
    DomainError::conflict(
        "already_finished",
        format!("This generation is already {}.", g.status),
    )
}

/// Runs a failed or cancelled generation again, as a new one (charged again): the same spec,
/// with each character's avatar as it is now.
pub async fn retry(studio: &Studio, user_id: &str, id: &str) -> Result<Generation, DomainError> {
    let old = get(studio, user_id, id).await?;
    if !matches!(
        old.status,
        GenerationStatus::Failed | GenerationStatus::Cancelled
    ) {
        return Err(DomainError::conflict(
            "not_failed",
            "Only a failed or cancelled generation can be retried.",
        ));
    }
    submit(studio, user_id, old.spec).await
}

/// Makes a generation again, as a new one charged like any other. `use_current_avatar`:
/// each character as it is today (its current avatar, or its image while untrained); else the
/// same references as the first time — refused (409) when a character is gone, or its avatar
/// was replaced since (A2E no longer has the old one), with the way out said.
pub async fn remake(
    studio: &Studio,
    user_id: &str,
    id: &str,
    use_current_avatar: bool,
) -> Result<Generation, DomainError> {
    let old = get(studio, user_id, id).await?;
    for r in &old.references {
        let Some(character_id) = &r.character_id else {
            continue;
        };
        let Some(now) =
            crate::store::characters::get(&studio.db.pool, user_id, character_id).await?
        else {
            return Err(DomainError::conflict(
                "character_gone",
                format!("{} was deleted, so this cannot be made again.", r.name),
            ));
        };
        if !use_current_avatar && r.avatar_id.is_some() && r.avatar_id != now.avatar_id {
            return Err(DomainError::conflict(
                "avatar_replaced",
                format!(
                    "{}'s avatar was trained again since; make it again with today's avatar.",
                    r.name
                ),
            ));
        }
    }
    if use_current_avatar {
        submit(studio, user_id, old.spec).await
    } else {
        submit_with(studio, user_id, old.spec, old.references).await
    }
}

/// Deletes a finished generation from the history; its files go too unless something else of
/// the user's still uses them (e.g. a scene animated later). Money is never touched here:
/// an unfinished one must be cancelled first (the cancel policy decides its refund), and one
/// whose job is still closing its charge (cancelled after A2E started) waits for it: both 409.
pub async fn delete(studio: &Studio, user_id: &str, id: &str) -> Result<(), DomainError> {
    let g = get(studio, user_id, id).await?;
    if !g.is_finished() {
        return Err(DomainError::conflict(
            "still_running",
            "This generation is still running: cancel it first, then delete it.",
        ));
    }
    let mut tx = studio.db.pool.begin().await?;
    // Write first: the lock is taken (or waited for) before anything is read.
    rows::touch(&mut tx, user_id, id).await?;
    if queue::has_live_owner(&mut tx, &charge_key(id)).await? {
        return Err(DomainError::conflict(
            "still_settling",
            "This generation is still being wound up at A2E; delete it in a minute.",
        ));
    }
    if !rows::delete(&mut tx, user_id, id).await? {
        return Err(DomainError::not_found("Generation"));
    }
    tx.commit().await?;
    studio.publish(
        user_id,
        "generation",
        id,
        serde_json::json!({ "deleted": true }),
    );
    super::media::release_row(studio, user_id, &g);
    Ok(())
}
