//! Characters: created from a prompt (generated portrait), an image or a video; each gets an
//! A2E avatar trained automatically. Every request here only writes — the charge, the row and
//! its job in one transaction — and may then wait for the job: a client that hangs up changes
//! neither the outcome nor the money.

use super::avatars;
use super::credits::{self, Close};
use super::error::DomainError;
use super::studio::Studio;
use crate::models::*;
use crate::store::character_events as events;
use crate::store::characters::{self as rows, NewCharacter};
use crate::store::media::StoredMedia;
use crate::store::{self, now_millis};
use serde::Deserialize;

const MAX_PROMPT: usize = 2000;
const MAX_NAME: usize = 100;
const MAX_OUTFIT: usize = 500;
const MAX_TAGS: usize = 20;

/// The fields of `POST /api/a2e/character` (snake_case or the original camelCase).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PromptInput {
    pub prompt: String,
    pub name: Option<String>,
    #[serde(alias = "outfitDescription")]
    pub outfit_description: Option<String>,
    #[serde(alias = "referenceImage")]
    pub reference_image: Option<String>,
    #[serde(alias = "modelVersion")]
    pub model_version: Option<String>,
    pub gender: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Checked, trimmed details common to every way of creating a character.
#[derive(Debug, Clone)]
pub struct Details {
    pub name: String,
    pub prompt: String,
    pub outfit: String,
    pub model_version: String,
    pub gender: Option<String>,
    pub tags: Vec<String>,
}

fn too_long(field: &str, max: usize) -> DomainError {
    DomainError::invalid(
        "invalid_field",
        format!("{field} is too long (at most {max} characters)."),
    )
}

fn optional_text(value: Option<String>, field: &str, max: usize) -> Result<String, DomainError> {
    let text = value.unwrap_or_default().trim().to_string();
    if text.chars().count() > max {
        return Err(too_long(field, max));
    }
    Ok(text)
}

/// Validates what every creation path shares; `prompt_required` for generated portraits.
pub fn check_details(
    prompt: String,
    name: Option<String>,
    outfit: Option<String>,
    model_version: Option<String>,
    gender: Option<String>,
    tags: Option<Vec<String>>,
    prompt_required: bool,
) -> Result<Details, DomainError> {
    let prompt = prompt.trim().to_string();
    if prompt_required && prompt.is_empty() {
        return Err(DomainError::invalid(
            "missing_prompt",
            "Describe the character in the prompt.",
        ));
    }
    if prompt.chars().count() > MAX_PROMPT {
        return Err(too_long("The prompt", MAX_PROMPT));
    }
    let name = optional_text(name, "The name", MAX_NAME)?;
    let name = if name.is_empty() {
        default_name(&prompt)
    } else {
        name
    };
    let model_version = match model_version.as_deref().map(str::trim) {
        None | Some("") | Some("V2.1") => "V2.1".to_string(),
        Some("V1.0") => "V1.0".to_string(),
        Some(other) => {
            return Err(DomainError::invalid(
                "invalid_model_version",
                format!("Unknown model version {other:?}: use \"V2.1\" or \"V1.0\"."),
            ))
        }
    };
    let gender = match gender.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(g @ ("male" | "female")) => Some(g.to_string()),
        Some(_) => {
            return Err(DomainError::invalid(
                "invalid_gender",
                "Gender is \"male\" or \"female\".",
            ))
        }
    };
    let tags = normalize_tags(tags.unwrap_or_default())?;
    Ok(Details {
        name,
        prompt,
        outfit: optional_text(outfit, "The outfit description", MAX_OUTFIT)?,
        model_version,
        gender,
        tags,
    })
}

/// The longest tag, in characters.
pub const MAX_TAG: usize = 40;

/// Tags as stored: trimmed, lowercase (so "Hero" and "hero" are one tag), without commas,
/// each once, at most `MAX_TAGS` of up to `MAX_TAG` characters.
pub fn normalize_tags(tags: Vec<String>) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().replace(',', " ").to_lowercase();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS || out.iter().any(|t| t.chars().count() > MAX_TAG) {
        return Err(DomainError::invalid(
            "invalid_tags",
            format!("Use at most {MAX_TAGS} tags of up to {MAX_TAG} characters."),
        ));
    }
    Ok(out)
}

