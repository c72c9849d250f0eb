//! Money and A2E work exactly once, on both databases: clients that hang up change nothing, a
//! start slower than its lease is made once, lost A2E answers are reconciled instead of
//! repeated, an A2E outage delays work instead of failing it, cancel keeps its promise, and
//! orphaned reservations are refunded. (Every test also ends with the ledger invariants checked.)

use crate::common::{Backend, TestApp};
use reqwest::Client;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

on_both_databases!(
    hung_up_clients_change_neither_work_nor_money,
    a_start_slower_than_its_lease_is_made_once,
    lost_answers_are_reconciled_not_repeated,
    an_a2e_outage_delays_work_until_the_deadline,
    cancel_refunds_before_a2e_starts_and_keeps_after,
    orphaned_reservations_are_refunded,
);

/// A server whose simulated A2E runs `speedup` times faster, working jobs at once.
async fn app_at(
    backend: Backend,
    speedup: f64,
    adjust: impl FnOnce(&mut avatar_studio::config::Config),
) -> TestApp {
    TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = speedup;
        c.job_tick_ms = 50;
        c.signup_credits = 1_000;
        adjust(c);
    })
    .await
}

/// A script's client (Bearer token) that gives up after `patience`.
async fn hasty_client(app: &TestApp, client: &Client, patience: Duration) -> Client {
    let token: Value = app
        .post_json(client, "/api/tokens", json!({ "name": "hasty" }))
        .await;
    let token = token["token"].as_str().expect("token").to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    Client::builder()
        .default_headers(headers)
        .timeout(patience)
        .build()
        .unwrap()
}

