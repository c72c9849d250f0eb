//! A log-in has an absolute lifetime (`SESSION_MAX_DAYS`), however active the session is, and
//! an open event stream ends when its session logs out or its token is revoked.

use crate::common::{Backend, TestApp};

on_both_databases!(
    sessions_end_at_their_absolute_lifetime,
    event_streams_end_with_their_log_in
);

async fn sessions_end_at_their_absolute_lifetime(backend: Backend) {
    let lasting = TestApp::spawn(backend).await;
    let (page, _) = lasting.user("stays@example.com").await;
    assert_eq!(
        page.get(lasting.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // A lifetime of zero days: every log-in has already ended by the next request.
    let app = TestApp::spawn_with(backend, |c| c.session_max_days = 0).await;
    let (page, _) = app.user("expires@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let res = page.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(res.status(), 401, "the session ended");
}

/// Reads a response body until it ends; `false` if it is still open after `secs`.
async fn ends_within(res: reqwest::Response, secs: u64) -> bool {
    use futures::StreamExt;
    let mut body = res.bytes_stream();
    let drained = async { while body.next().await.is_some() {} };
    tokio::time::timeout(std::time::Duration::from_secs(secs), drained)
        .await
        .is_ok()
}

async fn event_streams_end_with_their_log_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (page, _) = app.user("streams@example.com").await;
    let stream = page.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let other = page.get(app.url("/api/events")).send().await.unwrap();
    assert!(
        !ends_within(other, 3).await,
        "a stream stays open while its log-in does"
    );
    let out = page.post(app.url("/api/auth/logout")).send().await.unwrap();
    assert!(out.status().is_success());
    assert!(
        ends_within(stream, 10).await,
        "logging out ends the session's stream"
    );

    let (page, _) = app.user("scripted@example.com").await;
    let token: serde_json::Value = app
        .post_json(
            &page,
            "/api/tokens",
            serde_json::json!({ "name": "watcher" }),
        )
        .await;
    let stream = reqwest::Client::new()
        .get(app.url("/api/events"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let revoke = page
        .delete(app.url(&format!("/api/tokens/{}", token["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert!(revoke.status().is_success());
    assert!(
        ends_within(stream, 10).await,
        "revoking the token ends its stream"
    );
}