/// Checks a new name: trimmed, not empty, at most 100 characters.
pub fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(
            "invalid_field",
            "The name cannot be empty.",
        ));
    }
    if name.chars().count() > MAX_NAME {
        return Err(too_long("The name", MAX_NAME));
    }
    Ok(name.to_string())
}

/// Checks a new outfit description (may be empty: no outfit).
pub fn check_outfit(outfit: &str) -> Result<String, DomainError> {
    optional_text(
        Some(outfit.to_string()),
        "The outfit description",
        MAX_OUTFIT,
    )
}

fn default_name(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().take(4).collect();
    if words.is_empty() {
        "New character".into()
    } else {
        words.join(" ").chars().take(40).collect()
    }
}

/// Creates a character from a description: reserves the portrait's price and queues the job
/// that draws it and trains the avatar. With `reference_image`, that image is used instead and
/// nothing is charged. Waits (briefly) until A2E has the training, or the work is waiting.
pub async fn create_from_prompt(
    studio: &Studio,
    user_id: &str,
    input: PromptInput,
) -> Result<Character, DomainError> {
    let reference = input
        .reference_image
        .clone()
        .filter(|r| !r.trim().is_empty());
    let details = check_details(
        input.prompt,
        input.name,
        input.outfit_description,
        input.model_version,
        input.gender,
        input.tags,
        reference.is_none(),
    )?;
    // New work makes new files: refused once the user's storage is full.
    super::media::room(studio, user_id).await?;
    let id = store::new_id();
    let (image_url, source, work) = match reference {
        Some(reference) => (
            Some(
                avatars::keep_reference_image(studio, user_id, &reference)
                    .await?
                    .url,
            ),
            Source::UploadedImage,
            first_training(),
        ),
        None => (
            None,
            Source::Generated,
            CharacterWork::Portrait {
                start: StartState::NotSent,
                charge: format!("character-image:{id}"),
            },
        ),
    };
    let new = NewCharacter {
        id,
        user_id: user_id.to_string(),
        name: details.name,
        prompt: details.prompt,
        outfit_description: details.outfit,
        image_url,
        video_url: None,
        source,
        gender: details.gender,
        model_version: details.model_version,
        training_kind: TrainingKind::Image,
        tags: details.tags,
        work,
    };
    create(studio, new).await
}

fn first_training() -> CharacterWork {
    CharacterWork::Train {
        start: StartState::NotSent,
        attempt: 1,
    }
}

/// Creates a character from an uploaded image or video (already in the media store); free.
pub async fn create_from_upload(
    studio: &Studio,
    user_id: &str,
    details: Details,
    media: StoredMedia,
) -> Result<Character, DomainError> {
    let is_video = media.content_type.starts_with("video/");
    let new = NewCharacter {
        id: store::new_id(),
        user_id: user_id.to_string(),
        name: details.name,
        prompt: details.prompt,
        outfit_description: details.outfit,
        image_url: (!is_video).then(|| media.url.clone()),
        video_url: is_video.then(|| media.url.clone()),
        source: if is_video {
            Source::UploadedVideo
        } else {
            Source::UploadedImage
        },
        gender: details.gender,
        model_version: details.model_version,
        training_kind: if is_video {
            TrainingKind::Video
        } else {
            TrainingKind::Image
        },
        tags: details.tags,
        work: first_training(),
    };
    create(studio, new).await
}

/// Writes the charge (if any), the row and its job together, then waits for the first steps.
async fn create(studio: &Studio, new: NewCharacter) -> Result<Character, DomainError> {
    let (s, n) = (studio.clone(), new.clone());
    to_the_end(async move { write_new(&s, &n).await }).await?;
    studio.jobs.nudge();
    let character = get(studio, &new.user_id, &new.id).await?;
    studio.announce_character(&character);
    wait_while(studio, &character, START_WAIT_MS, |c| {
        c.avatar_status == AvatarStatus::Pending
    })
    .await
}

