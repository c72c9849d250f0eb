//! What every request handler and server function can reach.

use crate::config::Config;
use crate::domain::studio::Studio;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Shared by every request (each middleware, handler and server function holds a clone): a
/// clone is one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Arc<Config>,
    pub studio: Studio,
    pub leptos_options: LeptosOptions,
    /// Cancelled when the server begins to shut down.
    pub shutdown: CancellationToken,
    /// The session store (open streams check that their log-in still exists).
    pub sessions: crate::store::sessions::Sessions,
    pub pages_in_memory: super::pages::PagesInMemory,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    /// Leptos options from `Leptos.toml` when present, with the served address and site root
    /// taken from our own configuration so both always agree.
    pub fn leptos_options(config: &Config) -> LeptosOptions {
        let mut options = std::fs::read_to_string("Leptos.toml")
            .ok()
            .and_then(|text| leptos::config::get_config_from_str(&text).ok())
            .unwrap_or_else(|| {
                LeptosOptions::builder()
                    .output_name("avatar-studio")
                    .build()
            });
        options.site_root = config.site_root.as_str().into();
        options.site_addr = config.site_addr;
        options
    }
}
