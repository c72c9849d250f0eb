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
