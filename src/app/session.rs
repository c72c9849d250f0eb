//! The visitor's session, shared by every page: who is logged in, their credits, demo mode.
//!
//! The session resource reloads only when someone logs in or out. Credits move far more often
//! (every live event may change them); they are fetched into a signal of their own, so pages
//! are never re-rendered (and lose their state) for a new balance. Boundaries await the resource
//! in `Suspend` rather than reading it with `.get()`: reading one resource in several
//! `<Transition>`s can stall the server-rendered stream (leptos-rs/leptos#4578, #4851).

use crate::app::loaded::{load, Loaded};
use crate::error::AppError;
use crate::server_fns::auth::{load_session, SessionInfo, UserSummary};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub info: Loaded<Result<SessionInfo, AppError>>,
    version: RwSignal<u32>,
    /// The balance fetched since the session loaded (`None`: the session's own is current).
    credits: RwSignal<Option<i64>>,
}

impl SessionCtx {
    /// Reloads the whole session (after log-in or log-out).
    pub fn refresh(&self) {
        self.credits.set(None);
        self.version.update(|v| *v += 1);
    }

    /// Fetches the balance again (after anything that may move credits).
    pub fn refresh_credits(&self) {
        #[cfg(feature = "hydrate")]
        {
            let credits = self.credits;
            leptos::task::spawn_local(async move {
                if let Ok(info) = load_session().await {
                    credits.set(info.user.map(|u| u.credits));
                }
            });
        }
    }

    /// The balance to show, given the one the session loaded with.
    pub fn credits_or(&self, loaded: i64) -> i64 {
        self.credits.get().unwrap_or(loaded)
    }

    /// The logged-in user, once known (call inside a boundary that awaited the session).
    pub fn user(&self) -> Option<UserSummary> {
        let mut user = self.info.get().and_then(Result::ok).and_then(|i| i.user)?;
        user.credits = self.credits_or(user.credits);
        Some(user)
    }
}

pub fn provide_session() {
    let version = RwSignal::new(0u32);
    let info = load(move || version.get(), |_| load_session());
    provide_context(SessionCtx {
        info,
        version,
        credits: RwSignal::new(None),
    });
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}
