//! Presets: a trained character's defaults (outfit description, model version, voice, aspect
//! ratio, favourite motion clip) saved under a name, to start a new character or a canvas
//! generation from.

use super::characters::{self, check_details};
use super::error::DomainError;
use super::generations::{check_aspect, check_url};
use super::studio::Studio;
use crate::account_types::Preset;
use crate::store::{self, presets};
use serde::Deserialize;

const MAX_NAME: usize = 60;
const MAX_VOICE: usize = 64;
/// Enough for anyone's favourites; the list is not paged.
pub const MAX_PRESETS: i64 = 100;

/// `POST /api/presets`: the character to save from, and any value to use instead of its own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PresetInput {
    pub name: String,
    #[serde(alias = "characterId")]
    pub character_id: String,
    #[serde(alias = "outfitDescription")]
    pub outfit_description: Option<String>,
    #[serde(alias = "modelVersion")]
    pub model_version: Option<String>,
    pub voice: Option<String>,
    #[serde(alias = "aspectRatio")]
    pub aspect_ratio: Option<String>,
    #[serde(alias = "motionClipUrl")]
    pub motion_clip_url: Option<String>,
}

fn filled(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(DomainError::invalid(
            "invalid_name",
            format!("Give the preset a name of 1 to {MAX_NAME} characters."),
        ));
    }
    Ok(name.to_string())
}

pub(crate) fn check_voice(voice: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(voice) = filled(voice) else {
        return Ok(None);
    };
    let ok = voice.len() <= MAX_VOICE
        && voice
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    match ok {
        true => Ok(Some(voice)),
        false => Err(DomainError::invalid(
            "invalid_voice",
            "A voice is an A2E voice id: letters, digits, '-', '_' or '.', at most 64.",
        )),
    }
}

/// Saves the defaults of one of the user's trained characters as a named preset.
pub async fn create(
    studio: &Studio,
    user_id: &str,
    input: PresetInput,
) -> Result<Preset, DomainError> {
    let name = check_name(&input.name)?;
    if input.character_id.trim().is_empty() {
        return Err(DomainError::invalid(
            "missing_character",
            "Name the trained character to save the preset from (character_id).",
        ));
    }
    let character = characters::get(studio, user_id, input.character_id.trim()).await?;
    if !character.is_trained() {
        return Err(DomainError::conflict(
            "not_trained",
            "Only a trained character's defaults can be saved: wait for its avatar.",
        ));
    }
    // The character's own values unless others are given, checked as at creation.
    let outfit = input
        .outfit_description
        .or(Some(character.outfit_description.clone()));
    let model = input
        .model_version
        .or(Some(character.model_version.clone()));
    let details = check_details(
        String::new(),
        Some(name.clone()),
        outfit,
        model,
        None,
        None,
        false,
    )?;
    let aspect_ratio = match filled(input.aspect_ratio) {
        Some(aspect) => Some(check_aspect(Some(aspect.as_str()))?),
        None => None,
    };
    let motion_clip_url = match filled(input.motion_clip_url) {
        Some(url) => Some(check_url(studio, &url, "motion_clip_url").await?),
        None => None,
    };
    let preset = Preset {
        id: store::new_id(),
        name,
        character_id: Some(character.id.clone()),
        character_name: Some(character.name.clone()),
        outfit_description: details.outfit,
        model_version: details.model_version,
        voice: check_voice(input.voice)?,
        aspect_ratio,
        motion_clip_url,
        created_at: store::now_millis(),
    };
    if presets::count(&studio.db.pool, user_id).await? >= MAX_PRESETS {
        return Err(DomainError::conflict(
            "too_many_presets",
            format!("You have {MAX_PRESETS} presets; delete one before saving another."),
        ));
    }
    if !presets::insert(&studio.db.pool, user_id, &preset).await? {
        return Err(DomainError::conflict(
            "preset_exists",
            "You already have a preset of this name; choose another name.",
        ));
    }
    Ok(preset)
}

pub async fn list(studio: &Studio, user_id: &str) -> Result<Vec<Preset>, DomainError> {
    Ok(presets::list(&studio.db.pool, user_id).await?)
}

pub async fn get(studio: &Studio, user_id: &str, id: &str) -> Result<Preset, DomainError> {
    presets::get(&studio.db.pool, user_id, id)
        .await?
        .ok_or_else(|| DomainError::not_found("Preset"))
}

pub async fn delete(studio: &Studio, user_id: &str, id: &str) -> Result<(), DomainError> {
    match presets::delete(&studio.db.pool, user_id, id).await? {
        true => Ok(()),
        false => Err(DomainError::not_found("Preset")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_voices_are_checked() {
        assert_eq!(check_name("  Rooftop  ").unwrap(), "Rooftop");
        assert!(check_name("   ").is_err());
        assert!(check_name(&"n".repeat(61)).is_err());
        assert_eq!(check_voice(None).unwrap(), None);
        assert_eq!(check_voice(Some(" ".into())).unwrap(), None);
        assert_eq!(
            check_voice(Some("en-US-female-1".into()))
                .unwrap()
                .as_deref(),
            Some("en-US-female-1")
        );
        assert!(check_voice(Some("a voice".into())).is_err());
        assert!(check_voice(Some("x".repeat(65))).is_err());
    }
}
