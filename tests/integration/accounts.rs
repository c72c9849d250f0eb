//! Accounts, sessions and API tokens over the JSON API, on SQLite and PostgreSQL.

use crate::common::{error_code, Backend, TestApp};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, SET_COOKIE};
use serde_json::{json, Value};

on_both_databases!(
    health_answers_once_the_database_does,
    signup_starts_a_session_with_starting_credits,
    bad_signups_get_clear_errors,
    malformed_bodies_get_clear_errors,
    login_and_logout,
    api_tokens_authenticate_scripts,
    unknown_api_routes_answer_json,
    pages_render_with_the_shell,
);

async fn health_answers_once_the_database_does(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
}

async fn signup_starts_a_session_with_starting_credits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client();
    let res = client
        .post(app.url("/api/auth/signup"))
        .json(&json!({ "email": " Ana@Example.com ", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let cookie = res
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("avatar_studio_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["email"], "ana@example.com");
    assert_eq!(created["credits"], 100);
    assert!(created.get("password_hash").is_none());

    let me: Value = app.get_json(&client, "/api/me").await;
    assert_eq!(me, created);

    // A second browser without the cookie is not logged in.
    let res = app.client().get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}

async fn bad_signups_get_clear_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("taken@example.com").await;
    let cases = [
        (
            json!({ "email": "TAKEN@example.com", "password": "correct horse battery" }),
            409,
            "email_taken",
        ),
        (
            json!({ "email": "new@example.com", "password": "short" }),
            400,
            "weak_password",
        ),
        (
            json!({ "email": "new@example.com", "password": "password" }),
            400,
            "weak_password",
        ),
        (
            json!({ "email": "not-an-email", "password": "correct horse battery" }),
            400,
            "invalid_email",
        ),
        (
            json!({ "email": "x".repeat(300) + "@example.com", "password": "correct horse battery" }),
            400,
            "invalid_email",
        ),
    ];
    for (body, status, code) in cases {
        let res = app
            .client()
            .post(app.url("/api/auth/signup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await, (status, code.to_string()), "{body}");
        // The sign-up page's server function answers with the same status, never a 500.
        let path = <avatar_studio::server_fns::auth::SignUp as leptos::server_fn::ServerFn>::PATH;
        let res = app
            .client()
            .post(app.url(path))
            .form(&[
                ("email", body["email"].as_str().unwrap()),
                ("password", body["password"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status, "{body}");
    }
    // Nothing was half-saved: the refused address can still sign up properly.
    app.user("new@example.com").await;
}

async fn malformed_bodies_get_clear_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.client();
    let post = |body: String, content_type: &'static str| {
        client
            .post(app.url("/api/auth/signup"))
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let res = post("{\"email\": ".into(), "application/json")
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "invalid_json".into()));
    let res = post("{\"email\":\"a@b.io\"}".into(), "application/json")
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "invalid_request".into()));
    let res = post("email=a@b.io".into(), "text/plain").await.unwrap();
    assert_eq!(
        error_code(res).await,
        (415, "unsupported_media_type".into())
    );
    let huge = format!(
        "{{\"email\":\"a@b.io\",\"password\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let res = post(huge, "application/json").await.unwrap();
    assert_eq!(error_code(res).await, (413, "too_large".into()));
}

async fn login_and_logout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (signed_up, me) = app.user("lee@example.com").await;
    signed_up
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    let res = signed_up.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);

    let client = app.client();
    let login = |password: &'static str, email: &'static str| {
        client
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
    };
    let res = login("wrong password!", "lee@example.com").await.unwrap();
    assert_eq!(error_code(res).await, (401, "invalid_credentials".into()));
    let res = login("correct horse battery", "nobody@example.com")
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (401, "invalid_credentials".into()));
    assert_eq!(
        client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let res = login("correct horse battery", "LEE@example.com")
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let again: Value = app.get_json(&client, "/api/me").await;
    assert_eq!(again["id"], me["id"]);
}

async fn api_tokens_authenticate_scripts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (browser, me) = app.user("script@example.com").await;
    let res = browser
        .post(app.url("/api/tokens"))
        .json(&json!({ "name": "ci" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ast_"));

    let script = reqwest::Client::new();
    let bearer = |t: &str| format!("Bearer {t}");
    let res = script
        .get(app.url("/api/me"))
        .header(AUTHORIZATION, bearer(&token))
        .send()
        .await
        .unwrap();
    let seen: Value = res.json().await.unwrap();
    assert_eq!(seen["id"], me["id"]);

    // Listing never shows the secret again; an empty POST makes a token with a default name.
    let list: Value = app.get_json(&browser, "/api/tokens").await;
    assert_eq!(list["tokens"][0]["name"], "ci");
    assert!(list["tokens"][0].get("token").is_none());
    assert!(!list.to_string().contains(&token));
    let res = browser.post(app.url("/api/tokens")).send().await.unwrap();
    assert_eq!(res.status(), 201);

    // Someone else cannot revoke it; its owner can, and then it stops working.
    let (other, _) = app.user("other@example.com").await;
    let id = created["id"].as_str().unwrap();
    let res = other
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let res = browser
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = script
        .get(app.url("/api/me"))
        .header(AUTHORIZATION, bearer(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (401, "invalid_token".into()));
    let res = script
        .get(app.url("/api/me"))
        .header(AUTHORIZATION, "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (401, "invalid_token".into()));
}

async fn unknown_api_routes_answer_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = reqwest::get(app.url("/api/nope")).await.unwrap();
    assert_eq!(error_code(res).await, (404, "unknown_route".into()));
}

async fn pages_render_with_the_shell(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (browser, _) = app.user("pages@example.com").await;
    let html = browser
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Avatar Studio"));
    assert!(html.contains("Demo mode: simulated A2E"));
    assert!(html.contains("pages@example.com"));
    assert!(html.contains("data-testid=\"credits\""));
    assert!(!html.contains("argon2"), "no password hash in pages");
    let res = browser
        .get(app.url("/definitely/not/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page not found"));
}
