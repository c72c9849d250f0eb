//! Characters: created from a prompt (generated portrait), an image or a video; each gets an
//! A2E avatar trained automatically, tracked by a durable job until it ends.

use super::avatars::{self, TrainingSource};
use super::credits;
use super::studio::Studio;
use crate::error::AppError;
use crate::models::*;
use crate::store::characters::{self as rows, AvatarState, NewCharacter};
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

fn too_long(field: &str, max: usize) -> AppError {
    AppError::bad_request(
        "invalid_field",
        format!("{field} is too long (at most {max} characters)."),
    )
}

fn optional_text(value: Option<String>, field: &str, max: usize) -> Result<String, AppError> {
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
) -> Result<Details, AppError> {
    let prompt = prompt.trim().to_string();
    if prompt_required && prompt.is_empty() {
        return Err(AppError::bad_request(
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
            return Err(AppError::bad_request(
                "invalid_model_version",
                format!("Unknown model version {other:?}: use \"V2.1\" or \"V1.0\"."),
            ))
        }
    };
    let gender = match gender.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(g @ ("male" | "female")) => Some(g.to_string()),
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_gender",
                "Gender is \"male\" or \"female\".",
            ))
        }
    };
    let tags: Vec<String> = tags
        .unwrap_or_default()
        .iter()
        .map(|t| t.trim().replace(',', " "))
        .filter(|t| !t.is_empty())
        .collect();
    if tags.len() > MAX_TAGS || tags.iter().any(|t| t.chars().count() > 40) {
        return Err(AppError::bad_request(
            "invalid_tags",
            "Use at most 20 tags of up to 40 characters.",
        ));
    }
    Ok(Details {
        name,
        prompt,
        outfit: optional_text(outfit, "The outfit description", MAX_OUTFIT)?,
        model_version,
        gender,
        tags,
    })
}

fn default_name(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().take(4).collect();
    if words.is_empty() {
        "New character".into()
    } else {
        words.join(" ").chars().take(40).collect()
    }
}

/// Creates a character from a description: charges the portrait, generates and keeps it, starts
/// training. With `reference_image`, that image is used instead and nothing is charged.
pub async fn create_from_prompt(
    studio: &Studio,
    user_id: &str,
    input: PromptInput,
) -> Result<Character, AppError> {
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
    let id = store::new_id();
    let (image, source) = match reference {
        Some(reference) => (
            avatars::keep_reference_image(studio, &reference).await?,
            "uploaded_image",
        ),
        None => (
            generate_charged_portrait(studio, user_id, &id, &details).await?,
            "generated",
        ),
    };
    let new = NewCharacter {
        id,
        user_id: user_id.to_string(),
        name: details.name,
        prompt: details.prompt,
        outfit_description: details.outfit,
        image_url: Some(image.url),
        video_url: None,
        source,
        gender: details.gender,
        model_version: details.model_version,
        training_kind: "image",
        tags: details.tags,
    };
    save_and_train(studio, new).await
}

/// Creates a character from an uploaded image or video (already in the media store); free.
pub async fn create_from_upload(
    studio: &Studio,
    user_id: &str,
    details: Details,
    media: StoredMedia,
) -> Result<Character, AppError> {
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
            "uploaded_video"
        } else {
            "uploaded_image"
        },
        gender: details.gender,
        model_version: details.model_version,
        training_kind: if is_video { "video" } else { "image" },
        tags: details.tags,
    };
    save_and_train(studio, new).await
}

/// Reserves the portrait's price, generates it and copies it home; settles on success, refunds otherwise.
async fn generate_charged_portrait(
    studio: &Studio,
    user_id: &str,
    id: &str,
    details: &Details,
) -> Result<StoredMedia, AppError> {
    let key = format!("character-image:{id}");
    credits::reserve(
        &studio.db,
        user_id,
        CHARACTER_IMAGE_COST,
        &key,
        "Character portrait",
    )
    .await?;
    match avatars::generate_portrait(studio, &details.name, &details.prompt, &details.outfit).await
    {
        Ok(image) => {
            credits::settle(&studio.db, user_id, &key).await?;
            Ok(image)
        }
        Err(err) => {
            credits::refund(&studio.db, user_id, &key).await?;
            Err(err)
        }
    }
}

/// Starts the training, saves the row whatever A2E answered (a refusal is kept as a failed
/// training the user can retry), and starts tracking it.
async fn save_and_train(studio: &Studio, new: NewCharacter) -> Result<Character, AppError> {
    let source = TrainingSource::of(&new);
    let state = avatars::start_training(
        studio,
        &source,
        &new.name,
        &new.prompt,
        new.gender.as_deref(),
        &new.model_version,
    )
    .await
    .unwrap_or_else(|err| AvatarState {
        status: AVATAR_FAILED.into(),
        error: Some(err.message),
        ..Default::default()
    });
    let mut tx = studio.db.pool.begin().await?;
    rows::insert(&mut *tx, &new, &state).await?;
    tx.commit().await?;
    if state.status == AVATAR_TRAINING {
        avatars::track(studio, &new.user_id, &new.id).await?;
    }
    let character = get(studio, &new.user_id, &new.id).await?;
    announce(studio, &character);
    Ok(character)
}

pub fn announce(studio: &Studio, character: &Character) {
    let data = serde_json::to_value(character).unwrap_or_default();
    studio.publish(&character.user_id, "character", &character.id, data);
}

pub async fn list(studio: &Studio, user_id: &str) -> Result<Vec<Character>, AppError> {
    Ok(rows::list(&studio.db.pool, user_id).await?)
}

pub async fn get(studio: &Studio, user_id: &str, id: &str) -> Result<Character, AppError> {
    rows::get(&studio.db.pool, user_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("Character"))
}