/// Waits until `check` holds for the user's character list (or panics after `secs`).
async fn characters_until(
    app: &TestApp,
    client: &Client,
    secs: u64,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    // Generous bounds (the suite shares two cores): they catch work that never ends, not speed.
    let until = std::time::Instant::now() + Duration::from_secs(secs * 3);
    while std::time::Instant::now() < until {
        let list: Vec<Value> = app.get_json(client, "/api/characters").await;
        if check(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let list: Vec<Value> = app.get_json(client, "/api/characters").await;
    panic!("characters never reached the expected state: {list:#?}");
}

async fn generation_until(
    app: &TestApp,
    client: &Client,
    id: &str,
    secs: u64,
    check: impl Fn(&Value) -> bool,
) -> Value {
    // Generous bounds (the suite shares two cores): they catch work that never ends, not speed.
    let until = std::time::Instant::now() + Duration::from_secs(secs * 3);
    while std::time::Instant::now() < until {
        let g: Value = app
            .get_json(client, &format!("/api/generations/{id}"))
            .await;
        if check(&g) {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let g: Value = app
        .get_json(client, &format!("/api/generations/{id}"))
        .await;
    panic!("generation never reached the expected state: {g:#}");
}

async fn credits_until(app: &TestApp, client: &Client, expected: i64) {
    for _ in 0..200 {
        if app.credits(client).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.credits(client).await, expected);
}

fn finished(g: &Value) -> bool {
    ["completed", "failed", "cancelled"].contains(&g["status"].as_str().unwrap_or_default())
}

async fn hung_up_clients_change_neither_work_nor_money(backend: Backend) {
    let app = app_at(backend, 20.0, |_| {}).await;
    let (client, _) = app.user("hasty@example.com").await;
    let hasty = hasty_client(&app, &client, Duration::from_millis(60)).await;
    // Four portraits whose clients hang up after 60 ms. On a loaded machine a request can be
    // dropped before the server has read it: then nothing is made and nothing is charged.
    // Whatever got in is made whole and charged once: the charge and the row are one write.
    for i in 0..4 {
        let body = json!({ "prompt": format!("a knight number {i}") });
        let sent = hasty
            .post(app.url("/api/a2e/character"))
            .json(&body)
            .send()
            .await;
        assert!(sent.is_err(), "the client hung up before the answer");
    }
    let made = app
        .get_json::<Vec<Value>>(&client, "/api/characters")
        .await
        .len();
    assert_eq!(
        app.credits(&client).await,
        1_000 - 2 * made as i64,
        "charged once per portrait"
    );
    let mut list = characters_until(&app, &client, 60, |l| {
        l.len() == made && l.iter().all(|c| c["avatar_status"] == "completed")
    })
    .await;
    assert!(
        list.iter().all(|c| c["image_url"].is_string()),
        "every portrait was kept"
    );
    if list.is_empty() {
        // None got in: one made patiently, for the steps below.
        let body = json!({ "prompt": "a patient knight", "waitForAvatar": true });
        list.push(app.post_json(&client, "/api/a2e/character", body).await);
    }
    let spent = 2 * list.len() as i64;
    assert_eq!(app.credits(&client).await, 1_000 - spent);

    // A continue whose client hangs up, clicked twice: A2E is asked once and paid once (or, if
    // neither click got in, not at all).
    let id = list[0]["id"].as_str().unwrap().to_string();
    let path = app.url(&format!("/api/characters/{id}/continue-training"));
    let (a, b) = tokio::join!(hasty.post(&path).send(), hasty.post(&path).send());
    assert!(a.is_err() || b.is_err() || a.unwrap().status() != b.unwrap().status());
    let continued = |l: &[Value]| {
        l.iter().any(|c| {
            c["id"] == id.as_str() && c["continued"] == true && c["avatar_status"] == "training"
        })
    };
    // A click that got in may still be writing after its client gave up: give it a moment.
    let mut charged = app.credits(&client).await;
    for _ in 0..100 {
        if charged == 1_000 - spent - 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        charged = app.credits(&client).await;
    }
    let spent = if charged == 1_000 - spent - 100 {
        characters_until(&app, &client, 30, continued).await;
        let continues = app
            .simulator_requests_to("/api/v1/userVideoTwin/continueTraining")
            .await;
        assert_eq!(continues.len(), 1, "A2E was asked to continue once");
        spent + 100
    } else {
        assert_eq!(
            charged,
            1_000 - spent,
            "not charged when neither click got in"
        );
        spent
    };

    // A retry after a failed training, its client hanging up: one new training, free.
    let failing = app
        .post(
            &client,
            "/a2e-sim/_simulator/fail-next-training",
            json!({ "reason": "two faces" }),
        )
        .await;
    assert!(failing.status().is_success());
    let made = app
        .post_json(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "twins", "waitForAvatar": true }),
        )
        .await;
    assert_eq!(made["avatar_status"], "failed", "{made}");
    let retry = app.url(&format!(
        "/api/characters/{}/retry-training",
        made["id"].as_str().unwrap()
    ));
    // Hung up surely after the request was read: its answer waits for A2E to accept the
    // training, which now takes 2 s.
    let patient_hasty = hasty_client(&app, &client, Duration::from_millis(500)).await;
    let slow = json!({ "rate": 1.0, "kinds": ["slow"], "delay_ms": 2000 });
    let res = app.post(&client, "/a2e-sim/_simulator/faults", slow).await;
    assert!(res.status().is_success());
    assert!(patient_hasty.post(&retry).send().await.is_err());
    let calm = json!({ "rate": 0.0, "kinds": [] });
    let res = app.post(&client, "/a2e-sim/_simulator/faults", calm).await;
    assert!(res.status().is_success());
    let again = characters_until(&app, &client, 60, |l| {
        l.iter()
            .any(|c| c["id"] == made["id"] && c["avatar_status"] == "completed")
    })
    .await;
    assert_eq!(again.len(), list.len() + 1);
    assert_eq!(
        app.credits(&client).await,
        1_000 - spent - 2,
        "the retry was free"
    );
}

async fn a_start_slower_than_its_lease_is_made_once(backend: Backend) {
    let app = app_at(backend, 600.0, |c| c.job_lease_ms = 1_000).await;
    let (client, _) = app.user("patient@example.com").await;
    // Every A2E call now takes 3 s: three times the lease. Renewal keeps the job with its worker.
    let res = reqwest::Client::new()
        .post(app.url("/a2e-sim/_simulator/faults"))
        .json(&json!({ "rate": 1.0, "kinds": ["slow"], "delay_ms": 3000 }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let g = app
        .post_json(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "a slow sunrise" }),
        )
        .await;
    let id = g["id"].as_str().unwrap().to_string();
    generation_until(&app, &client, &id, 30, |g| {
        g["work"]["task"]["state"] == "started"
    })
    .await;
    app.simulator_faults(0.0, &[]).await;
    let done = generation_until(&app, &client, &id, 30, finished).await;
    assert_eq!(done["status"], "completed", "{done}");
    let starts = app
        .simulator_requests_to("/api/v1/userNanoBanana/start")
        .await;
    assert_eq!(
        starts.len(),
        1,
        "started once despite the slow answer: {starts:#?}"
    );
    assert_eq!(app.credits(&client).await, 1_000 - 4);
}

/// How many times A2E was asked to start each named task, per start path.
async fn starts_by_name(app: &TestApp) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for r in app.simulator_requests().await {
        let path = r["path"].as_str().unwrap_or_default().to_string();
        let is_start = path.ends_with("/start")
            || path.ends_with("/startTraining")
            || path.ends_with("/generate");
        if !is_start {
            continue;
        }
        let name = r["body"]["name"]
            .as_str()
            .or(r["body"]["title"].as_str())
            .unwrap_or_default()
            .to_string();
        *counts.entry((path, name)).or_insert(0) += 1;
    }
    counts
}

async fn lost_answers_are_reconciled_not_repeated(backend: Backend) {
    let app = app_at(backend, 600.0, |_| {}).await;
    let (client, _) = app.user("lossy@example.com").await;
    // Four in ten A2E answers are lost, though each call takes effect.
    app.simulator_faults(0.4, &["lost_response"]).await;
    let mut characters = Vec::new();
    for i in 0..3 {
        let c = app
            .post_json(
                &client,
                "/api/a2e/character",
                json!({ "prompt": format!("a pilot number {i}") }),
            )
            .await;
        characters.push(c["id"].as_str().expect("created").to_string());
    }
    let mut generations = Vec::new();
    for i in 0..6 {
        let g = app
            .post_json(
                &client,
                "/api/a2e/nanobanana",
                json!({ "prompt": format!("skyline {i}") }),
            )
            .await;
        generations.push(g["id"].as_str().expect("submitted").to_string());
    }
    for id in &characters[..2] {
        let g = app
            .post_json(
                &client,
                "/api/a2e/i2v",
                json!({ "characterId": id, "prompt": "waves" }),
            )
            .await;
        generations.push(g["id"].as_str().expect("submitted").to_string());
    }
    let mut outcomes = Vec::new();
    for id in &generations {
        outcomes.push(generation_until(&app, &client, id, 120, finished).await);
    }
    characters_until(&app, &client, 120, |l| {
        l.len() == 3
            && l.iter().all(|c| {
                ["completed", "failed"].contains(&c["avatar_status"].as_str().unwrap_or_default())
            })
    })
    .await;
    app.simulator_faults(0.0, &[]).await;
    for ((path, name), n) in starts_by_name(&app).await {
        assert_eq!(n, 1, "{path} {name:?} was started {n} times");
    }
    let completed = outcomes
        .iter()
        .filter(|g| g["status"] == "completed")
        .count();
    assert!(
        completed * 10 >= outcomes.len() * 7,
        "most still complete: {outcomes:#?}"
    );
    for g in outcomes.iter().filter(|g| g["status"] == "failed") {
        assert!(g["error"].as_str().is_some_and(|e| !e.is_empty()), "{g}");
    }
}

async fn an_a2e_outage_delays_work_until_the_deadline(backend: Backend) {
    let app = app_at(backend, 600.0, |c| c.a2e_retry_deadline_secs = 6).await;
    let (client, _) = app.user("outage@example.com").await;
    // A2E refuses every call before doing any work (503): the scene waits, then completes.
    app.simulator_faults(1.0, &["server_error"]).await;
    let g = app
        .post_json(&client, "/api/a2e/nanobanana", json!({ "prompt": "rain" }))
        .await;
    let id = g["id"].as_str().unwrap().to_string();
    let waiting = generation_until(&app, &client, &id, 10, |g| g["notice"].is_string()).await;
    assert!(!finished(&waiting), "{waiting}");
    assert!(waiting["notice"]
        .as_str()
        .unwrap()
        .contains("Waiting for A2E"));
    assert_eq!(app.credits(&client).await, 1_000 - 4, "held while it waits");
    app.simulator_faults(0.0, &[]).await;
    let done = generation_until(&app, &client, &id, 30, finished).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["notice"].is_null());
    assert_eq!(app.credits(&client).await, 1_000 - 4);

    // An outage longer than the retry deadline ends the work failed and refunded.
    app.simulator_faults(1.0, &["server_error"]).await;
    let g = app
        .post_json(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "more rain" }),
        )
        .await;
    let id = g["id"].as_str().unwrap().to_string();
    let failed = generation_until(&app, &client, &id, 30, finished).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("unavailable"),
        "{failed}"
    );
    assert_eq!(app.credits(&client).await, 1_000 - 4, "refunded");
    app.simulator_faults(0.0, &[]).await;
}

