//! Server functions the UI calls. Thin: they find the caller and call the domain.

pub mod account;
pub mod auth;
pub mod canvas;
pub mod characters;
pub mod library;

#[cfg(feature = "ssr")]
pub(crate) mod context {
    use crate::error::AppError;
    pub use crate::server::kept_pages::{tell_page, Shown};
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

    /// Gives a failed server function the HTTP status of its error instead of a blanket 500
    /// (and keeps a page that shows the error from being kept).
    pub fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            tell_page(Shown::not_counted);
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                if let Ok(status) = axum::http::StatusCode::from_u16(err.status) {
                    response.set_status(status);
                }
            }
        }
        result
    }

    /// After a plain HTML form post (the page's script had not loaded) succeeds, the browser
    /// goes to `path` rather than back to the form's page, as the script would have navigated
    /// (e.g. from the log-in form to the canvas). Calls from the script are left alone: they
    /// navigate by themselves.
    pub fn after_plain_form_post_go_to(path: &str) {
        let plain = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        if plain {
            leptos_axum::redirect(path);
        }
    }

    /// Runs a server function's domain work for the calling user (found by the JSON API's
    /// extractor), answering with its error's HTTP status. A page that renders with it is not
    /// kept (see `server::kept_pages`): reads of counted rows use [`read_counted`].
    pub async fn for_user<T, E, F, Fut>(work: F) -> Result<T, AppError>
    where
        F: FnOnce(crate::domain::studio::Studio, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: Into<AppError>,
    {
        tell_page(Shown::not_counted);
        read(work).await
    }

    /// [`for_user`] for a read of the user's rows that their count of changes follows
    /// (`store::change_count`): a page that renders with it may be kept while the count stands,
    /// unless the answer changes with time.
    pub async fn read_counted<T, E, F, Fut>(work: F) -> Result<T, AppError>
    where
        T: crate::models::ChangesWithTime,
        F: FnOnce(crate::domain::studio::Studio, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: Into<AppError>,
    {
        let answer = read(work).await?;
        if answer.changes_with_time() {
            tell_page(Shown::not_counted);
        }
        Ok(answer)
    }

    async fn read<T, E, F, Fut>(work: F) -> Result<T, AppError>
    where
        F: FnOnce(crate::domain::studio::Studio, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
        E: Into<AppError>,
    {
        let result = async {
            let (state, user) = (state()?, caller_id().await?);
            work(state.studio.clone(), user).await.map_err(Into::into)
        }
        .await;
        answer(result)
    }

    /// The caller's user id, or 401 (see [`caller_id`]). A page that renders with it is not
    /// kept: what the caller reads with it is not known to be counted.
    pub async fn user_id() -> Result<String, AppError> {
        tell_page(Shown::not_counted);
        caller_id().await
    }

    /// The caller's user id, or 401: the same extractor as the JSON API (session cookie or
    /// Bearer token, and a session whose account is gone counts as logged out).
    pub async fn caller_id() -> Result<String, AppError> {
        use axum::extract::FromRequestParts;
        let state = state()?;
        let mut parts =
            use_context::<axum::http::request::Parts>().ok_or_else(AppError::internal)?;
        let user =
            crate::server::session::CurrentUser::from_request_parts(&mut parts, &state).await?;
        Ok(user.id)
    }
}
