//! What can go wrong with A2E, in words a user (or the operator) can act on.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum A2eError {
    #[error("A2E refused the API key")]
    BadKey,
    #[error("the A2E account has not enough balance")]
    InsufficientBalance,
    #[error("A2E's content moderation refused the request: {reason}")]
    Moderation { reason: String },
    #[error("A2E refused the input: {message}")]
    BadInput { message: String },
    #[error("A2E does not know this id")]
    NotFound,
    #[error("A2E is rate limiting us")]
    RateLimited { retry_after: Option<Duration> },
    #[error("A2E is unavailable: {detail}")]
    Unavailable { detail: String },
    #[error("A2E sent an answer we could not read: {detail}")]
    Malformed { detail: String },
}

impl A2eError {
    /// A message safe to show in the browser.
    pub fn user_message(&self) -> String {
        match self {
            Self::BadKey => {
                "The studio's A2E key was refused. The operator must set a valid A2E_API_KEY."
                    .into()
            }
            Self::InsufficientBalance => {
                "The studio's A2E account is out of balance. The operator must top it up.".into()
            }
            Self::Moderation { reason } => {
                format!("A2E's content rules refused this request: {reason}")
            }
            Self::BadInput { message } => format!("A2E refused the input: {message}"),
            Self::NotFound => "A2E does not know this item (it may have been removed).".into(),
            Self::RateLimited { .. } => {
                "A2E is busy right now. Please try again in a minute.".into()
            }
            Self::Unavailable { .. } => {
                "A2E is unavailable right now. Please try again shortly.".into()
            }
            Self::Malformed { .. } => {
                "A2E sent an answer the studio could not read. Please try again.".into()
            }
        }
    }

    /// The status the studio answers with when this error ends a request.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadKey | Self::InsufficientBalance | Self::Unavailable { .. } => 503,
            Self::Moderation { .. } => 422,
            Self::BadInput { .. } => 400,
            Self::NotFound => 404,
            Self::RateLimited { .. } => 429,
            Self::Malformed { .. } => 502,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadKey => "a2e_bad_key",
            Self::InsufficientBalance => "a2e_insufficient_balance",
            Self::Moderation { .. } => "a2e_moderation",
            Self::BadInput { .. } => "a2e_bad_input",
            Self::NotFound => "a2e_not_found",
            Self::RateLimited { .. } => "a2e_rate_limited",
            Self::Unavailable { .. } => "a2e_unavailable",
            Self::Malformed { .. } => "a2e_malformed",
        }
    }

    /// Worth another try by the transport (never for calls that may have started paid work).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable { .. })
    }

    /// Maps an A2E failure (HTTP status and/or envelope code with its text) to an error.
    pub fn from_answer(http_status: u16, code: i64, message: String) -> Self {
        let moderation = code == 1003 || code == 1004;
        match http_status {
            401 => Self::BadKey,
            402 => Self::InsufficientBalance,
            403 => Self::Moderation { reason: message },
            404 => Self::NotFound,
            429 => Self::RateLimited { retry_after: None },
            500..=599 => Self::Unavailable {
                detail: format!("HTTP {http_status}"),
            },
            _ if moderation => Self::Moderation { reason: message },
            _ => Self::BadInput { message },
        }
    }
}
