//! Data shared by the server and the browser: what the API and the UI show of a character.

use serde::{Deserialize, Serialize};

/// A character reference as the API answers it (snake_case) and the UI renders it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Character {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prompt: String,
    pub outfit_description: String,
    pub image_url: Option<String>,
    pub video_url: Option<String>,
    pub source: String,
    pub gender: Option<String>,
    pub avatar_id: Option<String>,
    pub avatar_status: String,
    pub avatar_error: Option<String>,
    pub avatar_progress: Option<i64>,
    pub eta_seconds: Option<i64>,
    pub training_started_at: Option<i64>,
    pub preview_url: Option<String>,
    pub model_version: String,
    pub training_kind: String,
    pub continued: bool,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Character {
    pub fn is_trained(&self) -> bool {
        self.avatar_status == AVATAR_COMPLETED && self.avatar_id.is_some()
    }
}

pub const AVATAR_PENDING: &str = "pending";
pub const AVATAR_TRAINING: &str = "training";
pub const AVATAR_COMPLETED: &str = "completed";
pub const AVATAR_FAILED: &str = "failed";

/// Credits charged for generating a character's portrait.
pub const CHARACTER_IMAGE_COST: i64 = 2;
/// Credits charged for continuing a trained avatar's training (about +30 minutes).
pub const CONTINUE_TRAINING_COST: i64 = 100;

/// How a character was sent to A2E for one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Reference {
    pub name: String,
    /// "avatar" (its trained avatar id) or "image" (its picture's URL).
    pub via: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub character_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub avatar_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image_url: Option<String>,
}

/// A generation as the API answers it and the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub id: String,
    #[serde(skip_serializing)]
    #[serde(default)]
    pub user_id: String,
    pub kind: String,
    pub status: String,
    pub progress: i64,
    pub inputs: serde_json::Value,
    pub references: Vec<Reference>,
    /// A2E work in flight; for fight sequences, `steps` with each move's state.
    pub work: serde_json::Value,
    pub result_urls: Vec<String>,
    pub error: Option<String>,
    pub cost: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Generation {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

/// Credits per kind of generation (fight sequences: per move), shown before submitting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    pub scene: i64,
    pub motion_transfer: i64,
    pub image_to_video: i64,
    pub lipsync: i64,
    pub fight_move: i64,
}
