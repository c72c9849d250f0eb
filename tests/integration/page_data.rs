//! A server-rendered page loads and sends each piece of its data once, however many pages are
//! rendered at once. (A page built inside a `<Suspense>` is built again each time Leptos checks
//! the boundary for pending loads, and under load that happened up to eight times a render:
//! every build loaded its data again, and every copy was sent.) On SQLite and PostgreSQL.

use crate::common::{Backend, TestApp};
use reqwest::Client;
use serde_json::{json, Value};

on_both_databases!(pages_load_their_data_once);

/// What each page loads: the session, then its own data.
const PAGES: [(&str, usize, &str); 6] = [
    (
        "/",
        5,
        "the session, a preset, the picker's characters, the history, the prices",
    ),
    (
        "/characters",
        3,
        "the session, the gallery's first page, a preset for its form",
    ),
    (
        "/characters/{id}",
        3,
        "the session, the character, its provenance",
    ),
    (
        "/account",
        3,
        "the session, the API tokens, the importable avatars",
    ),
    ("/account/credits", 2, "the session, the ledger"),
    (
        "/presets",
        4,
        "the session, the presets, the picker's characters, the voices",
    ),
];

/// How many pages of each kind are rendered at once.
const AT_ONCE: usize = 12;

async fn pages_load_their_data_once(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("data@example.com").await;
    let mut ids = Vec::new();
    for name in ["Ada", "Bo", "Cy"] {
        let body = json!({ "name": name, "prompt": format!("a knight named {name}") });
        let res = app.post(&client, "/api/a2e/character", body).await;
        assert_eq!(res.status(), 201);
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let scene = json!({ "prompt": "a duel at dawn", "characterIds": [ids[0], ids[1]] });
    assert_eq!(
        app.post(&client, "/api/a2e/nanobanana", scene)
            .await
            .status(),
        202
    );

    for (path, loads, what) in PAGES {
        let path = path.replace("{id}", &ids[0]);
        let renders = (0..AT_ONCE).map(|_| resources_sent(&app, &client, &path));
        for sent in futures::future::join_all(renders).await {
            assert_eq!(
                sent.len(),
                loads,
                "{path} sends {what}, once each: {sent:#?}"
            );
        }
    }

    // Logged out, a page shows the way in and loads nothing but the session.
    let html = page(&app, &app.client(), "/").await;
    assert!(html.contains("Welcome to Avatar Studio"));
    assert_eq!(resolved(&html).len(), 1);
}

async fn resources_sent(app: &TestApp, client: &Client, path: &str) -> Vec<String> {
    resolved(&page(app, client, path).await)
}

async fn page(app: &TestApp, client: &Client, path: &str) -> String {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

/// The data a page sent for hydration, one entry per resource, shortened for messages.
fn resolved(html: &str) -> Vec<String> {
    html.split("__RESOLVED_RESOURCES[")
        .skip(1)
        .filter_map(|entry| entry.split_once("] = "))
        .map(|(_, value)| value.chars().take(80).collect())
        .collect()
}
