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
