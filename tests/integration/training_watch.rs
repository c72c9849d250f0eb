//! The training watch: trainings in flight are followed together, several to one A2E call
//! (`userVideoTwin/batchDetail`), and each alone when A2E refuses the batch call.

use crate::common::{Backend, TestApp};
use reqwest::Client;
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    trainings_in_flight_are_followed_together,
    without_a_batch_call_each_training_is_followed_alone,
);

/// Trainings take 1–2.5 s here (the simulator 60× faster), so those started together overlap.
async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = 60.0;
        c.job_tick_ms = 50;
        c.signup_credits = 100;
    })
    .await
}

/// Starts `n` prompt characters at once; answers their ids.
async fn start_trainings(app: &TestApp, client: &Client, n: usize) -> Vec<String> {
    let made = (0..n).map(|i| {
        app.post_json(
            client,
            "/api/a2e/character",
            json!({ "prompt": format!("a lighthouse keeper, number {i}") }),
        )
    });
    futures::future::join_all(made)
        .await
        .into_iter()
        .map(|c| {
            assert_eq!(c["avatar_status"], "training", "{c}");
            c["id"].as_str().unwrap().to_string()
        })
        .collect()
}

async fn until_all_completed(app: &TestApp, client: &Client, ids: &[String]) {
    for _ in 0..300 {
        let list: Vec<Value> = app.get_json(client, "/api/characters").await;
        let done = list
            .iter()
            .filter(|c| ids.iter().any(|id| c["id"] == id.as_str()))
            .filter(|c| c["avatar_status"] == "completed" && c["avatar_progress"] == 100)
            .count();
        if done == ids.len() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list: Vec<Value> = app.get_json(client, "/api/characters").await;
    panic!("not every training completed: {list:?}");
}

/// The calls that asked A2E about one avatar alone (`GET userVideoTwin/{id}`).
fn single_status_calls(log: &[Value]) -> usize {
    log.iter()
        .filter(|r| r["method"] == "GET")
        .filter(|r| {
            let path = r["path"].as_str().unwrap_or_default();
            path.strip_prefix("/api/v1/userVideoTwin/")
                .is_some_and(|id| id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .count()
}

/// Rounds the watch has timed, as `/metrics` tells (one recorder serves every test of the
/// process, so only its growth says something about this test).
async fn watch_rounds(app: &TestApp) -> f64 {
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("avatar_studio_training_watch_round_seconds_count "))
        .map_or(0.0, |n| n.parse().unwrap())
}

/// Each training was named in at most `its time / poll interval + 2` A2E calls, its start
/// included (the simulator counts a batch call as a call for each avatar it names).
async fn calls_within_budget(app: &TestApp, client: &Client, ids: &[String]) {
    let poll_ms = app.state.studio.clock.poll_ms as f64;
    let list: Vec<Value> = app.get_json(client, "/api/characters").await;
    let avatars: Vec<&str> = list
        .iter()
        .filter(|c| ids.iter().any(|id| c["id"] == id.as_str()))
        .filter_map(|c| c["avatar_id"].as_str())
        .collect();
    let stats = app.simulator_json("stats").await;
    let mut checked = 0;
    for avatar in stats["avatars"].as_array().unwrap() {
        if !avatars.contains(&avatar["id"].as_str().unwrap()) {
            continue;
        }
        let took_ms =
            avatar["ends_at_ms"].as_f64().unwrap() - avatar["started_at_ms"].as_f64().unwrap();
        let named = 1.0 + avatar["calls"].as_f64().unwrap();
        assert!(
            named <= took_ms / poll_ms + 2.0,
            "{avatar}: named in {named} calls, poll {poll_ms} ms"
        );
        checked += 1;
    }
    assert_eq!(checked, ids.len(), "every training counted: {stats}");
}

async fn trainings_in_flight_are_followed_together(backend: Backend) {
    let app = app(backend).await;
    let (client, _) = app.user("crowd@example.com").await;
    let rounds_before = watch_rounds(&app).await;
    let ids = start_trainings(&app, &client, 6).await;
    until_all_completed(&app, &client, &ids).await;
    assert!(
        watch_rounds(&app).await > rounds_before,
        "the watch's rounds are timed at /metrics"
    );

    let log = app.simulator_requests().await;
    let batches: Vec<usize> = log
        .iter()
        .filter(|r| r["path"] == "/api/v1/userVideoTwin/batchDetail")
        .map(|r| r["body"]["ids"].as_array().map_or(0, Vec::len))
        .collect();
    assert!(
        batches.iter().any(|&n| n > 1),
        "several trainings named in one call: {batches:?}"
    );
    assert_eq!(single_status_calls(&log), 0, "none asked for alone");
    calls_within_budget(&app, &client, &ids).await;
    // Each character's history tells its end once.
    for id in &ids {
        let events: Vec<Value> = app
            .get_json(&client, &format!("/api/characters/{id}/events"))
            .await;
        let ends = events.iter().filter(|e| e["kind"] == "done").count();
        assert_eq!(ends, 1, "{events:?}");
    }
}

async fn without_a_batch_call_each_training_is_followed_alone(backend: Backend) {
    let app = app(backend).await;
    // A2E answers 404 to `batchDetail` for avatars, as to a call it does not offer.
    app.simulator_fault_settings(json!({
        "rate": 1.0, "kinds": ["not_found"], "only": "/userVideoTwin/batchDetail"
    }))
    .await;
    let (client, _) = app.user("alone@example.com").await;
    let ids = start_trainings(&app, &client, 3).await;
    until_all_completed(&app, &client, &ids).await;

    let log = app.simulator_requests().await;
    assert!(
        log.iter()
            .any(|r| r["path"] == "/api/v1/userVideoTwin/batchDetail"),
        "the batch call was tried"
    );
    assert!(single_status_calls(&log) >= ids.len(), "each asked alone");
}