/// Runs a request's writes to their end even if its client hangs up meanwhile: the server drops
/// the handler of a closed connection, and a transaction dropped half-way would roll back work
/// the client asked for (and may have seen started).
async fn to_the_end<T: Send + 'static>(
    writes: impl std::future::Future<Output = Result<T, DomainError>> + Send + 'static,
) -> Result<T, DomainError> {
    tokio::spawn(writes).await.map_err(|err| {
        tracing::error!(error = %err, "a request's writes failed");
        DomainError::Internal
    })?
}

/// The charge (if any), the row, its first event and its job, in one transaction.
async fn write_new(studio: &Studio, new: &NewCharacter) -> Result<(), DomainError> {
    let charge = new.work.charge().map(String::from);
    let mut tx = studio.db.pool.begin().await?;
    if let Some(charge) = &charge {
        let (cost, note) = (CHARACTER_IMAGE_COST, "Character portrait");
        credits::reserve_in(&mut tx, &new.user_id, cost, charge, note).await?;
    }
    rows::insert(&mut tx, new, AvatarStatus::Pending).await?;
    let how = match new.source {
        Source::Generated => "Created from a description",
        Source::UploadedImage => "Created from an image",
        Source::UploadedVideo => "Created from a video",
    };
    events::record(&mut tx, &new.user_id, &new.id, EventKind::Queued, how, None).await?;
    avatars::enqueue_in(&mut tx, studio, &new.user_id, &new.id, charge.as_deref()).await?;
    tx.commit().await?;
    Ok(())
}

/// How long a request waits for A2E to accept the work before answering with it pending.
const START_WAIT_MS: i64 = 90_000;

/// Re-reads the character until `busy` is false, the work waits for A2E (a notice), or
/// `deadline_ms` passes. Reading only: the job does the work, whether or not anyone waits.
async fn wait_while(
    studio: &Studio,
    character: &Character,
    deadline_ms: i64,
    busy: impl Fn(&Character) -> bool,
) -> Result<Character, DomainError> {
    let until = now_millis() + deadline_ms;
    let pause = (studio.clock.poll_ms / 4).clamp(50, 500) as u64;
    let mut now = character.clone();
    while busy(&now) && now.notice.is_none() && now_millis() < until {
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        now = get(studio, &character.user_id, &character.id).await?;
    }
    Ok(now)
}

pub async fn get(studio: &Studio, user_id: &str, id: &str) -> Result<Character, DomainError> {
    rows::get(&studio.db.pool, user_id, id)
        .await?
        .ok_or_else(|| DomainError::not_found("Character"))
}

pub async fn get_by_avatar(
    studio: &Studio,
    user_id: &str,
    avatar_id: &str,
) -> Result<Character, DomainError> {
    rows::get_by_avatar(&studio.db.pool, user_id, avatar_id)
        .await?
        .ok_or_else(|| DomainError::not_found("Avatar"))
}

/// Deletes the character now, with its jobs; a charge its job held is refunded unless A2E was
/// already asked. Its avatar is removed at A2E by a job, so an A2E outage cannot leave the
/// user with a character they cannot delete.
pub async fn delete(studio: &Studio, user_id: &str, id: &str) -> Result<(), DomainError> {
    let character = get(studio, user_id, id).await?;
    let mut tx = studio.db.pool.begin().await?;
    // A write first takes the row's (SQLite: the database's) write lock, waiting its turn: a
    // read first would make SQLite refuse the later write outright ("database is locked")
    // whenever the job runner wrote in between, as it does during a bulk delete.
    rows::touch(&mut tx, id).await?;
    let work = rows::work(&mut tx, id).await?.unwrap_or_default();
    // An adopted avatar was trained elsewhere: it stays at A2E (see `imports`).
    let adopted = match &character.avatar_id {
        Some(avatar_id) => crate::store::imports::is_imported(&mut tx, avatar_id).await?,
        None => false,
    };
    if !rows::delete(&mut *tx, user_id, id).await? {
        return Err(DomainError::not_found("Character"));
    }
    for charge in crate::jobs::queue::cancel_for_subject(&mut tx, id).await? {
        if !credits::is_open(&mut tx, user_id, &charge).await? {
            continue;
        }
        let asked = work.start().is_some_and(StartState::may_have_started);
        let how = if asked { Close::Settle } else { Close::Refund };
        credits::close_in(&mut tx, user_id, &charge, how).await?;
    }
    if let Some(avatar_id) = character.avatar_id.as_ref().filter(|_| !adopted) {
        avatars::schedule_removal_in(&mut tx, user_id, avatar_id).await?;
    }
    tx.commit().await?;
    studio.jobs.nudge();
    studio.publish(
        user_id,
        "character",
        id,
        serde_json::json!({ "deleted": true }),
    );
    super::media::release_row(studio, user_id, &character);
    Ok(())
}

