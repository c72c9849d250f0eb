//! Who is calling: the session cookie (browser) or a personal API token (scripts).

use super::state::AppState;
use crate::domain::{accounts, tokens};
use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::{header::AUTHORIZATION, request::Parts};
use tower_sessions::Session;

const USER_KEY: &str = "user_id";
/// When the session logged in (ms): it ends at `SESSION_MAX_DAYS` whatever its activity.
const SINCE_KEY: &str = "since";
/// When the session was last renewed (ms). tower-sessions saves only a changed session, and only
/// a save pushes its inactivity expiry (and its cookie's) forward: without a change now and then,
/// a session in daily use would still end its inactivity period after logging in.
const RENEWED_KEY: &str = "renewed";
/// How often a session in use is renewed: one write a day, not one a request.
const RENEW_EVERY_MS: i64 = 24 * 3600 * 1000;

/// Starts a fresh session for the user (a new id, so a planted cookie cannot be reused).
pub async fn log_in(session: &Session, user_id: &str) -> Result<(), AppError> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(SINCE_KEY, crate::store::now_millis())
        .await
        .map_err(session_error)?;
    session
        .insert(USER_KEY, user_id)
        .await
        .map_err(session_error)
}

pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(session_error)
}

/// The user id of the session, if it is logged in and younger than `max_age_ms`; an older
/// one is ended here.
pub async fn session_user(session: &Session, max_age_ms: i64) -> Result<Option<String>, AppError> {
    let since = session.get::<i64>(SINCE_KEY).await.map_err(session_error)?;
    if since.is_none_or(|at| crate::store::now_millis() - at > max_age_ms) {
        if session
            .get::<String>(USER_KEY)
            .await
            .map_err(session_error)?
            .is_some()
        {
            log_out(session).await?;
        }
        return Ok(None);
    }
    let user = session
        .get::<String>(USER_KEY)
        .await
        .map_err(session_error)?;
    if user.is_some() {
        renew_if_due(session, since.unwrap_or_default()).await?;
    }
    Ok(user)
}

/// Marks a session in use as changed once a day, so it is saved with a fresh expiry.
async fn renew_if_due(session: &Session, since: i64) -> Result<(), AppError> {
    let now = crate::store::now_millis();
    let renewed = session
        .get::<i64>(RENEWED_KEY)
        .await
        .map_err(session_error)?;
    if now - renewed.unwrap_or(since) >= RENEW_EVERY_MS {
        session
            .insert(RENEWED_KEY, now)
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

fn session_error(err: tower_sessions::session::Error) -> AppError {
    tracing::error!(error = %err, "session store error");
    AppError::unavailable("Your session could not be read. Please try again.")
}

/// The authenticated caller of a JSON route.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    /// The user's count of changes to listed rows, read with the account check: a list kept
    /// at this count needs no read of its own (see `store::change_count`).
    pub lists_version: i64,
    /// What proved it: long-lived answers (event streams) check it is still valid.
    pub credential: Credential,
}

#[derive(Debug, Clone)]
pub enum Credential {
    Session(tower_sessions::session::Id),
    /// The token's hash (never the token itself).
    Token(String),
}

impl Credential {
    /// Whether the log-in or token still stands (not logged out, expired or revoked).
    pub async fn still_valid(&self, state: &AppState) -> bool {
        use tower_sessions::SessionStore;
        match self {
            Self::Session(id) => {
                let Ok(Some(record)) = state.sessions.load(id).await else {
                    return false;
                };
                let user = record.data.get(USER_KEY).and_then(|v| v.as_str());
                let since = record.data.get(SINCE_KEY).and_then(|v| v.as_i64());
                match (user, since) {
                    (Some(user), Some(since)) => {
                        let session_id = id.to_string();
                        accounts::session_standing(&state.studio.db, user, since, &session_id)
                            .await
                            .is_ok_and(|u| u.is_some())
                    }
                    _ => false,
                }
            }
            Self::Token(hash) => tokens::user_for_hash(&state.studio.db, hash)
                .await
                .ok()
                .flatten()
                .is_some(),
        }
    }
}

/// The caller, found at most once per request: the edge's limits, the handler and every server
/// function a page renders with share it, instead of each reading the session and the account
/// again. Only a found caller is kept (a refusal is looked at again).
#[derive(Clone, Default)]
pub struct KnownCaller(std::sync::Arc<tokio::sync::OnceCell<CurrentUser>>);

/// Gives every request its (empty) [`KnownCaller`].
pub async fn know_caller(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    req.extensions_mut().insert(KnownCaller::default());
    next.run(req).await
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match parts.extensions.get::<KnownCaller>().cloned() {
            Some(known) => known
                .0
                .get_or_try_init(|| find_caller(parts, state))
                .await
                .cloned(),
            None => find_caller(parts, state).await,
        }
    }
}

async fn find_caller(parts: &mut Parts, state: &AppState) -> Result<CurrentUser, AppError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        return bearer_user(header.to_str().unwrap_or_default(), state).await;
    }
    let session = Session::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::unauthorized())?;
    let max_age_ms = state.config.session_max_days as i64 * 24 * 3600 * 1000;
    let id = session_user(&session, max_age_ms)
        .await?
        .ok_or_else(AppError::unauthorized)?;
    // A session can outlive its account, a password change that ended it, or (a copy kept in
    // memory) a log-out by another instance: either way it is logged out (for good: its record
    // is emptied).
    let session_id = session.id().ok_or_else(AppError::unauthorized)?;
    let since = session.get::<i64>(SINCE_KEY).await.map_err(session_error)?;
    let since = since.unwrap_or_default();
    let key = session_id.to_string();
    match accounts::session_standing(&state.studio.db, &id, since, &key).await? {
        Some(lists_version) => Ok(CurrentUser {
            id,
            lists_version,
            credential: Credential::Session(session_id),
        }),
        None => {
            log_out(&session).await?;
            Err(AppError::unauthorized())
        }
    }
}

async fn bearer_user(header: &str, state: &AppState) -> Result<CurrentUser, AppError> {
    let invalid = || {
        AppError::new(
            401,
            "invalid_token",
            "The API token is missing, malformed or revoked.",
        )
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(invalid)?;
    let (id, lists_version) = tokens::authenticate(&state.studio.db, token)
        .await?
        .ok_or_else(invalid)?;
    Ok(CurrentUser {
        id,
        lists_version,
        credential: Credential::Token(tokens::hash(token)),
    })
}
