//! The account's own routes: the itemised ledger, the credit summary, password change and
//! deleting the account.

use super::json::ApiJson;
use super::lists::{list_answer, pairs, query_value};
use crate::account_types::CreditSummary;
use crate::domain::error::DomainError;
use crate::domain::{accounts, closing, ledger};
use crate::error::AppError;
use crate::models::Page;
use crate::server::session::{self, Credential, CurrentUser};
use crate::server::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use tower_sessions::Session;

/// `GET /api/ledger?limit=&cursor=`: the caller's ledger entries, newest first.
#[utoipa::path(get, path = "/api/ledger", tag = "account", params(("limit" = Option<u32>, Query, description = "1–200, default 50"), ("cursor" = Option<String>, Query, description = "From the Link header")), responses((status = 200, description = "Ledger entries, newest first; `Link: <…>; rel=\"next\"` when there is more", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn ledger(
    State(state): State<AppState>,
    user: CurrentUser,
    uri: Uri,
) -> Result<Response, AppError> {
    let all = pairs(&uri);
    let limit = ledger::check_limit(query_value(&all, "limit"))?;
    let cursor = query_value(&all, "cursor");
    let read = async {
        let page = ledger::page(&state.studio.db, &user.id, limit, cursor).await?;
        let (items, next_cursor) = (page.entries, page.next_cursor);
        Ok::<_, DomainError>(Page { items, next_cursor })
    };
    list_answer(&state, &user, &uri, read).await
}

/// `GET /api/credits`: the caller's balance and, with a real A2E key, A2E's remaining coins.
#[utoipa::path(get, path = "/api/credits", tag = "account", responses((status = 200, description = "`{balance, a2e?: {coins, diamonds}}`", body = Object), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody)))]
pub async fn credits(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<CreditSummary>, AppError> {
    let demo = state.config.demo_mode();
    Ok(Json(ledger::summary(&state.studio, &user.id, demo).await?))
}

#[derive(Deserialize)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/me/password {current_password, new_password}`: every other session ends; the
/// caller's own session (if it is one) stays logged in; API tokens stay valid.
#[utoipa::path(post, path = "/api/me/password", tag = "account", request_body(content = Object, description = "`{current_password, new_password}`"), responses((status = 200, description = "Changed; every other session ended", body = Object), (status = 400, description = "Invalid input", body = super::openapi::ErrorBody), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, wrong password)", body = super::openapi::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Json<serde_json::Value>, AppError> {
    let db = &state.studio.db;
    accounts::change_password(db, &user.id, &body.current_password, &body.new_password).await?;
    if matches!(user.credential, Credential::Session(_)) {
        // A fresh session id and log-in time: this one is the only session that goes on.
        session::log_in(&session, &user.id).await?;
    }
    Ok(Json(
        serde_json::json!({ "ok": true, "other_sessions_ended": true }),
    ))
}

#[derive(Deserialize)]
pub struct AccountDeletion {
    password: String,
}

/// `DELETE /api/me {password}`: deletes the account with all its data, media and A2E avatars.
#[utoipa::path(delete, path = "/api/me", tag = "account", request_body(content = Object, description = "`{password}`"), responses((status = 204, description = "Deleted with all its data, media and A2E avatars"), (status = 401, description = "Not logged in", body = super::openapi::ErrorBody), (status = 403, description = "Refused (CSRF, wrong password)", body = super::openapi::ErrorBody)))]
pub async fn delete_me(
    State(state): State<AppState>,
    user: CurrentUser,
    session: Session,
    ApiJson(body): ApiJson<AccountDeletion>,
) -> Result<StatusCode, AppError> {
    closing::delete_account(&state.studio, &user.id, &body.password).await?;
    session::log_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}