/// Continues a trained avatar's training for 100 credits (about +30 minutes): claims the
/// avatar, holds the price and queues the job that asks A2E, all in one transaction.
pub async fn continue_training(
    studio: &Studio,
    user_id: &str,
    id: &str,
) -> Result<Character, DomainError> {
    let character = get(studio, user_id, id).await?;
    if !character.is_trained() {
        return Err(DomainError::conflict(
            "not_trained",
            "Only a trained avatar can continue training.",
        ));
    }
    let seen_at = character.updated_at;
    let (s, u, i) = (studio.clone(), user_id.to_string(), id.to_string());
    to_the_end(async move { start_continue(&s, &u, &i, seen_at).await }).await?;
    studio.jobs.nudge();
    let now = get(studio, user_id, id).await?;
    studio.announce_character(&now);
    // Answer once A2E has it (or refused it), so the caller sees the outcome.
    let asked = wait_until_asked(studio, &now).await?;
    refused_continue(asked)
}

/// Claims the avatar, holds the price and queues the job, in one transaction.
async fn start_continue(
    studio: &Studio,
    user_id: &str,
    id: &str,
    seen_at: i64,
) -> Result<(), DomainError> {
    let charge = format!("continue-training:{id}:{seen_at}");
    let mut tx = studio.db.pool.begin().await?;
    // Only one request moves a completed avatar on: a double click asks A2E, and charges, once.
    let claimed = (AvatarStatus::Completed, AvatarStatus::Training);
    if rows::claim_status(&mut *tx, id, claimed, seen_at)
        .await?
        .is_none()
    {
        return Err(already("already_continuing", "being continued"));
    }
    let (price, note) = (CONTINUE_TRAINING_COST, "Continue training");
    credits::reserve_in(&mut tx, user_id, price, &charge, note).await?;
    let work = CharacterWork::Continue {
        start: StartState::NotSent,
        charge: charge.clone(),
    };
    rows::set_work(&mut tx, id, &work, None).await?;
    let what = "Continue training requested";
    events::record(&mut tx, user_id, id, EventKind::Queued, what, None).await?;
    if !avatars::enqueue_in(&mut tx, studio, user_id, id, Some(&charge)).await? {
        return Err(already("already_continuing", "being continued"));
    }
    tx.commit().await?;
    Ok(())
}

/// A continue A2E refused leaves the avatar trained as it was, its price refunded.
fn refused_continue(c: Character) -> Result<Character, DomainError> {
    match (&c.avatar_status, &c.avatar_error) {
        (AvatarStatus::Completed, Some(reason)) => Err(DomainError::Refused(reason.clone())),
        _ => Ok(c),
    }
}

async fn wait_until_asked(studio: &Studio, c: &Character) -> Result<Character, DomainError> {
    let db = studio.db.clone();
    let id = c.id.clone();
    let until = now_millis() + START_WAIT_MS;
    let pause = (studio.clock.poll_ms / 4).clamp(50, 500) as u64;
    loop {
        // The step first, then the row: a step that ended meanwhile shows in the row read.
        let mut conn = db.pool.acquire().await?;
        let work = rows::work(&mut conn, &id).await?.unwrap_or_default();
        drop(conn);
        let now = get(studio, &c.user_id, &c.id).await?;
        let asking = matches!(
            work,
            CharacterWork::Continue { .. }
                | CharacterWork::Train { .. }
                | CharacterWork::Portrait { .. }
        );
        if !asking || now.notice.is_some() || now_millis() >= until {
            return Ok(now);
        }
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
    }
}

