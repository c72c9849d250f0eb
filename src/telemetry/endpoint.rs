//! `GET /metrics`: the Prometheus text format. Open unless `METRICS_TOKEN` is set; then only
//! with `Authorization: Bearer <METRICS_TOKEN>`.

use super::recorder::{self, JOBS, TRAININGS_IN_FLIGHT};
use crate::error::AppError;
use crate::server::state::AppState;
use crate::store::Db;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = state.config.metrics_token() {
        if !bearer_matches(&headers, token) {
            return unauthorized();
        }
    }
    let Some(handle) = recorder::handle() else {
        return AppError::new(
            503,
            "metrics_off",
            "Metrics are not recorded by this process.",
        )
        .into_response();
    };
    // Gauges of what the database holds now; a failed query leaves the last values in place.
    if let Err(err) = refresh_gauges(&state.studio.db, &state.studio.jobs.kinds()).await {
        tracing::warn!(error = %err, "could not read job and training gauges");
    }
    metrics::gauge!(recorder::PAGES_IN_MEMORY).set(state.pages_in_memory.get() as f64);
    record_kept_lists(&state.studio.db.lists);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        handle.render(),
    )
        .into_response()
}

/// The kept lists' sizes and lookups (counted by the caches themselves, so a list answered
/// from memory pays for no metric).
fn record_kept_lists(lists: &crate::store::page_cache::KeptLists) {
    use metrics::{counter, gauge};
    for (kind, stats) in [
        ("pages", lists.pages.stats()),
        ("answers", lists.answers.stats()),
        ("html", lists.html.stats()),
    ] {
        gauge!(recorder::LISTS_KEPT, "kind" => kind).set(stats.entries as f64);
        gauge!(recorder::LISTS_KEPT_BYTES, "kind" => kind).set(stats.bytes as f64);
        counter!(recorder::LIST_LOOKUPS, "kind" => kind, "outcome" => "kept").absolute(stats.hits);
        counter!(recorder::LIST_LOOKUPS, "kind" => kind, "outcome" => "made")
            .absolute(stats.misses);
    }
}

/// Compares hashes of the two tokens in constant time, so neither the token's content nor its
/// length shows in how long a refusal takes.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_at_checked(7)?;
            scheme
                .eq_ignore_ascii_case("bearer ")
                .then_some(rest.trim())
        })
        .unwrap_or_default();
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(token.as_bytes());
    given.ct_eq(&expected).into()
}

fn unauthorized() -> Response {
    let mut response = AppError::new(
        401,
        "unauthorized",
        "Metrics need Authorization: Bearer <METRICS_TOKEN>.",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

/// What the database holds now, for the gauges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gauges {
    /// Unfinished jobs: (kind, state, count), every registered kind at least at 0, so a series
    /// does not vanish when its queue empties.
    pub jobs: Vec<(String, String, i64)>,
    /// Characters whose avatar is training at A2E.
    pub trainings_in_flight: i64,
}

impl Gauges {
    pub fn jobs(&self, kind: &str, state: &str) -> i64 {
        self.jobs
            .iter()
            .find(|(k, s, _)| k == kind && s == state)
            .map_or(0, |j| j.2)
    }
}

pub async fn read_gauges(db: &Db, kinds: &[&'static str]) -> Result<Gauges, sqlx::Error> {
    // `jobs_due (state, run_at)` serves this: finished jobs are never read.
    let rows = sqlx::query(
        "SELECT kind, state, COUNT(*) AS n FROM jobs
         WHERE state IN ('queued', 'running') GROUP BY kind, state",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut jobs: Vec<(String, String, i64)> = kinds
        .iter()
        .flat_map(|kind| ["queued", "running"].map(|state| (kind.to_string(), state.into(), 0)))
        .collect();
    for row in &rows {
        let (kind, state): (String, String) = (row.try_get("kind")?, row.try_get("state")?);
        let n: i64 = row.try_get("n")?;
        match jobs.iter_mut().find(|(k, s, _)| *k == kind && *s == state) {
            Some(entry) => entry.2 = n,
            None => jobs.push((kind, state, n)),
        }
    }
    let training = sqlx::query(
        "SELECT COUNT(*) AS n FROM character_references WHERE avatar_status = 'training'",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(Gauges {
        jobs,
        trainings_in_flight: training.try_get("n")?,
    })
}

async fn refresh_gauges(db: &Db, kinds: &[&'static str]) -> Result<(), sqlx::Error> {
    let gauges = read_gauges(db, kinds).await?;
    for (kind, state, n) in gauges.jobs {
        metrics::gauge!(JOBS, "kind" => kind, "state" => state).set(n as f64);
    }
    metrics::gauge!(TRAININGS_IN_FLIGHT).set(gauges.trainings_in_flight as f64);
    Ok(())
}
