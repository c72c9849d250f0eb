//! A log-in has an absolute lifetime (`SESSION_MAX_DAYS`), however active the session is, and
//! an open event stream ends when its session logs out or its token is revoked.

use crate::common::{Backend, TestApp};
use avatar_studio::server::router::SESSION_COOKIE;
use avatar_studio::store::now_millis;

on_both_databases!(
    sessions_end_at_their_absolute_lifetime,
    sessions_in_use_are_renewed_daily,
    a_session_logged_out_meanwhile_is_not_saved_back,
    a_logged_out_session_is_not_answered_from_memory,
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

/// A session in daily use keeps going: once a day a request saves it with a fresh inactivity
/// expiry (and cookie); tower-sessions alone saves only a changed session, so an active user
/// was logged out when the inactivity period after logging in ran out.
async fn sessions_in_use_are_renewed_daily(backend: Backend) {
    use tower_sessions::SessionStore;
    let app = TestApp::spawn(backend).await;
    let (client, cookie, id) = signed_up(&app, "daily@example.com").await;
    let me = |client: &reqwest::Client| {
        client
            .get(app.url("/api/me"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
    };

    let res = me(&client).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(session_cookie(&res), None, "not renewed on every request");

    // As if the user last came by two days ago and the session had an hour left.
    let sessions = &app.state.sessions;
    let mut record = sessions
        .load(&id)
        .await
        .unwrap()
        .expect("the stored session");
    let two_days_ago = now_millis() - 2 * 24 * 3600 * 1000;
    record.data.insert("renewed".into(), two_days_ago.into());
    record.expiry_date = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    sessions.save(&record).await.unwrap();

    let res = me(&client).await.unwrap();
    assert_eq!(res.status(), 200);
    let renewed = session_cookie(&res).expect("a renewed cookie");
    assert!(renewed.contains("Max-Age="), "{renewed}");
    let record = sessions.load(&id).await.unwrap().expect("still stored");
    let left = record.expiry_date - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::days(13),
        "expiry pushed forward, {left} left"
    );
    assert!(record.data["renewed"].as_i64().unwrap() > two_days_ago);
    let res = me(&client).await.unwrap();
    assert_eq!(session_cookie(&res), None, "renewed once, not again");
}

/// A request that changed its session (the daily renewal) while another logged it out saves it
/// when it ends: that save must not bring the logged-out session back (the stores' own save is
/// an insert-or-update).
async fn a_session_logged_out_meanwhile_is_not_saved_back(backend: Backend) {
    use tower_sessions::SessionStore;
    let app = TestApp::spawn(backend).await;
    let (client, cookie, id) = signed_up(&app, "twice@example.com").await;
    let sessions = &app.state.sessions;
    let mut record = sessions.load(&id).await.unwrap().expect("logged in");

    // The renewing request has read the session; the log-out lands before it saves.
    let with_cookie =
        |req: reqwest::RequestBuilder| req.header(reqwest::header::COOKIE, &cookie).send();
    let res = with_cookie(client.post(app.url("/api/auth/logout")))
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    record.data.insert("renewed".into(), now_millis().into());
    sessions.save(&record).await.unwrap();

    assert!(
        sessions.load(&id).await.unwrap().is_none(),
        "stays logged out"
    );
    let res = with_cookie(client.get(app.url("/api/me"))).await.unwrap();
    assert_eq!(res.status(), 401);
}

/// Sessions in use are answered from memory (one query fewer per request); a log-out must still
/// end them at once, whichever instance makes it, and a cookie of a session that was never
/// stored stays refused.
async fn a_logged_out_session_is_not_answered_from_memory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, cookie, id) = signed_up(&app, "kept@example.com").await;
    let with_cookie =
        |req: reqwest::RequestBuilder| req.header(reqwest::header::COOKIE, &cookie).send();
    let me = || with_cookie(client.get(app.url("/api/me")));
    for _ in 0..2 {
        assert_eq!(me().await.unwrap().status(), 200);
    }
    assert_eq!(app.state.sessions.cached(), 1, "the session in use is kept");

    if let Backend::Postgres = backend {
        // Another instance logs it out: its row goes, this process's copy stays behind.
        use sqlx::Connection;
        let mut other = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        let gone = r#"DELETE FROM "tower_sessions"."session" WHERE id = $1"#;
        let done = sqlx::query(gone)
            .bind(id.to_string())
            .execute(&mut other)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        assert_eq!(me().await.unwrap().status(), 401, "logged out at once");
        assert_eq!(app.state.sessions.cached(), 0, "the copy is forgotten");
        return;
    }
    let res = with_cookie(client.post(app.url("/api/auth/logout")))
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(app.state.sessions.cached(), 0);
    assert_eq!(me().await.unwrap().status(), 401, "logged out at once");
}

/// Signs a user up with a client that keeps no cookies: its session cookie (`name=value`) and
/// session id, to send by hand and to look the record up.
async fn signed_up(
    app: &TestApp,
    email: &str,
) -> (reqwest::Client, String, tower_sessions::session::Id) {
    let client = reqwest::Client::builder()
        .default_headers(crate::common::same_origin(&app.base))
        .build()
        .unwrap();
    let res = app.sign_up(&client, email).await;
    assert_eq!(res.status(), 201);
    let set = session_cookie(&res).expect("a session cookie at sign-up");
    let cookie = set.split(';').next().unwrap().to_string();
    let (_, value) = cookie.split_once('=').unwrap();
    (client, cookie.clone(), value.parse().unwrap())
}

/// The session's `Set-Cookie` of an answer (`name=value; attributes`), if it sets one.
fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(String::from)
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
