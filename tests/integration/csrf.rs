//! Cross-site requests riding on the session cookie are refused, with nothing charged; the
//! site's own pages and Bearer-token scripts are not affected; log-in CSRF is refused too.

use crate::common::{Backend, TestApp};
use serde_json::{json, Value};

on_both_databases!(cookie_requests_from_other_sites_are_refused);

async fn cookie_requests_from_other_sites_are_refused(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (page, _) = app.user("victim@example.com").await;
    let scene = json!({ "prompt": "drain the credits" });
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let mut req = page.post(app.url("/api/a2e/nanobanana")).json(&scene);
        req = match origin {
            Some(o) => req.header("origin", o),
            // No Origin and no Referer at all: refused (browsers send Origin on cross-site POSTs).
            None => req.header("origin", ""),
        };
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "{origin:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf");
    }
    let res = page
        .post(app.url("/api/a2e/nanobanana"))
        .header("origin", "")
        .header("referer", "https://evil.example/page")
        .json(&scene)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a foreign Referer");
    assert_eq!(app.credits(&page).await, 100, "nothing charged");
    let list: Vec<Value> = app.get_json(&page, "/api/generations").await;
    assert!(list.is_empty(), "nothing saved");

    // The site's own pages go through.
    let res = page
        .post(app.url("/api/a2e/nanobanana"))
        .json(&scene)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);

    // A script with its token is not a browser: no Origin needed, whatever it says.
    let token = app
        .post_json(&page, "/api/tokens", json!({ "name": "cli" }))
        .await;
    let script = reqwest::Client::new();
    let res = script
        .post(app.url("/api/a2e/nanobanana"))
        .bearer_auth(token["token"].as_str().unwrap())
        .header("origin", "https://elsewhere.example")
        .json(&scene)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);

    // Log-in CSRF: another site cannot log a visitor into an account of its choosing.
    let fresh = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = json!({ "email": "victim@example.com", "password": "correct horse battery" });
    let res = fresh
        .post(app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = fresh.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(res.status(), 401, "not logged in");
}
