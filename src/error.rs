//! The one error type every layer answers with: the JSON API renders it as
//! `{"error":{"code","message"}}` with its status, the UI shows its message.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "Please log in first.")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(404, "not_found", format!("{what} not found."))
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }

    pub fn payment_required(message: impl Into<String>) -> Self {
        Self::new(402, "insufficient_credits", message)
    }

    /// For failures that are ours, not the caller's; the cause goes to the log, not to the user.
    pub fn internal() -> Self {
        Self::new(
            500,
            "internal",
            "Something went wrong on our side. Please try again.",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "unavailable", message)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(msg) | E::Deserialization(msg) => Self::bad_request("bad_request", msg),
            E::Request(_) | E::Response(_) => Self::unavailable(
                "The server could not be reached. Check your connection and try again.",
            ),
            other => Self::new(500, "server_fn", other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::AppError;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({
                "error": { "code": self.code, "message": self.message }
            });
            (status, axum::Json(body)).into_response()
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            tracing::error!(error = %err, "database error");
            match err {
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
                    AppError::unavailable("The database is busy or unreachable. Please retry.")
                }
                _ => AppError::internal(),
            }
        }
    }
}
