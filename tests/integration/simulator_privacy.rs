//! The demo simulator is private: only the studio's own key (made at each start) reaches its
//! A2E API, its test controls exist only when `SIMULATOR_CONTROLS=true`, and an A2E key that is
//! set but empty stops the server instead of quietly switching to demo mode.

use crate::common::{Backend, TestApp};
use serde_json::json;

on_both_databases!(controls_are_off_by_default_and_keys_are_checked);

async fn controls_are_off_by_default_and_keys_are_checked(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.simulator_controls = false).await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("POST", "/a2e-sim/_simulator/reset"),
        ("GET", "/a2e-sim/_simulator/requests"),
        ("POST", "/a2e-sim/_simulator/faults"),
        ("POST", "/a2e-sim/_simulator/fail-next-training"),
    ] {
        let res = http
            .request(method.parse().unwrap(), app.url(path))
            .json(&json!({ "rate": 1.0, "kinds": ["server_error"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} {path} is not served");
    }
    // The A2E API answers only the studio's own key: not a guess, not the old constant.
    for key in [None, Some("sk_demo_simulator"), Some("sk_guess")] {
        let mut req = http.get(app.url("/a2e-sim/api/v1/user/remainingCoins"));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{key:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], 401, "A2E's error shape");
    }
    // The studio itself still works against it.
    let (client, _) = app.user("private@example.com").await;
    let made = app
        .post_json(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a lone sailor" }),
        )
        .await;
    assert_eq!(made["avatar_status"], "training", "{made}");
}

#[tokio::test]
async fn an_empty_a2e_key_is_refused_at_start() {
    for (key, token) in [(Some(""), None), (None, Some("  "))] {
        let dir =
            std::env::temp_dir().join(format!("avatar-studio-key-{}", crate::common::uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = <avatar_studio::config::Cli as clap::Parser>::parse_from([
            "avatar-studio",
            "--database-url",
            &format!("sqlite://{}/k.db", dir.display()),
        ])
        .config;
        config.a2e_api_key = key.map(String::from);
        config.a2e_api_token = token.map(String::from);
        let refused = avatar_studio::server::router::build(config).await;
        let message = refused.err().expect("refused to start");
        assert!(message.contains("set but empty"), "{message}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