pub async fn get_by_avatar(
    studio: &Studio,
    user_id: &str,
    avatar_id: &str,
) -> Result<Character, AppError> {
    rows::get_by_avatar(&studio.db.pool, user_id, avatar_id)
        .await?
        .ok_or_else(|| AppError::not_found("Avatar"))
}

/// Deletes the character now; its avatar is removed at A2E by a job, so an A2E outage
/// cannot leave the user with a character they cannot delete.
pub async fn delete(studio: &Studio, user_id: &str, id: &str) -> Result<(), AppError> {
    let character = get(studio, user_id, id).await?;
    rows::delete(&studio.db.pool, user_id, id).await?;
    crate::jobs::queue::cancel_for_subject(&studio.db, id).await?;
    if let Some(avatar_id) = &character.avatar_id {
        avatars::schedule_removal(studio, user_id, avatar_id).await?;
    }
    studio.publish(
        user_id,
        "character",
        id,
        serde_json::json!({ "deleted": true }),
    );
    Ok(())
}

/// Continues a trained avatar's training for 100 credits (about +30 minutes).
pub async fn continue_training(
    studio: &Studio,
    user_id: &str,
    id: &str,
) -> Result<Character, AppError> {
    let character = get(studio, user_id, id).await?;
    let Some(avatar_id) = character
        .avatar_id
        .clone()
        .filter(|_| character.avatar_status == AVATAR_COMPLETED)
    else {
        return Err(AppError::conflict(
            "not_trained",
            "Only a trained avatar can continue training.",
        ));
    };
    // Only one request moves a completed avatar on: a double click asks A2E, and charges, once.
    let seen_at = character.updated_at;
    let claimed = (AVATAR_COMPLETED, AVATAR_TRAINING);
    let Some(claimed_at) = rows::claim_status(&studio.db.pool, id, claimed, seen_at).await? else {
        return Err(AppError::conflict(
            "already_continuing",
            "This avatar's training is already being continued.",
        ));
    };
    let key = format!("continue-training:{id}:{seen_at}");
    let state = match charge_and_continue(studio, user_id, &avatar_id, &key).await {
        Ok(state) => state,
        Err(err) => {
            // The avatar is still trained as it was.
            let back = (AVATAR_TRAINING, AVATAR_COMPLETED);
            rows::claim_status(&studio.db.pool, id, back, claimed_at).await?;
            return Err(err);
        }
    };
    rows::set_avatar_state(&studio.db.pool, id, &state, Some(true)).await?;
    avatars::track(studio, user_id, id).await?;
    let character = get(studio, user_id, id).await?;
    announce(studio, &character);
    Ok(character)
}

/// Holds the price, asks A2E to continue, then settles, or refunds when A2E refuses.
async fn charge_and_continue(
    studio: &Studio,
    user_id: &str,
    avatar_id: &str,
    key: &str,
) -> Result<AvatarState, AppError> {
    let price = CONTINUE_TRAINING_COST;
    credits::reserve(&studio.db, user_id, price, key, "Continue training").await?;
    match avatars::continue_training(studio, avatar_id).await {
        Ok(state) => {
            credits::settle(&studio.db, user_id, key).await?;
            Ok(state)
        }
        Err(err) => {
            credits::refund(&studio.db, user_id, key).await?;
            Err(err)
        }
    }
}

/// Starts a fresh training after a failure, from the same image or video; free.
pub async fn retry_training(
    studio: &Studio,
    user_id: &str,
    id: &str,
) -> Result<Character, AppError> {
    let character = get(studio, user_id, id).await?;
    if character.avatar_status != AVATAR_FAILED {
        return Err(AppError::conflict(
            "not_failed",
            "Only a failed training can be retried.",
        ));
    }
    let source = TrainingSource::of_character(&character)?;
    // Only one request restarts it: a double click starts one training at A2E.
    let claimed = (AVATAR_FAILED, AVATAR_PENDING);
    let Some(claimed_at) =
        rows::claim_status(&studio.db.pool, id, claimed, character.updated_at).await?
    else {
        return Err(AppError::conflict(
            "already_retrying",
            "This training is already being retried.",
        ));
    };
    let gender = character.gender.as_deref();
    let started = avatars::start_training(
        studio,
        &source,
        &character.name,
        &character.prompt,
        gender,
        &character.model_version,
    )
    .await;
    let state = match started {
        Ok(state) => state,
        Err(err) => {
            let back = (AVATAR_PENDING, AVATAR_FAILED);
            rows::claim_status(&studio.db.pool, id, back, claimed_at).await?;
            return Err(err);
        }
    };
    if let Some(old) = &character.avatar_id {
        avatars::schedule_removal(studio, user_id, old).await?;
    }
    rows::set_avatar_state(&studio.db.pool, id, &state, Some(false)).await?;
    avatars::track(studio, user_id, id).await?;
    let character = get(studio, user_id, id).await?;
    announce(studio, &character);
    Ok(character)
}

/// Waits (refreshing from A2E) until the avatar's training ends or `deadline_ms` passes.
pub async fn wait_for_avatar(
    studio: &Studio,
    user_id: &str,
    id: &str,
    deadline_ms: i64,
) -> Result<Character, AppError> {
    let until = now_millis() + deadline_ms;
    loop {
        let character = get(studio, user_id, id).await?;
        if character.avatar_status != AVATAR_TRAINING || now_millis() >= until {
            return Ok(character);
        }
        avatars::refresh(studio, &character).await?;
        tokio::time::sleep(std::time::Duration::from_millis(
            studio.clock.poll_ms as u64,
        ))
        .await;
    }
}
