//! The job runner with thousands of trainings in flight against the standalone simulator:
//! A2E calls per training, lag from A2E's end of a training to the database, CPU per job.

use crate::server::Process;
use crate::{percentile, seed};
use avatar_studio::store::Db;
use serde_json::Value;
use sqlx::Row;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct Settings {
    pub trainings: usize,
    /// The studio's `A2E_POLL_MS` (the simulator is "real A2E" to it: no speed-up applied).
    pub poll_ms: u64,
    pub speedup: f64,
    /// The phase stops waiting after this long, and reports what finished.
    pub timeout: Duration,
}

pub struct Figures {
    pub trainings: usize,
    pub finished: usize,
    pub seed_s: f64,
    pub all_started_s: Option<f64>,
    pub phase_s: f64,
    pub peak_in_flight: i64,
    pub calls_p50: f64,
    pub calls_max: f64,
    /// Trainings that used more calls than `training time / poll interval + 2`.
    pub over_budget: usize,
    /// Every A2E call of the phase (lookups and preview downloads excluded) per training.
    pub calls_per_training_all: f64,
    pub lag_p50_ms: f64,
    pub lag_p99_ms: f64,
    pub lag_max_ms: f64,
    pub cpu_s: f64,
    /// Server CPU per second per in-flight training (µs of CPU per second).
    pub cpu_us_per_job_second: f64,
    pub sim_cpu_s: f64,
    pub rss_peak_kib: u64,
    pub watch: WatchRounds,
}

/// The training watch's rounds, from the studio's `/metrics` histogram.
#[derive(Default)]
pub struct WatchRounds {
    pub count: f64,
    pub total_s: f64,
    /// Rounds longer than one second (the lag goal's slack beyond the poll interval).
    pub over_1s: f64,
}

impl WatchRounds {
    /// The rounds after `earlier`.
    fn since(&self, earlier: &Self) -> Self {
        Self {
            count: self.count - earlier.count,
            total_s: self.total_s - earlier.total_s,
            over_1s: self.over_1s - earlier.over_1s,
        }
    }

    pub fn mean_s(&self) -> f64 {
        self.total_s / self.count.max(1.0)
    }
}

