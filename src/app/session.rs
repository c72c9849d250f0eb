//! The visitor's session, shared by every page: who is logged in, their credits, demo mode.
//!
//! The session never changes under a loaded page (logging in or out loads a page afresh).
//! Credits move often (every live event may change them); they are fetched into a signal of
//! their own, so pages are never re-rendered (and lose their state) for a new balance.
//! Boundaries await the resource (`when_loaded`) rather than reading it with `.get()`: reading
//! one resource in several `<Transition>`s can stall the server-rendered stream
//! (leptos-rs/leptos#4578, #4851).

use crate::app::loaded::{load, Loaded};
use crate::error::AppError;
use crate::server_fns::auth::{load_session, SessionInfo, UserSummary};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub info: Loaded<Result<SessionInfo, AppError>>,
    /// Whether someone is logged in; `None` until known (see [`SessionCtx::logged_in`]).
    logged_in: Memo<Option<bool>>,
    /// The balance fetched since the session loaded (`None`: the session's own is current).
    credits: RwSignal<Option<i64>>,
}

impl SessionCtx {
    /// Whether someone is logged in, known without waiting: the server found the page's caller
    /// before rendering (`CallerFound`), the browser hydrates with the session the server
    /// loaded. It does not change under a loaded page: logging in or out starts the app afresh.
    pub fn logged_in(&self) -> Option<bool> {
        self.logged_in.get()
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
    let info = load(|| (), |_| load_session());
    let found = caller_found_before_render();
    let logged_in = Memo::new(move |_| {
        found.or_else(|| info.get().map(|i| i.ok().and_then(|i| i.user).is_some()))
    });
    provide_context(SessionCtx {
        info,
        logged_in,
        credits: RwSignal::new(None),
    });
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}

/// After logging in or out (or deleting the account): loads `path` as a new page, so that
/// nothing the previous visitor's pages held stays in memory, and every page is built once for
/// whoever is logged in now.
pub fn start_afresh(path: &str) {
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href(path);
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

#[cfg(feature = "ssr")]
fn caller_found_before_render() -> Option<bool> {
    let parts = use_context::<axum::http::request::Parts>()?;
    let found = parts
        .extensions
        .get::<crate::server::pages::CallerFound>()?;
    Some(found.0)
}

#[cfg(not(feature = "ssr"))]
fn caller_found_before_render() -> Option<bool> {
    None
}
