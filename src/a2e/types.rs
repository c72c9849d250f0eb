//! A2E's records, read leniently: unknown fields ignored, nulls and missing fields defaulted.

use serde::{Deserialize, Deserializer, Serialize};

/// `current_status` of any A2E task (and the lipsync `status` words, mapped onto it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TaskStatus {
    Initialized,
    Sent,
    Pending,
    Processing,
    Completed,
    Failed,
    #[default]
    Unknown,
}

impl TaskStatus {
    pub fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_lowercase().as_str() {
            "initialized" | "init" => Self::Initialized,
            "sent" | "start" => Self::Sent,
            "pending" => Self::Pending,
            "processing" | "process" | "copy" => Self::Processing,
            "completed" | "success" | "done" => Self::Completed,
            "failed" | "fail" | "error" => Self::Failed,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Initialized => "initialized",
            Self::Sent => "sent",
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<serde_json::Value>::deserialize(d)?;
        Ok(match raw {
            Some(serde_json::Value::String(s)) => Self::parse(&s),
            _ => Self::Unknown,
        })
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `null` reads as the type's default, like a missing field.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Text that A2E sometimes sends as a number.
pub(crate) fn loose_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    })
}

/// A text field that may hold something else: anything but a string reads as missing.
pub(crate) fn text_only<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

/// A number that A2E sometimes sends as text.
pub(crate) fn loose_number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or_default(),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or_default(),
        _ => 0.0,
    })
}

pub(crate) fn loose_optional_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<f64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A family of A2E tasks: the calls that start one kind of task and list or look up its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskFamily {
    Text2Image,
    Avatar,
    NanoBanana,
    MotionTransfer,
    Image2Video,
    TalkingPhoto,
    Lipsync,
}

impl TaskFamily {
    pub const ALL: [Self; 7] = [
        Self::Text2Image,
        Self::Avatar,
        Self::NanoBanana,
        Self::MotionTransfer,
        Self::Image2Video,
        Self::TalkingPhoto,
        Self::Lipsync,
    ];

    /// The first path segment after `/api/v1/` of this family's calls.
    pub fn path_prefix(self) -> &'static str {
        match self {
            Self::Text2Image => "userText2Image",
            Self::Avatar => "userVideoTwin",
            Self::NanoBanana => "userNanoBanana",
            Self::MotionTransfer => "motionTransfer",
            Self::Image2Video => "userImage2Video",
            Self::TalkingPhoto => "talkingPhoto",
            Self::Lipsync => "video",
        }
    }
}

/// Any A2E task record: images, avatars, scenes, videos. Each call fills the fields it has.
/// Lipsync records (`video/…`) say `title`, `status` and `result` where the others say `name`,
/// `current_status` and `result_url`: [`Record::normalized`] folds them onto the common fields.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Record {
    #[serde(rename = "_id", deserialize_with = "null_default")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// Lipsync videos carry their name as `title`.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub title: String,
    /// Lipsync's status word (`init/start/pending/process/copy/success/fail`).
    #[serde(rename = "status", skip_serializing)]
    pub lipsync_status: TaskStatus,
    /// Lipsync's result URL.
    #[serde(rename = "result", skip_serializing, deserialize_with = "text_only")]
    pub lipsync_result: Option<String>,
    pub current_status: TaskStatus,
    #[serde(deserialize_with = "loose_text")]
    pub failed_code: Option<String>,
    #[serde(deserialize_with = "loose_text")]
    pub failed_message: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub image_urls: Vec<String>,
    pub result_url: Option<String>,
    pub preview_result_url: Option<String>,
    pub cover_url: Option<String>,
    #[serde(deserialize_with = "loose_optional_number")]
    pub coins: Option<f64>,
    #[serde(rename = "createdAt", deserialize_with = "loose_text")]
    pub created_at: Option<String>,
}

impl Record {
    /// The record with lipsync's own words moved onto the common fields (others unchanged).
    pub fn normalized(mut self) -> Self {
        if self.current_status == TaskStatus::Unknown {
            self.current_status = self.lipsync_status.clone();
        }
        if self.result_url.is_none() {
            self.result_url = self.lipsync_result.take();
        }
        self
    }

    /// The name the task was started with: `name`, or `title` for lipsync videos.
    pub fn task_name(&self) -> &str {
        if self.name.is_empty() {
            &self.title
        } else {
            &self.name
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Balance {
    #[serde(deserialize_with = "loose_number")]
    pub coins: f64,
    #[serde(deserialize_with = "loose_number")]
    pub diamonds: f64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Page {
    #[serde(deserialize_with = "null_default")]
    pub list: Vec<Record>,
    #[serde(deserialize_with = "null_default")]
    pub total: i64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Anchor {
    #[serde(rename = "_id", deserialize_with = "null_default")]
    pub id: String,
    pub user_video_twin_id: Option<String>,
    #[serde(rename = "type", deserialize_with = "loose_text")]
    pub kind: Option<String>,
    pub video_cover: Option<String>,
    pub base_video: Option<String>,
}

/// Poll answer of an avatar lipsync video (`video/awsResult`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct LipsyncResult {
    #[serde(rename = "_id", deserialize_with = "null_default")]
    pub id: String,
    pub status: TaskStatus,
    /// Percent done.
    #[serde(deserialize_with = "loose_number")]
    pub process: f64,
    pub result: Option<String>,
    #[serde(deserialize_with = "loose_text")]
    pub failed_message: Option<String>,
}

// ---- Requests: strict in what we send ----

#[derive(Debug, Clone, Default, Serialize)]
pub struct Text2ImageRequest {
    pub name: String,
    pub prompt: String,
    /// `high_aes_general_v21_L` or `high_aes`.
    pub req_key: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainingRequest {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    /// `male` or `female`.
    pub gender: String,
    /// `V2.1` (default), `V1.0` or `V2.0`.
    pub model_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prompt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub negative_prompt: String,
    /// A2E spells it `video_backgroud_color`; both spellings are sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_backgroud_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_background_color: Option<String>,
    #[serde(rename = "skipPreview", skip_serializing_if = "Option::is_none")]
    pub skip_preview: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NanoBananaRequest {
    pub name: String,
    pub prompt: String,
    pub input_images: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub user_video_twin_ids: Vec<String>,
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MotionTransferRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_video_twin_id: Option<String>,
    pub video_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub positive_prompt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub negative_prompt: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Image2VideoRequest {
    pub name: String,
    pub image_url: String,
    /// Sent with a trained avatar, so A2E keeps its look (field unconfirmed in A2E's reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_video_twin_id: Option<String>,
    pub prompt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub negative_prompt: String,
    /// `GENERAL` or `FLF2V`.
    pub model_type: String,
    /// 5, 10, 15 or 20 seconds.
    pub video_time: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TalkingPhotoRequest {
    pub name: String,
    pub image_url: String,
    pub audio_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub prompt: String,
    pub duration: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LipsyncRequest {
    pub title: String,
    pub anchor_id: String,
    pub anchor_type: i64,
    #[serde(rename = "audioSrc")]
    pub audio_src: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TtsRequest {
    pub msg: String,
    pub tts_id: String,
}