pub async fn run(
    settings: &Settings,
    db: &Db,
    server: &Process,
    simulator: &Process,
    user: &seed::Account,
) -> Figures {
    let seeding = Instant::now();
    // Unreachable on purpose: the simulator then gives each avatar a look of its own instead
    // of fetching a picture (the studio's own media would add the server's file serving).
    seed::trainings(
        db,
        &user.id,
        settings.trainings,
        "http://127.0.0.1:9/trainee.png",
    )
    .await;
    let seed_s = seeding.elapsed().as_secs_f64();
    let (cpu0, sim_cpu0) = (server.cpu_seconds(), simulator.cpu_seconds());
    let watch_before = watch_rounds(server).await;
    let started = Instant::now();
    let mut last = Instant::now();
    let mut last_print = Instant::now();
    let (mut job_seconds, mut peak, mut rss_peak) = (0.0, 0, 0);
    let mut all_started_s = None;
    let finished = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let counts = statuses(db, &user.id).await;
        let get = |s: &str| counts.get(s).copied().unwrap_or(0);
        let in_flight = get("pending") + get("training");
        let done = get("completed") + get("failed");
        job_seconds += in_flight as f64 * last.elapsed().as_secs_f64();
        last = Instant::now();
        peak = peak.max(in_flight);
        rss_peak = rss_peak.max(server.rss_kib());
        if all_started_s.is_none() && get("pending") == 0 {
            all_started_s = Some(started.elapsed().as_secs_f64());
        }
        if last_print.elapsed() >= Duration::from_secs(15) {
            last_print = Instant::now();
            println!(
                "    {:>4.0} s: {} pending, {} training, {} completed, {} failed",
                started.elapsed().as_secs_f64(),
                get("pending"),
                get("training"),
                get("completed"),
                get("failed")
            );
        }
        if done as usize >= settings.trainings || started.elapsed() > settings.timeout {
            break done as usize;
        }
    };
    let phase_s = started.elapsed().as_secs_f64();
    let cpu_s = server.cpu_seconds() - cpu0;
    let sim_cpu_s = simulator.cpu_seconds() - sim_cpu0;
    let stats: Value = reqwest::get(simulator.url("/_simulator/stats"))
        .await
        .expect("simulator stats")
        .json()
        .await
        .expect("stats are JSON");
    let watch = watch_rounds(server).await.since(&watch_before);
    let ends = done_times(db, &user.id).await;
    let (mut calls, mut lags, mut over_budget) = (Vec::new(), Vec::new(), 0);
    for avatar in stats["avatars"].as_array().into_iter().flatten() {
        let id = avatar["id"].as_str().unwrap_or_default();
        let Some(done_at) = ends.get(id) else {
            continue;
        };
        let (from, to) = (
            avatar["started_at_ms"].as_f64(),
            avatar["ends_at_ms"].as_f64(),
        );
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        // The start and every status call naming this avatar.
        let made = 1.0 + avatar["calls"].as_f64().unwrap_or(0.0);
        if made > (to - from) / settings.poll_ms as f64 + 2.0 {
            over_budget += 1;
        }
        calls.push(made);
        lags.push(*done_at as f64 - to);
    }
    let all_calls: f64 = stats["calls"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(route, _)| route.contains("userVideoTwin"))
        .filter_map(|(_, n)| n.as_f64())
        .sum();
    Figures {
        trainings: settings.trainings,
        finished,
        seed_s,
        all_started_s,
        phase_s,
        peak_in_flight: peak,
        calls_p50: percentile(&mut calls, 50.0),
        calls_max: percentile(&mut calls, 100.0),
        over_budget,
        calls_per_training_all: all_calls / settings.trainings as f64,
        lag_p50_ms: percentile(&mut lags, 50.0),
        lag_p99_ms: percentile(&mut lags, 99.0),
        lag_max_ms: percentile(&mut lags, 100.0),
        cpu_s,
        cpu_us_per_job_second: cpu_s * 1e6 / job_seconds.max(1.0),
        sim_cpu_s,
        rss_peak_kib: rss_peak,
        watch,
    }
}

async fn watch_rounds(server: &Process) -> WatchRounds {
    let Ok(answer) = reqwest::get(server.url("/metrics")).await else {
        return WatchRounds::default();
    };
    let text = answer.text().await.unwrap_or_default();
    let metric = "avatar_studio_training_watch_round_seconds";
    let read = |series: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let count = read(&format!("{metric}_count "));
    let within_1s = read(&format!("{metric}_bucket{{le=\"1\"}} "));
    WatchRounds {
        count,
        total_s: read(&format!("{metric}_sum ")),
        over_1s: count - within_1s,
    }
}

async fn statuses(db: &Db, user_id: &str) -> HashMap<String, i64> {
    let rows = sqlx::query(
        "SELECT avatar_status, COUNT(*) AS n FROM character_references WHERE user_id = $1
         GROUP BY avatar_status",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
    .expect("statuses");
    rows.iter()
        .map(|r| (r.get::<String, _>("avatar_status"), r.get::<i64, _>("n")))
        .collect()
}

/// When the studio wrote each finished training's end (its `done` event), by avatar id.
async fn done_times(db: &Db, user_id: &str) -> HashMap<String, i64> {
    let rows = sqlx::query(
        "SELECT c.avatar_id, e.created_at FROM character_references c
         JOIN character_events e ON e.character_id = c.id AND e.kind = 'done'
         WHERE c.user_id = $1 AND c.avatar_id IS NOT NULL",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await
    .expect("done events");
    rows.iter()
        .map(|r| {
            (
                r.get::<String, _>("avatar_id"),
                r.get::<i64, _>("created_at"),
            )
        })
        .collect()
}
