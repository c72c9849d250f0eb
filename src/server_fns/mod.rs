//! Server functions the UI calls. Thin: they find the caller and call the domain.

pub mod auth;
pub mod canvas;
pub mod characters;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use crate::error::AppError;
    use crate::server::session;
    use crate::server::state::AppState;
    use leptos::prelude::*;
    use tower_sessions::Session;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(AppError::internal)
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>()
            .await
            .map_err(|_| AppError::internal())
    }

    /// Gives a failed server function the HTTP status of its error instead of a blanket 500.
    pub fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let (Err(err), Some(response)) = (&result, use_context::<leptos_axum::ResponseOptions>())
        {
            if let Ok(status) = axum::http::StatusCode::from_u16(err.status) {
                response.set_status(status);
            }
        }
        result
    }

    /// The logged-in user's id, or 401.
    pub async fn user_id() -> Result<String, AppError> {
        session::session_user(&session().await?)
            .await?
            .ok_or_else(AppError::unauthorized)
    }
}
