//! Sign-up, log-in, log-out and the session summary the header shows.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What every page needs to know about the visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub user: Option<UserSummary>,
    pub demo_mode: bool,
    /// `SIGNUP=open`: anyone may make an account.
    pub signup_open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub credits: i64,
}

#[server(prefix = "/sfn")]
pub async fn load_session() -> Result<SessionInfo, AppError> {
    use super::context;
    use crate::domain::accounts;
    let state = context::state()?;
    let demo_mode = state.config.demo_mode();
    // The account and its balance: counted (every change to credits writes the ledger).
    let user = match context::caller_id().await {
        Ok(id) => {
            let found = accounts::find_with_credits(&state.studio.db, &id).await;
            context::answer(found.map_err(AppError::from))?
        }
        Err(_) => None,
    };
    let user = user.map(|(u, credits)| UserSummary {
        id: u.id,
        email: u.email,
        credits,
    });
    Ok(SessionInfo {
        user,
        demo_mode,
        signup_open: state.config.signup_open(),
    })
}

#[server(prefix = "/sfn")]
pub async fn sign_up(email: String, password: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::accounts;
    // A refusal (a taken email, a short password) answers with its own status, not a 500.
    context::answer(
        async {
            let state = context::state()?;
            let user = accounts::sign_up(
                &state.studio.db,
                &email,
                &password,
                state.config.signup_credits,
            )
            .await?;
            crate::server::session::log_in(&context::session().await?, &user.id).await?;
            context::after_plain_form_post_go_to("/");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/sfn")]
pub async fn log_in(email: String, password: String) -> Result<(), AppError> {
    use super::context;
    use crate::domain::accounts;
    context::answer(
        async {
            let state = context::state()?;
            let user = accounts::log_in(&state.studio.db, &email, &password).await?;
            crate::server::session::log_in(&context::session().await?, &user.id).await?;
            context::after_plain_form_post_go_to("/");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/sfn")]
pub async fn log_out() -> Result<(), AppError> {
    use super::context;
    crate::server::session::log_out(&context::session().await?).await?;
    context::after_plain_form_post_go_to("/login");
    Ok(())
}

/// A new personal API token for scripts; the secret is returned only this once.
#[server(prefix = "/sfn")]
pub async fn create_api_token(name: String) -> Result<String, AppError> {
    use super::context;
    context::answer(
        async {
            let state = context::state()?;
            let user_id = context::user_id().await?;
            let token =
                crate::domain::tokens::create(&state.studio.db, &user_id, Some(&name)).await?;
            Ok(token.token)
        }
        .await,
    )
}
