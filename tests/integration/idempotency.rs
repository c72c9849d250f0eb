//! Idempotency keys on paid requests (Stripe's semantics): a repeat is answered from the first
//! answer and charged once; other parameters under the same key are refused; a repeat while the
//! first still runs is refused; the first answer is kept even when its client hung up.

use crate::common::{error_code, Backend, TestApp};
use serde_json::{json, Value};
use sqlx::Row;
use std::time::Duration;

on_both_databases!(
    a_repeat_is_charged_once_and_answered_alike,
    the_same_key_with_other_parameters_is_refused,
    a_repeat_while_the_first_runs_is_refused_and_the_answer_is_kept_for_a_client_that_left,
    keys_belong_to_their_user,
    abandoned_and_expired_keys_run_afresh_and_expired_ones_are_swept,
);

const KEY: &str = "idempotency-key";

async fn create(
    app: &TestApp,
    client: &reqwest::Client,
    key: &str,
    prompt: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/a2e/character"))
        .header(KEY, key)
        .json(&json!({ "prompt": prompt }))
        .send()
        .await
        .unwrap()
}

async fn character_count(app: &TestApp, client: &reqwest::Client) -> usize {
    let list: Value = app.get_json(client, "/api/characters").await;
    list.as_array().expect("a list of characters").len()
}

