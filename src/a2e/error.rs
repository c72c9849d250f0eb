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
    /// Certainly not processed: A2E could not be reached, or answered 503 before any work.
    #[error("A2E is unavailable: {detail}")]
    Unavailable { detail: String },
    /// The request may have reached A2E and taken effect, but its answer was lost (a timeout
    /// after sending, a connection dropped while waiting, HTTP 500/502/504). A start that ends
    /// so must be looked up (by its name), never repeated blindly.
    #[error("A2E's answer was lost: {detail}")]
    OutcomeUnknown { detail: String },
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
            Self::OutcomeUnknown { .. } => {
                "A2E did not answer in time. The studio is checking whether the request went through."
                    .into()
            }
            Self::Malformed { .. } => {
                "A2E sent an answer the studio could not read. Please try again.".into()
            }
        }
    }

    /// The status the studio answers with when this error ends a request.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadKey
            | Self::InsufficientBalance
            | Self::Unavailable { .. }
            | Self::OutcomeUnknown { .. } => 503,
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
            Self::OutcomeUnknown { .. } => "a2e_outcome_unknown",
            Self::Malformed { .. } => "a2e_malformed",
        }
    }

    /// Certainly not processed by A2E: sending the same call again cannot start work twice.
    pub fn not_started(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable { .. })
    }

    /// Worth another try later (reads and polls). For a start, only [`Self::not_started`]
    /// errors may be retried: an `OutcomeUnknown` start must be looked up first.
    pub fn is_transient(&self) -> bool {
        self.not_started() || matches!(self, Self::OutcomeUnknown { .. })
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
            // 503 is refused at the door; any other 5xx may come after the work began.
            503 => Self::Unavailable {
                detail: "HTTP 503".into(),
            },
            500..=599 => Self::OutcomeUnknown {
                detail: format!("HTTP {http_status}"),
            },
            _ if moderation => Self::Moderation { reason: message },
            _ => Self::BadInput { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16) -> A2eError {
        A2eError::from_answer(status, 0, "x".into())
    }

    #[test]
    fn only_a_refusal_before_any_work_counts_as_not_started() {
        assert!(matches!(answered(503), A2eError::Unavailable { .. }));
        for status in [500, 502, 504] {
            let err = answered(status);
            assert!(matches!(err, A2eError::OutcomeUnknown { .. }), "{status}");
            assert!(!err.not_started() && err.is_transient(), "{status}");
            assert_eq!(
                (err.http_status(), err.code()),
                (503, "a2e_outcome_unknown")
            );
        }
        assert!(answered(429).not_started());
        assert!(answered(503).not_started());
    }

    #[test]
    fn refusals_that_another_try_cannot_fix_are_not_transient() {
        for err in [
            answered(401),
            answered(402),
            answered(403),
            answered(400),
            answered(404),
        ] {
            assert!(!err.is_transient() && !err.not_started(), "{err:?}");
        }
        let malformed = A2eError::Malformed { detail: "x".into() };
        assert!(!malformed.is_transient());
    }
}
