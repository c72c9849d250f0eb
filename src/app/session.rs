//! The visitor's session, shared by every page: who is logged in, their credits, demo mode.

use crate::error::AppError;
use crate::server_fns::auth::{load_session, SessionInfo, UserSummary};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub info: Resource<Result<SessionInfo, AppError>>,
    version: RwSignal<u32>,
}

impl SessionCtx {
    /// Reloads the session (after log-in, log-out, or anything that changes credits).
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }

    /// The logged-in user, once known.
    pub fn user(&self) -> Option<UserSummary> {
        self.info.get().and_then(Result::ok).and_then(|i| i.user)
    }
}

pub fn provide_session() {
    let version = RwSignal::new(0u32);
    let info = Resource::new(move || version.get(), |_| load_session());
    provide_context(SessionCtx { info, version });
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}
