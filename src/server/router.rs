//! The one HTTP router: health, JSON API, server functions, pages and static files.

use super::assets::{self, Assets};
use super::guard;
use super::state::{AppState, Shared};
use crate::a2e::{A2eClient, A2eConfig};
use crate::app::{shell, App};
use crate::config::Config;
use crate::domain::generation_worker::GenerationWorker;
use crate::domain::studio::{Clock, Services, Studio};
use crate::domain::{avatars, generations, media, reconciler, training_watch};
use crate::jobs::Runner;
use crate::live::EventHub;
use crate::simulator::{self, SimulatorConfig};
use crate::store::media::MediaStore;
use crate::store::{sessions::Sessions, Db};
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

pub const SESSION_COOKIE: &str = "avatar_studio_session";

/// A started server: its router, shared state, and the background job runner.
pub struct Built {
    pub router: Router,
    pub state: AppState,
    pub runner: tokio::task::JoinHandle<()>,
}

/// Connects the database, runs migrations, starts the job runner and assembles the router.
pub async fn build(config: Config) -> Result<Built, String> {
    config.check_secrets()?;
    // Installed before any work starts, so nothing goes unrecorded.
    crate::telemetry::recorder::handle();
    let db = Db::connect(&config.database_url).await?;
    let sessions = Sessions::open(&db).await?;
    sessions.spawn_cleanup();
    let shutdown = CancellationToken::new();
    crate::store::change_count::spawn_folds(&db, shutdown.clone());
    let jobs = Runner::new(
        db.clone(),
        Duration::from_millis(config.job_tick_ms),
        config.job_lease_ms as i64,
    );
    let media = MediaStore::open(
        &config.media_backend()?,
        &config.public_base_url(),
        config.media_limits(),
    )?;
    let (a2e, simulator) = a2e_connection(&config)?;
    let events = EventHub::for_database(&db, shutdown.clone()).await;
    let studio = Studio::new(Services {
        db,
        a2e,
        media,
        events,
        jobs: jobs.clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?,
        prices: config.prices(),
        outbound: crate::outbound::Outbound::new(&config.fetch_allow_hosts),
        clock: Clock::new(
            if config.demo_mode() {
                config.a2e_simulator_speedup
            } else {
                1.0
            },
            config.a2e_poll_ms as i64,
        ),
        retry_deadline_ms: config.a2e_retry_deadline_secs as i64 * 1000,
        job_deadline_ms: config.job_deadline_secs as i64 * 1000,
        user_storage_bytes: config.user_storage_mb << 20,
        voices: Default::default(),
    });
    let character_job = Arc::new(avatars::CharacterJob(studio.clone()));
    jobs.handle(avatars::CHARACTER_JOB, character_job.clone());
    // Training trackers queued by earlier versions are carried on by the same job.
    jobs.handle(avatars::LEGACY_TRAINING_JOB, character_job);
    jobs.handle(
        avatars::REMOVAL_JOB,
        Arc::new(avatars::AvatarRemover(studio.clone())),
    );
    jobs.handle(
        generations::GENERATION_JOB,
        Arc::new(GenerationWorker(studio.clone())),
    );
    jobs.handle(
        reconciler::RECONCILE_JOB,
        Arc::new(reconciler::Reconciler(studio.clone())),
    );
    reconciler::schedule(&studio, config.reconcile_secs as i64 * 1000)
        .await
        .map_err(|e| format!("cannot schedule the credit reconciler: {e}"))?;
    jobs.handle(
        training_watch::TRAINING_WATCH_JOB,
        Arc::new(training_watch::TrainingWatch::new(studio.clone())),
    );
    training_watch::schedule(&studio)
        .await
        .map_err(|e| format!("cannot schedule the training watch: {e}"))?;
    let sweep_every_ms = config.media_sweep_secs as i64 * 1000;
    jobs.handle(
        media::MEDIA_SWEEP_JOB,
        Arc::new(media::MediaSweeper {
            studio: studio.clone(),
            every_ms: sweep_every_ms,
            grace_ms: config.unused_media_secs as i64 * 1000,
        }),
    );
    media::schedule(&studio, sweep_every_ms)
        .await
        .map_err(|e| format!("cannot schedule the media sweep: {e}"))?;
    let runner = match config.run_jobs {
        true => jobs.spawn(shutdown.clone().cancelled_owned()),
        false => tokio::spawn(async {}),
    };
    let state = AppState::new(Shared {
        leptos_options: AppState::leptos_options(&config),
        config: Arc::new(config),
        studio,
        shutdown: shutdown.clone(),
        sessions: sessions.clone(),
        pages_in_memory: Default::default(),
    });
    let mut router = router(state.clone(), sessions);
    if let Some(simulator) = simulator {
        router = router.nest("/a2e-sim", simulator);
    }
    Ok(Built {
        router,
        state,
        runner,
    })
}

