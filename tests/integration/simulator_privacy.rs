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
        ("GET", "/a2e-sim/_simulator/stats"),
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

/// `./dev bench` reads A2E calls per training, and when each training ends, from the standalone
/// simulator's `/_simulator/stats`.
#[tokio::test]
async fn stats_count_the_calls_naming_each_avatar() {
    use avatar_studio::simulator::{router, SimulatorConfig};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sim = router(SimulatorConfig {
        speedup: 1.0,
        public_base_url: base.clone(),
        only_key: None,
        controls: true,
    });
    tokio::spawn(async move { axum::serve(listener, sim).await.unwrap() });
    let http = reqwest::Client::new();
    let key = "Bearer sk_stats_test";
    let started: serde_json::Value = http
        .post(format!("{base}/api/v1/userVideoTwin/startTraining"))
        .header("authorization", key)
        .json(&json!({ "name": "Stats [c.1]", "image_url": "http://127.0.0.1:9/p.png" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["data"]["_id"]
        .as_str()
        .expect("avatar id")
        .to_string();
    for _ in 0..3 {
        let res = http
            .get(format!("{base}/api/v1/userVideoTwin/{id}"))
            .header("authorization", key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let stats: serde_json::Value = http
        .get(format!("{base}/_simulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["calls"]["POST /api/v1/userVideoTwin/startTraining"],
        1
    );
    assert_eq!(stats["calls"]["GET /api/v1/userVideoTwin/{id}"], 3);
    let avatar = &stats["avatars"][0];
    assert_eq!(avatar["id"], id.as_str());
    assert_eq!(avatar["calls"], 3, "only the calls naming it: {stats}");
    // An image training takes 120–300 s of A2E time; at speed 1, as long on the wall clock.
    let span = avatar["ends_at_ms"].as_i64().unwrap() - avatar["started_at_ms"].as_i64().unwrap();
    assert!((120_000..=300_000).contains(&span), "{span} ms");
}
