//! Which requests the edge limits, and how: log-in and sign-up (per address and per email, and
//! the closed sign-up gate), paid requests (per user, with idempotency keys on the JSON API) and
//! avatar-status polls (per user).

use super::client_ip::ClientIp;
use super::limits::Limits;
use super::{idempotency, refuse};
use crate::error::AppError;
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::server_fns;
use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::ServerFn;
use std::sync::Arc;

pub const SERVER_FN_PREFIX: &str = "/sfn/";

pub fn is_server_fn(path: &str) -> bool {
    path.starts_with(SERVER_FN_PREFIX)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Log-in or sign-up.
    Login { signup: bool },
    /// Spends credits or starts A2E work. `idempotent`: honours `Idempotency-Key` (JSON API).
    Paid { idempotent: bool },
    /// Reads an avatar's training status from A2E.
    Poll,
}

/// Server functions the UI calls for paid work.
const PAID_SERVER_FNS: &[&str] = &[
    server_fns::canvas::GenerateScene::PATH,
    server_fns::canvas::Animate::PATH,
    server_fns::canvas::TransferMotion::PATH,
    server_fns::canvas::Lipsync::PATH,
    server_fns::canvas::Fight::PATH,
    server_fns::canvas::RetryGeneration::PATH,
    server_fns::library::RemakeGeneration::PATH,
    server_fns::characters::CreateCharacter::PATH,
    server_fns::characters::ContinueTraining::PATH,
    server_fns::characters::RetryTraining::PATH,
];

/// Server functions that check the account's password: limited like log-ins.
const PASSWORD_SERVER_FNS: &[&str] = &[
    server_fns::account::ChangePassword::PATH,
    server_fns::account::DeleteAccount::PATH,
];

pub fn classify(method: &Method, path: &str) -> Option<Class> {
    let post = method == Method::POST;
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    // Routes that check the current password count as log-in attempts (guessing it is one).
    let password_check = match segments.as_slice() {
        ["api", "me", "password"] => post,
        ["api", "me"] => method == Method::DELETE,
        _ => post && PASSWORD_SERVER_FNS.contains(&path),
    };
    if password_check {
        return Some(Class::Login { signup: false });
    }
    match (post, segments.as_slice()) {
        (true, ["api", "auth", "login"]) => Some(Class::Login { signup: false }),
        (true, ["api", "auth", "signup"]) => Some(Class::Login { signup: true }),
        (_, ["api", "a2e", "avatar-status"]) if post || method == Method::GET => Some(Class::Poll),
        (
            true,
            ["api", "a2e", "character" | "nanobanana" | "motion-transfer" | "i2v" | "lipsync" | "fight-sequence"]
            | ["api", "characters"]
            | ["api", "characters", _, "continue-training" | "retry-training"]
            | ["api", "generations", _, "retry" | "remake"],
        ) => Some(Class::Paid { idempotent: true }),
        (true, _) if path == server_fns::auth::LogIn::PATH => Some(Class::Login { signup: false }),
        (true, _) if path == server_fns::auth::SignUp::PATH => Some(Class::Login { signup: true }),
        (true, _) if PAID_SERVER_FNS.contains(&path) => Some(Class::Paid { idempotent: false }),
        _ => None,
    }
}

pub async fn middleware(
    state: AppState,
    limits: Arc<Limits>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let Some(class) = classify(req.method(), &path) else {
        return next.run(req).await;
    };
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    match class {
        Class::Login { signup } => {
            if signup && !state.config.signup_open() {
                return refuse(&path, signup_closed(), None);
            }
            limits.login(ip, req, next).await
        }
        Class::Paid { idempotent } => {
            let (req, user) = user_of(req, &state).await;
            let Some(user) = user else {
                return next.run(req).await; // the handler answers 401
            };
            if let Err(wait) = limits.paid.check(&user.id) {
                return refuse(&path, limits.paid.refusal("paid requests"), Some(wait));
            }
            match idempotent {
                true => idempotency::run(&state.studio.db, &user.id, req, next).await,
                false => next.run(req).await,
            }
        }
        Class::Poll => {
            let (req, user) = user_of(req, &state).await;
            if let Some(user) = user {
                if let Err(wait) = limits.poll.check(&user.id) {
                    return refuse(&path, limits.poll.refusal("status checks"), Some(wait));
                }
            }
            next.run(req).await
        }
    }
}

fn signup_closed() -> AppError {
    AppError::new(
        403,
        "signup_closed",
        "Sign-up is closed on this studio. Ask its operator to create an account for you.",
    )
}

/// The caller, when the request is authenticated (the handler reports it otherwise).
async fn user_of(req: Request, state: &AppState) -> (Request, Option<CurrentUser>) {
    let (mut parts, body) = req.into_parts();
    let user = CurrentUser::from_request_parts(&mut parts, state)
        .await
        .ok();
    (Request::from_parts(parts, body), user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_classified() {
        let paid = Some(Class::Paid { idempotent: true });
        for path in [
            "/api/a2e/character",
            "/api/a2e/nanobanana",
            "/api/a2e/i2v",
            "/api/characters",
            "/api/characters/abc/continue-training",
            "/api/generations/abc/retry",
            "/api/generations/abc/remake",
        ] {
            assert_eq!(classify(&Method::POST, path), paid, "{path}");
        }
        assert_eq!(classify(&Method::GET, "/api/characters"), None);
        assert_eq!(classify(&Method::POST, "/api/generations/abc/cancel"), None);
        assert_eq!(
            classify(&Method::GET, "/api/a2e/avatar-status"),
            Some(Class::Poll)
        );
        assert_eq!(
            classify(&Method::POST, server_fns::auth::LogIn::PATH),
            Some(Class::Login { signup: false })
        );
        assert_eq!(
            classify(&Method::POST, server_fns::canvas::GenerateScene::PATH),
            Some(Class::Paid { idempotent: false })
        );
        assert!(is_server_fn(server_fns::auth::SignUp::PATH));
        let login = Some(Class::Login { signup: false });
        assert_eq!(classify(&Method::POST, "/api/me/password"), login);
        assert_eq!(classify(&Method::DELETE, "/api/me"), login);
        assert_eq!(classify(&Method::GET, "/api/me"), None);
        assert_eq!(
            classify(&Method::POST, server_fns::account::DeleteAccount::PATH),
            login
        );
    }
}
