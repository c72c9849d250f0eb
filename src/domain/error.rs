//! What the studio's rules refuse or meet, as one type. The HTTP and server-function edges turn
//! it into an `AppError` (status, code, message) in one place: `From<DomainError> for AppError`.

use crate::a2e::A2eError;
use crate::error::AppError;
use crate::store::media::MediaError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0} not found.")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("This costs {needed} credits and you have {available}.")]
    InsufficientCredits { needed: i64, available: i64 },
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0}")]
    UnsupportedMedia(String),
    #[error("Wrong email or password.")]
    WrongCredentials,
    /// Our own failure (the cause is logged where it happened, never shown).
    #[error("internal error")]
    Internal,
    /// A2E turned the work down after accepting the request (e.g. a continue it refused).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    A2e(#[from] A2eError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl DomainError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound(what)
    }
}

impl From<DomainError> for AppError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound(what) => AppError::not_found(what),
            DomainError::Conflict { code, message } => AppError::conflict(code, message),
            e @ DomainError::InsufficientCredits { .. } => {
                AppError::payment_required(e.to_string())
            }
            DomainError::Invalid { code, message } => AppError::bad_request(code, message),
            DomainError::UnsupportedMedia(message) => {
                AppError::new(415, "unsupported_media_type", message)
            }
            DomainError::WrongCredentials => {
                AppError::new(401, "invalid_credentials", "Wrong email or password.")
            }
            DomainError::Internal => AppError::internal(),
            DomainError::Refused(message) => AppError::new(422, "a2e_refused", message),
            DomainError::A2e(err) => {
                tracing::warn!(error = %err, "A2E call failed");
                AppError::new(err.http_status(), err.code(), err.user_message())
            }
            DomainError::Media(err) => err.into(),
            DomainError::Database(err) => err.into(),
        }
    }
}
