//! The HTTP edge: cross-site requests refused, security headers, rate limits, closed sign-up.

use crate::common::{error_code, Backend, TestApp};
use leptos::server_fn::ServerFn;
use reqwest::header::{HeaderMap, ORIGIN, REFERER};
use serde_json::{json, Value};

on_both_databases!(
    cross_site_requests_are_refused_and_charge_nothing,
    log_in_from_another_site_is_refused,
    pages_and_answers_carry_security_headers,
    log_in_is_limited_per_address_and_per_email,
    paid_requests_and_polls_are_limited_per_user,
    closed_sign_up_refuses_with_a_way_forward,
);

const PASSWORD: &str = "correct horse battery";

/// A cookie-keeping client that sends no `Origin` unless told to.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

async fn cross_site_requests_are_refused_and_charge_nothing(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let browser = bare_client();
    let res = browser
        .post(app.url("/api/auth/signup"))
        .header(ORIGIN, &app.base)
        .json(&json!({ "email": "victim@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let scene = json!({ "prompt": "a duel", "characterRefs": [] });
    let posts = [
        ("Origin", "https://evil.example"),
        ("Origin", "null"),
        ("Referer", "https://evil.example/page"),
    ];
    for (name, value) in posts {
        let res = browser
            .post(app.url("/api/a2e/character"))
            .header(name, value)
            .json(&json!({ "prompt": "a knight" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(res).await,
            (403, "csrf".into()),
            "{name}: {value}"
        );
    }
    // A cookie and no Origin or Referer at all: not from our pages either.
    let res = browser
        .post(app.url("/api/a2e/nanobanana"))
        .json(&scene)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    let res = browser
        .delete(app.url("/api/tokens/whatever"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    let me: Value = browser
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["credits"], 100, "nothing charged");
    let list: Value = browser
        .get(app.url("/api/characters"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");

    // Our own pages (Origin, or only a Referer) and API tokens pass.
    let res = browser
        .post(app.url("/api/a2e/character"))
        .header(REFERER, app.url("/characters"))
        .json(&json!({ "prompt": "a knight" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let token: Value = browser
        .post(app.url("/api/tokens"))
        .header(ORIGIN, &app.base)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .post(app.url("/api/a2e/character"))
        .bearer_auth(token["token"].as_str().unwrap())
        .header(ORIGIN, "https://evil.example")
        .json(&json!({ "prompt": "a knight" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "API tokens are exempt");
}

async fn log_in_from_another_site_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("ana@example.com").await;
    let body = json!({ "email": "ana@example.com", "password": PASSWORD });
    let attacker = bare_client();
    let res = attacker
        .post(app.url("/api/auth/login"))
        .header(ORIGIN, "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    // The UI's server function: refused the same way, in the error shape the UI decodes.
    let login_fn = avatar_studio::server_fns::auth::LogIn::PATH;
    let res = attacker
        .post(app.url(login_fn))
        .header(ORIGIN, "https://evil.example")
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["code"], "csrf", "{err}");
    // From our own page it works; a script without cookies needs no Origin.
    let res = attacker
        .post(app.url(login_fn))
        .header(ORIGIN, &app.base)
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let script = reqwest::Client::new();
    let res = app.post(&script, "/api/auth/login", body).await;
    assert_eq!(res.status(), 200);
}

fn nonce_of(headers: &HeaderMap) -> String {
    let csp = headers["content-security-policy"].to_str().unwrap();
    let start = csp.find("'nonce-").expect("CSP has a nonce") + "'nonce-".len();
    csp[start..].split('\'').next().unwrap().to_string()
}

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(
        headers["referrer-policy"], "strict-origin-when-cross-origin",
        "{what}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    for part in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{what}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
}

async fn pages_and_answers_carry_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (browser, _) = app.user("headers@example.com").await;
    let page = browser.get(app.url("/")).send().await.unwrap();
    assert_security_headers(page.headers(), "page");
    assert!(
        page.headers().get("strict-transport-security").is_none(),
        "plain HTTP"
    );
    let nonce = nonce_of(page.headers());
    let html = page.text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page hydrates with scripts");
    for script in scripts {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "script without nonce: {tag}"
        );
    }
    let again = browser.get(app.url("/")).send().await.unwrap();
    assert_ne!(
        nonce_of(again.headers()),
        nonce,
        "a fresh nonce per response"
    );
    for path in ["/api/me", "/healthz", "/api/nope", "/no-such-page"] {
        let res = browser.get(app.url(path)).send().await.unwrap();
        assert_security_headers(res.headers(), path);
    }
    let upload = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(one_pixel_png()).file_name("dot.png"),
    );
    let kept: Value = browser
        .post(app.url("/api/media"))
        .multipart(upload)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media_url = kept["url"]
        .as_str()
        .expect("upload answers its URL")
        .to_string();
    let res = reqwest::get(media_url).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_security_headers(res.headers(), "media");

    let https = TestApp::spawn_with(backend, |c| {
        c.public_base_url = Some("https://studio.example.com".into());
    })
    .await;
    let res = reqwest::get(https.url("/healthz")).await.unwrap();
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
}

fn one_pixel_png() -> Vec<u8> {
    use base64::Engine;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    base64::engine::general_purpose::STANDARD
        .decode(png)
        .unwrap()
}

async fn login_attempt(app: &TestApp, from: &str, email: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", from)
        .json(&json!({ "email": email, "password": "wrong password!" }))
        .send()
        .await
        .unwrap()
}

async fn log_in_is_limited_per_address_and_per_email(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.login_rate_per_min = 3;
        c.trusted_proxy = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.user("ana@example.com").await;
    // One address: three wrong passwords answer 401, the fourth attempt is refused.
    for _ in 0..2 {
        let res = login_attempt(&app, "203.0.113.1", "ana@example.com").await;
        assert_eq!(res.status(), 401);
    }
    let res = login_attempt(&app, "203.0.113.1", "bo@example.com").await;
    assert_eq!(res.status(), 401);
    let res = login_attempt(&app, "203.0.113.1", "cy@example.com").await;
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    // One email from new addresses: its fourth attempt is refused too.
    let res = login_attempt(&app, "203.0.113.2", "ana@example.com").await;
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    // Another address and email are unaffected, and the right password still has to be right.
    let res = login_attempt(&app, "203.0.113.3", "bo@example.com").await;
    assert_eq!(res.status(), 401);
}

async fn paid_requests_and_polls_are_limited_per_user(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.paid_rate_per_min = 2;
        c.poll_rate_per_min = 2;
        c.a2e_simulator_speedup = 600.0;
    })
    .await;
    let (ana, _) = app.user("ana@example.com").await;
    let (bo, _) = app.user("bo@example.com").await;
    let knight = json!({ "prompt": "a knight" });
    let mut avatar = String::new();
    for _ in 0..2 {
        let res = app.post(&ana, "/api/a2e/character", knight.clone()).await;
        assert_eq!(res.status(), 201);
        let character: Value = res.json().await.unwrap();
        avatar = character["avatar_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    }
    let res = app.post(&ana, "/api/a2e/character", knight.clone()).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
    assert_eq!(
        app.credits(&ana).await,
        96,
        "the refused request charged nothing"
    );
    let res = app.post(&bo, "/api/a2e/character", knight).await;
    assert_eq!(res.status(), 201, "limits are per user");

    let status = format!("/api/a2e/avatar-status?avatar_id={avatar}");
    for _ in 0..2 {
        let res = ana.get(app.url(&status)).send().await.unwrap();
        assert_ne!(res.status(), 429);
    }
    let res = ana.get(app.url(&status)).send().await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
}

async fn closed_sign_up_refuses_with_a_way_forward(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.signup = "closed".into()).await;
    let client = app.client();
    let body = json!({ "email": "ana@example.com", "password": PASSWORD });
    let res = app.post(&client, "/api/auth/signup", body).await;
    assert_eq!(res.status(), 403);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "signup_closed");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("operator"));
    let res = client
        .post(app.url(avatar_studio::server_fns::auth::SignUp::PATH))
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let page = client.get(app.url("/signup")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign-up is closed"), "{html}");
    let me = client.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), 401, "no account was made");
}