async fn cancel_refunds_before_a2e_starts_and_keeps_after(backend: Backend) {
    let app = app_at(backend, 10.0, |_| {}).await;
    let (client, _) = app.user("canceller@example.com").await;
    // Not started at A2E yet (A2E refusing work): a cancel refunds in full and starts nothing.
    app.simulator_faults(1.0, &["server_error"]).await;
    let g = app
        .post_json(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "never mind" }),
        )
        .await;
    let id = g["id"].as_str().unwrap().to_string();
    let waiting = generation_until(&app, &client, &id, 20, |g| g["notice"].is_string()).await;
    assert_eq!(waiting["work"]["task"]["state"], "waiting", "{waiting}");
    let asked = app
        .simulator_requests_to("/api/v1/userNanoBanana/start")
        .await
        .len();
    let cancelled = app
        .post_json(&client, &format!("/api/generations/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    // Refunded at once, or — if a retry was in flight — as soon as A2E's refusal comes back.
    credits_until(&app, &client, 1_000).await;
    app.simulator_faults(0.0, &[]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = app
        .simulator_requests_to("/api/v1/userNanoBanana/start")
        .await
        .len();
    assert_eq!(asked, after, "nothing was asked of A2E after the cancel");

    // Started at A2E: the charge is kept, and so is the result when it arrives.
    let g = app
        .post_json(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "keep going" }),
        )
        .await;
    let id = g["id"].as_str().unwrap().to_string();
    generation_until(&app, &client, &id, 20, |g| {
        g["work"]["task"]["state"] == "started"
    })
    .await;
    let cancelled = app
        .post_json(&client, &format!("/api/generations/{id}/cancel"), json!({}))
        .await;
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert_eq!(app.credits(&client).await, 1_000 - 4, "the charge is kept");
    let kept = generation_until(&app, &client, &id, 30, |g| {
        g["result_urls"].as_array().is_some_and(|u| !u.is_empty())
    })
    .await;
    assert_eq!(kept["status"], "cancelled");
    let retried = app
        .post(&client, &format!("/api/generations/{id}/cancel"), json!({}))
        .await;
    assert_eq!(
        retried.status(),
        409,
        "a cancelled generation cannot be cancelled again"
    );
}

async fn orphaned_reservations_are_refunded(backend: Backend) {
    let app = app_at(backend, 600.0, |_| {}).await;
    let (client, me) = app.user("orphan@example.com").await;
    let studio = &app.state.studio;
    let user_id = me["id"].as_str().unwrap();
    // A hold with no job to close it (as a lost job or a manual edit would leave).
    avatar_studio::domain::credits::reserve(&studio.db, user_id, 30, "orphan:test", "test hold")
        .await
        .unwrap();
    assert_eq!(app.credits(&client).await, 970);
    // A hold whose job is alive is left alone.
    let g = app
        .post_json(&client, "/api/a2e/nanobanana", json!({ "prompt": "alive" }))
        .await;
    let refunded = avatar_studio::domain::reconciler::refund_orphans(studio, 0)
        .await
        .unwrap();
    assert_eq!(refunded, 1);
    assert_eq!(app.credits(&client).await, 1_000 - 4);
    let id = g["id"].as_str().unwrap();
    let done = generation_until(&app, &client, id, 30, finished).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(app.credits(&client).await, 1_000 - 4);
}
