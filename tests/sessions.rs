//! A log-in has an absolute lifetime (`SESSION_MAX_DAYS`), however active the session is.

mod common;

use common::{Backend, TestApp};

on_both_databases!(sessions_end_at_their_absolute_lifetime);

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
