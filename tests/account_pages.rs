//! The account pages' routes: the itemised ledger and credit summary, API tokens, password
//! change, account deletion, presets and importing A2E avatars — owner-only, bad input refused
//! with a clear 4xx, unsafe requests from other sites refused.

mod common;

use avatar_studio::domain::credits;
use avatar_studio::simulator::{self, SimulatorConfig};
use common::{error_code, Backend, TestApp};
use serde_json::{json, Value};

on_both_databases!(
    ledger_lists_every_entry_with_what_it_was_for,
    ledger_pages_by_keyset_with_a_link_header,
    ledger_refuses_bad_paging_and_strangers,
    credits_show_a2e_coins_only_with_a_real_key,
);

async fn user_id(me: &Value) -> String {
    me["id"].as_str().unwrap().to_string()
}

async fn ledger(app: &TestApp, client: &reqwest::Client, query: &str) -> (Vec<Value>, Option<String>) {
    let res = client
        .get(app.url(&format!("/api/ledger{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "ledger{query}");
    let link = res
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_string());
    (res.json().await.unwrap(), link)
}

/// The URL in `Link: <url>; rel="next"`.
fn next_of(link: &str) -> String {
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    link.trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string()
}

/// Waits until the character's portrait charge is settled (its job carries it on).
async fn wait_for_settle(app: &TestApp, client: &reqwest::Client) -> Vec<Value> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (entries, _) = ledger(app, client, "").await;
        if entries.iter().any(|e| e["kind"] == "settle") || std::time::Instant::now() > until {
            return entries;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn ledger_lists_every_entry_with_what_it_was_for(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("ledger@example.com").await;
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a knight in silver armour", "name": "Sir Test" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let character: Value = res.json().await.unwrap();
    let id = character["id"].as_str().unwrap();

    let entries = wait_for_settle(&app, &client).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["settle", "reserve", "grant"], "newest first: {entries:?}");
    let (settle, reserve, grant) = (&entries[0], &entries[1], &entries[2]);
    assert_eq!(grant["amount"], 100);
    assert_eq!(grant["description"], "Welcome credits");
    assert!(grant.get("subject").is_none());
    assert_eq!(reserve["amount"], -2);
    assert_eq!(reserve["description"], "Held for: Character portrait");
    assert_eq!(settle["amount"], 0);
    assert_eq!(settle["description"], "Charged: Character portrait");
    for entry in [settle, reserve] {
        assert_eq!(entry["subject"]["kind"], "character");
        assert_eq!(entry["subject"]["id"], id);
        assert_eq!(entry["subject"]["name"], "Sir Test");
        assert_eq!(entry["subject"]["link"], format!("/characters/{id}"));
    }

    // A deleted character's entries stay, saying so (no name, no link).
    let res = client
        .delete(app.url(&format!("/api/characters/{id}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let (entries, _) = ledger(&app, &client, "").await;
    let reserve = entries.iter().find(|e| e["kind"] == "reserve").unwrap();
    assert_eq!(reserve["subject"]["id"], id);
    assert!(reserve["subject"].get("name").is_none());
    assert!(reserve["subject"].get("link").is_none());
}

async fn ledger_pages_by_keyset_with_a_link_header(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, me) = app.user("pages@example.com").await;
    let user = user_id(&me).await;
    let db = &app.state.studio.db;
    for i in 0..6 {
        let key = format!("top-up-{i}");
        credits::grant(db, &user, i + 1, &key, &format!("Top-up {i}"))
            .await
            .unwrap();
    }
    // 7 entries: pages of 3, 3 and 1.
    let (first, link) = ledger(&app, &client, "?limit=3").await;
    assert_eq!(first.len(), 3);
    assert_eq!(first[0]["description"], "Top-up 5", "newest first");
    let next = next_of(&link.expect("a next page"));
    assert!(next.starts_with("/api/ledger?limit=3&cursor="), "{next}");
    let (second, link) = ledger(&app, &client, next.trim_start_matches("/api/ledger")).await;
    assert_eq!(second.len(), 3);
    let next = next_of(&link.expect("a third page"));
    let (third, link) = ledger(&app, &client, next.trim_start_matches("/api/ledger")).await;
    assert_eq!(third.len(), 1);
    assert!(link.is_none(), "no Link on the last page");
    assert_eq!(third[0]["description"], "Welcome credits");

    let ids: Vec<&Value> = first.iter().chain(&second).chain(&third).map(|e| &e["id"]).collect();
    let unique: std::collections::HashSet<String> = ids.iter().map(|v| v.to_string()).collect();
    assert_eq!((ids.len(), unique.len()), (7, 7), "every entry exactly once");

    // A new entry does not shift the pages already handed out.
    credits::grant(db, &user, 1, "late", "Late").await.unwrap();
    let (again, _) = ledger(&app, &client, next.trim_start_matches("/api/ledger")).await;
    assert_eq!(again, third);

    // Exactly a page's worth: no Link.
    let (all, link) = ledger(&app, &client, "?limit=8").await;
    assert_eq!(all.len(), 8);
    assert!(link.is_none());
}

async fn ledger_refuses_bad_paging_and_strangers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, _) = app.user("bad@example.com").await;
    for (query, code) in [
        ("?limit=0", "invalid_limit"),
        ("?limit=201", "invalid_limit"),
        ("?limit=ten", "invalid_limit"),
        ("?cursor=nonsense", "invalid_cursor"),
        ("?cursor=12.a%27b", "invalid_cursor"),
    ] {
        let res = client
            .get(app.url(&format!("/api/ledger{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await, (400, code.to_string()), "{query}");
    }
    // Logged out: 401, on both routes.
    for path in ["/api/ledger", "/api/credits"] {
        let res = reqwest::get(app.url(path)).await.unwrap();
        assert_eq!(error_code(res).await.0, 401, "{path}");
    }
    // Someone else's entries never show.
    let (other, _) = app.user("other@example.com").await;
    let db = &app.state.studio.db;
    let me: Value = app.get_json(&client, "/api/me").await;
    credits::grant(db, me["id"].as_str().unwrap(), 5, "mine", "Mine")
        .await
        .unwrap();
    let (theirs, _) = ledger(&app, &other, "").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["description"], "Welcome credits");
    let summary: Value = app.get_json(&client, "/api/credits").await;
    assert_eq!(summary["balance"], 105);
    assert!(summary.get("a2e").is_none(), "demo mode has no A2E coins");
}

/// A stand-in for the real A2E on its own port, accepting only `key`.
async fn external_simulator(key: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = simulator::router(SimulatorConfig {
        speedup: 600.0,
        public_base_url: base.clone(),
        only_key: Some(key.to_string()),
        controls: false,
    });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

async fn credits_show_a2e_coins_only_with_a_real_key(backend: Backend) {
    let key = "sk_account_pages_test";
    let base = external_simulator(key).await;
    let app = TestApp::spawn_with(backend, |c| {
        c.a2e_api_key = Some(key.to_string());
        c.a2e_base_url = base.clone();
    })
    .await;
    let (client, _) = app.user("coins@example.com").await;
    let summary: Value = app.get_json(&client, "/api/credits").await;
    assert_eq!(summary["balance"], 100);
    assert!(
        summary["a2e"]["coins"].as_f64().is_some_and(|c| c > 0.0),
        "{summary}"
    );
    assert!(summary["a2e"]["diamonds"].is_number());

    // A2E unreachable: the coins are left out, the balance still answers.
    let app = TestApp::spawn_with(backend, |c| {
        c.a2e_api_key = Some(key.to_string());
        c.a2e_base_url = "http://127.0.0.1:9".into();
        c.a2e_timeout_secs = 1;
    })
    .await;
    let (client, _) = app.user("coins@example.com").await;
    let summary: Value = app.get_json(&client, "/api/credits").await;
    assert_eq!(summary["balance"], 100);
    assert!(summary.get("a2e").is_none(), "{summary}");
}
