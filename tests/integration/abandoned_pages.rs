//! A page is freed (its reactive state let go: `pages_in_memory` back to zero) when it was read
//! to its end, and when its client hung up while it was rendering: the render goes on in its
//! own task and the unread answer is read to its end. (The leak this guards against came from
//! answers cut off while being written under load; `./dev bench`'s soak measures that, and the
//! unit test in `server::pages` checks the reading to the end.)
//!
//! PostgreSQL only: holding a table lock is how the test keeps the page rendering while its
//! client goes (SQLite in WAL mode never makes a reader wait).

use crate::common::{portrait_png, Backend, TestApp};
use sqlx::Connection;
use std::time::Duration;

/// Waits (bounded) until `check` holds; a failure guard, not a measurement.
async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_abandoned_mid_render_is_still_freed() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let (client, _) = app.user("gone@example.com").await;
    let pages = app.state.pages_in_memory.clone();
    for name in ["Ada", "Bo", "Cy"] {
        let res = crate::characters::upload(&client, &app, name, portrait_png(), "me.png").await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    // A page read to its end is freed.
    let page = client.get(app.url("/characters")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap();
    until("the page read to its end is freed", || pages.get() == 0).await;

    // A new character: the gallery is not kept as it was read, and renders again.
    let res = crate::characters::upload(&client, &app, "Dee", portrait_png(), "me.png").await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());

    // The gallery's query waits behind a lock while its client hangs up.
    let mut lock = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query("LOCK TABLE character_references IN ACCESS EXCLUSIVE MODE")
        .execute(&mut lock)
        .await
        .unwrap();
    let request = tokio::spawn(client.get(app.url("/characters")).send());
    until("the page is rendering", || pages.get() == 1).await;
    request.abort();
    let _ = request.await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("COMMIT").execute(&mut lock).await.unwrap();

    until("the abandoned page is freed", || pages.get() == 0).await;
    let health = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}