fn already(code: &'static str, what: &str) -> DomainError {
    DomainError::conflict(code, format!("This avatar's training is already {what}."))
}

/// Starts a fresh training after a failure, from the same image or video (free); a portrait
/// that failed is drawn again first (charged again).
pub async fn retry_training(
    studio: &Studio,
    user_id: &str,
    id: &str,
) -> Result<Character, DomainError> {
    let character = get(studio, user_id, id).await?;
    if character.avatar_status != AvatarStatus::Failed {
        return Err(DomainError::conflict(
            "not_failed",
            "Only a failed training can be retried.",
        ));
    }
    let (s, c) = (studio.clone(), character.clone());
    to_the_end(async move { start_retry(&s, &c).await }).await?;
    studio.jobs.nudge();
    let now = get(studio, user_id, id).await?;
    studio.announce_character(&now);
    let asked = wait_until_asked(studio, &now).await?;
    match (asked.avatar_status, &asked.avatar_error) {
        (AvatarStatus::Failed, Some(reason)) => Err(DomainError::Refused(reason.clone())),
        _ => Ok(asked),
    }
}

/// Claims the failed avatar, holds a portrait's price if one is drawn again, and queues the
/// job, in one transaction.
async fn start_retry(studio: &Studio, character: &Character) -> Result<(), DomainError> {
    let (user_id, id) = (character.user_id.as_str(), character.id.as_str());
    let mut tx = studio.db.pool.begin().await?;
    // Only one request restarts it: a double click starts one training at A2E.
    let claimed = (AvatarStatus::Failed, AvatarStatus::Pending);
    if rows::claim_status(&mut *tx, id, claimed, character.updated_at)
        .await?
        .is_none()
    {
        return Err(already("already_retrying", "being retried"));
    }
    let work = match (&character.image_url, &character.video_url, character.source) {
        // The portrait itself failed: draw it again, charged again.
        (None, None, Source::Generated) => {
            let charge = format!("character-image:{id}:{}", character.updated_at);
            let (cost, note) = (CHARACTER_IMAGE_COST, "Character portrait");
            credits::reserve_in(&mut tx, user_id, cost, &charge, note).await?;
            CharacterWork::Portrait {
                start: StartState::NotSent,
                charge,
            }
        }
        (None, None, _) => {
            return Err(DomainError::conflict(
                "no_source",
                "This character has no image or video to train from.",
            ))
        }
        // Each training has its own name at A2E, so a retry never adopts the failed one.
        _ => CharacterWork::Train {
            start: StartState::NotSent,
            attempt: (now_millis() / 1000) as u32,
        },
    };
    let charge = work.charge().map(String::from);
    rows::set_work(&mut tx, id, &work, None).await?;
    let what = "Retry requested";
    events::record(&mut tx, user_id, id, EventKind::Queued, what, None).await?;
    if let Some(old) = &character.avatar_id {
        avatars::schedule_removal_in(&mut tx, user_id, old).await?;
    }
    if !avatars::enqueue_in(&mut tx, studio, user_id, id, charge.as_deref()).await? {
        return Err(already("already_retrying", "being retried"));
    }
    tx.commit().await?;
    Ok(())
}

/// Waits until the avatar's training ends or `deadline_ms` passes (the job follows it).
pub async fn wait_for_avatar(
    studio: &Studio,
    user_id: &str,
    id: &str,
    deadline_ms: i64,
) -> Result<Character, DomainError> {
    let character = get(studio, user_id, id).await?;
    wait_while(studio, &character, deadline_ms, |c| {
        matches!(
            c.avatar_status,
            AvatarStatus::Pending | AvatarStatus::Training
        )
    })
    .await
}
