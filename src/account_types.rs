//! What the account pages and the JSON API share (compiled for the server and the browser):
//! ledger entries, presets and A2E avatars that can be imported.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    /// `grant`, `reserve`, `settle` or `refund`.
    pub kind: String,
    /// Credits added (positive) or held (negative); a settle moves nothing (0).
    pub amount: i64,
    /// In words: what happened and for what.
    pub description: String,
    pub created_at: i64,
    /// The character or generation the credits were for (`None` for grants).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<Subject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// `character` or `generation`.
    pub kind: String,
    pub id: String,
    /// Its name now; `None` once it was deleted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// The studio page that shows it; `None` once it was deleted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub link: Option<String>,
}

/// One page, and the cursor of the next when there is more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerPage {
    pub entries: Vec<LedgerEntry>,
    pub next_cursor: Option<String>,
}

/// The credits page's heading: the user's balance, and the operator's A2E coins when the
/// studio runs on a real A2E key and A2E answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditSummary {
    pub balance: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub a2e: Option<A2eCoins>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct A2eCoins {
    pub coins: f64,
    pub diamonds: f64,
}

/// A named set of defaults saved from a trained character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub id: String,
    pub name: String,
    /// The character it was saved from; `None` once that character was deleted.
    pub character_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub character_name: Option<String>,
    pub outfit_description: String,
    pub model_version: String,
    pub voice: Option<String>,
    pub aspect_ratio: Option<String>,
    pub motion_clip_url: Option<String>,
    pub created_at: i64,
}

/// An avatar of the studio's A2E account, as the import section lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportableAvatar {
    pub avatar_id: String,
    pub name: String,
    /// A2E's status word (`completed`, `processing`, `failed`, …).
    pub status: String,
    /// A2E's picture of it (expires after a few days; a kept copy is made on import).
    pub cover_url: Option<String>,
    pub created_at: Option<String>,
    /// Already one of the caller's characters.
    pub imported: bool,
    /// The character it is, once imported.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub character_id: Option<String>,
    /// Whether it can be adopted now (trained, and not yet imported).
    pub importable: bool,
}