/// The A2E client: the real service with a key, else the built-in simulator on our own server.
fn a2e_connection(config: &Config) -> Result<(A2eClient, Option<Router>), String> {
    let (base_url, api_key, simulator) = match config.a2e_key() {
        Some(key) => (config.a2e_base_url.clone(), key.to_string(), None),
        None => {
            let mut local = config.site_addr;
            if local.ip().is_unspecified() {
                local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            let base = format!("http://{local}/a2e-sim");
            let key = simulator::fresh_key();
            let simulator = simulator::router(SimulatorConfig {
                speedup: config.a2e_simulator_speedup,
                public_base_url: base.clone(),
                only_key: Some(key.clone()),
                controls: config.simulator_controls,
            });
            (base, key, Some(simulator))
        }
    };
    let client = A2eClient::new(A2eConfig {
        base_url,
        api_key,
        timeout: Duration::from_secs(config.a2e_timeout_secs),
        max_retries: 4,
    })
    .map_err(|e| format!("cannot set up the A2E client: {e}"))?;
    Ok((client, simulator))
}

pub fn router(state: AppState, sessions: Sessions) -> Router {
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        // Behind HTTPS (an https PUBLIC_BASE_URL), the cookie is never sent in the clear.
        .with_secure(
            state.config.secure_cookies || state.config.public_base_url().starts_with("https://"),
        )
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
    let options = state.leptos_options.clone();
    let assets = Arc::new(Assets::open(&state.config.site_root));
    let page_context = assets::page_context(&assets, &state.pages_in_memory);
    let pages = Router::new()
        .leptos_routes(&state, route_list(), move || {
            page_context();
            shell(options.clone())
        })
        .layer(axum::middleware::from_fn(super::pages::render_to_the_end))
        // Outermost: finds the caller, and answers a kept page before anything is set up to
        // render one.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::kept_pages::keep_pages,
        ));
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::telemetry::endpoint::serve))
        .merge(crate::api::routes())
        .merge(crate::store::media::routes(state.studio.media.clone()))
        .merge(pages)
        .fallback(move |state, req| assets::serve(assets.clone(), state, req));
    // Limits need the session (inside it); headers, client address and CSRF come first (outside).
    let routes = guard::inner(routes, &state).layer(session_layer);
    guard::outer(routes, &state)
        // Text answers compressed for clients that accept it (see `compression`).
        .layer(super::compression::layer())
        // Outside the guards, so refused requests are timed too; inside routing (as every
        // `Router::layer`), so the matched route pattern is known.
        .layer(axum::middleware::from_fn(crate::telemetry::http::track))
        // One log line per request: method, path (no query: it may hold secrets), status, latency.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                ),
        )
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    if state.studio.db.ping().await {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ok" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "database unavailable" })),
        )
    }
}

/// The app's routes, worked out once per process. Generating them suppresses resource loads
/// process-wide while it runs (leptos-rs/leptos#4773): a page rendered by another server in the
/// same process at that moment (the integration tests run many) would wait forever.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}
