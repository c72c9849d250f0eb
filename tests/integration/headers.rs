//! Security headers: pages carry a Content-Security-Policy whose nonce is the one on their
//! inline scripts; every answer is nosniff, unframeable, with a referrer policy; HSTS and
//! Secure cookies follow an https PUBLIC_BASE_URL.

use crate::common::{Backend, TestApp};

on_both_databases!(pages_and_answers_carry_security_headers);

async fn pages_and_answers_carry_security_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (page, _) = app.user("headers@example.com").await;
    let res = page.get(app.url("/")).send().await.unwrap();
    let headers = res.headers().clone();
    let html = res.text().await.unwrap();
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the page policy names a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry it"
    );
    for part in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"));
    let again = page.get(app.url("/")).send().await.unwrap();
    assert_ne!(
        again.headers()["content-security-policy"].to_str().unwrap(),
        csp,
        "a nonce per response"
    );
    for path in ["/", "/api/me", "/healthz"] {
        let res = page.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
    let json_csp = page.get(app.url("/api/me")).send().await.unwrap();
    let json_csp = json_csp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(json_csp.contains("frame-ancestors 'none'"), "{json_csp}");

    // Served as https: HSTS, and the session cookie is Secure.
    let secure = TestApp::spawn_with(backend, |c| {
        c.public_base_url = Some("https://studio.example.com".into());
    })
    .await;
    let res = reqwest::Client::new()
        .post(secure.url("/api/auth/signup"))
        .header("origin", "https://studio.example.com")
        .json(
            &serde_json::json!({ "email": "tls@example.com", "password": "correct horse battery" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("strict-transport-security").is_some());
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
}