async fn a_repeat_is_charged_once_and_answered_alike(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (ana, _) = app.user("ana@example.com").await;
    let first = create(&app, &ana, "order-1", "a knight").await;
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.text().await.unwrap();
    let after_first = app.credits(&ana).await;
    assert!(after_first < 100, "the first request is charged");
    for _ in 0..2 {
        let again = create(&app, &ana, "order-1", "a knight").await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.text().await.unwrap(), first_body, "the same answer");
    }
    assert_eq!(app.credits(&ana).await, after_first, "charged once");
    assert_eq!(character_count(&app, &ana).await, 1);
    // Without a key, or with another key, the request runs again.
    let other = create(&app, &ana, "order-2", "a knight").await;
    assert_eq!(other.status(), 201);
    assert_eq!(character_count(&app, &ana).await, 2);
    // Refusals are kept too: the same failed request answers the same.
    let bad = json!({ "prompt": "" });
    for _ in 0..2 {
        let res = ana
            .post(app.url("/api/a2e/nanobanana"))
            .header(KEY, "bad-1")
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
    }
    let res = ana
        .post(app.url("/api/a2e/character"))
        .header(KEY, " ")
        .json(&json!({ "prompt": "a knight" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(res).await,
        (400, "invalid_idempotency_key".into())
    );
}

async fn the_same_key_with_other_parameters_is_refused(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (ana, _) = app.user("ana@example.com").await;
    assert_eq!(create(&app, &ana, "k-1", "a knight").await.status(), 201);
    let credits = app.credits(&ana).await;
    let res = create(&app, &ana, "k-1", "a dragon").await;
    assert_eq!(
        error_code(res).await,
        (422, "idempotency_key_reused".into())
    );
    // Another paid route under the same key is other parameters too.
    let res = ana
        .post(app.url("/api/a2e/nanobanana"))
        .header(KEY, "k-1")
        .json(&json!({ "prompt": "a knight" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(res).await,
        (422, "idempotency_key_reused".into())
    );
    assert_eq!(app.credits(&ana).await, credits, "nothing charged");
    assert_eq!(character_count(&app, &ana).await, 1);
}

async fn key_state(app: &TestApp, key: &str) -> Option<String> {
    sqlx::query("SELECT state FROM idempotency_keys WHERE idem_key = $1")
        .bind(key)
        .fetch_optional(&app.state.studio.db.pool)
        .await
        .unwrap()
        .map(|row| row.try_get("state").unwrap())
}

/// Waits (bounded) until the key's row is in `state`.
async fn until_state(app: &TestApp, key: &str, state: &str) {
    for _ in 0..600 {
        if key_state(app, key).await.as_deref() == Some(state) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("key {key} never reached {state}");
}

async fn a_repeat_while_the_first_runs_is_refused_and_the_answer_is_kept_for_a_client_that_left(
    backend: Backend,
) {
    // A slow simulated A2E: drawing the portrait keeps the first request running for a while.
    let app = TestApp::spawn_with(backend, |c| c.a2e_simulator_speedup = 10.0).await;
    let (ana, _) = app.user("ana@example.com").await;
    let first = tokio::spawn({
        let (client, url) = (ana.clone(), app.url("/api/a2e/character"));
        async move {
            client
                .post(url)
                .header(KEY, "slow-1")
                .json(&json!({ "prompt": "a knight" }))
                .send()
                .await
        }
    });
    until_state(&app, "slow-1", "running").await;
    let repeats =
        futures::future::join_all((0..3).map(|_| create(&app, &ana, "slow-1", "a knight"))).await;
    for res in repeats {
        assert_eq!(
            error_code(res).await,
            (409, "idempotency_in_progress".into())
        );
    }
    // The first client hangs up; the request still ends and its answer is kept.
    first.abort();
    until_state(&app, "slow-1", "done").await;
    let replay = create(&app, &ana, "slow-1", "a knight").await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let character: Value = replay.json().await.unwrap();
    assert!(character["id"].is_string(), "{character}");
    assert_eq!(character_count(&app, &ana).await, 1, "made once");
    let charged = 100 - app.credits(&ana).await;
    assert!(charged > 0);
    // One more portrait under a new key costs as much again: the first was charged once.
    assert_eq!(create(&app, &ana, "slow-2", "a knight").await.status(), 201);
    assert_eq!(100 - app.credits(&ana).await, 2 * charged, "charged once");
}

async fn keys_belong_to_their_user(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (ana, _) = app.user("ana@example.com").await;
    let (bo, _) = app.user("bo@example.com").await;
    assert_eq!(create(&app, &ana, "shared", "a knight").await.status(), 201);
    let res = create(&app, &bo, "shared", "a knight").await;
    assert_eq!(res.status(), 201);
    assert!(
        res.headers().get("idempotent-replayed").is_none(),
        "not Ana's answer"
    );
    let res = create(&app, &bo, "shared", "a dragon").await;
    assert_eq!(res.status(), 422, "Bo's own key now holds Bo's parameters");
    assert_eq!(character_count(&app, &ana).await, 1);
    assert_eq!(character_count(&app, &bo).await, 1);
    assert_eq!(
        app.credits(&ana).await,
        app.credits(&bo).await,
        "each charged once"
    );
}

async fn age_key(app: &TestApp, key: &str, set: &str) {
    let sql = format!("UPDATE idempotency_keys SET {set} WHERE idem_key = $1");
    sqlx::query(&sql)
        .bind(key)
        .execute(&app.state.studio.db.pool)
        .await
        .unwrap();
}

async fn abandoned_and_expired_keys_run_afresh_and_expired_ones_are_swept(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (ana, _) = app.user("ana@example.com").await;
    assert_eq!(create(&app, &ana, "k", "a knight").await.status(), 201);
    // An instance died while answering: its claim is still "running", unrefreshed for 10 minutes.
    let ten_minutes = 10 * 60 * 1000;
    age_key(
        &app,
        "k",
        &format!("state = 'running', updated_at = updated_at - {ten_minutes}"),
    )
    .await;
    let res = create(&app, &ana, "k", "a knight").await;
    assert_eq!(res.status(), 201, "an abandoned claim is taken over");
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(key_state(&app, "k").await.as_deref(), Some("done"));
    assert_eq!(character_count(&app, &ana).await, 2);
    // After 24 hours a key is forgotten: the request runs again, even with other parameters.
    let a_day = 25 * 60 * 60 * 1000;
    age_key(&app, "k", &format!("created_at = created_at - {a_day}")).await;
    let res = create(&app, &ana, "k", "a dragon").await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(character_count(&app, &ana).await, 3);
    // The sweep removes expired keys and keeps the others.
    assert_eq!(create(&app, &ana, "fresh", "a knight").await.status(), 201);
    age_key(&app, "k", &format!("created_at = created_at - {a_day}")).await;
    let db = &app.state.studio.db;
    let swept = avatar_studio::server::guard::idempotency::sweep_expired(db).await;
    assert_eq!(swept.unwrap(), 1);
    assert_eq!(key_state(&app, "k").await, None);
    assert_eq!(key_state(&app, "fresh").await.as_deref(), Some("done"));
}
