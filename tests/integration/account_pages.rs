//! The account pages' routes: the itemised ledger and credit summary, API tokens, password
//! change, account deletion, presets and importing A2E avatars — owner-only, bad input refused
//! with a clear 4xx, unsafe requests from other sites refused.

use crate::common::{error_code, Backend, TestApp};
use avatar_studio::a2e::TrainingRequest;
use avatar_studio::domain::credits;
use avatar_studio::simulator::{self, SimulatorConfig};
use serde_json::{json, Value};

on_both_databases!(
    ledger_lists_every_entry_with_what_it_was_for,
    ledger_pages_by_keyset_with_a_link_header,
    ledger_refuses_bad_paging_and_strangers,
    credits_show_a2e_coins_only_with_a_real_key,
    tokens_are_listed_and_revoked_by_their_owner_only,
    password_change_ends_other_sessions_and_keeps_tokens,
    password_change_refuses_bad_input,
    account_deletion_takes_everything_and_nothing_else,
    account_deletion_refuses_bad_input,
    presets_save_a_trained_characters_defaults,
    presets_refuse_bad_input_and_strangers,
    a2e_avatars_are_imported_once_and_never_lost,
    imports_refuse_bad_input_and_strangers,
    password_guesses_are_limited_like_log_ins,
);

async fn user_id(me: &Value) -> String {
    me["id"].as_str().unwrap().to_string()
}

async fn ledger(
    app: &TestApp,
    client: &reqwest::Client,
    query: &str,
) -> (Vec<Value>, Option<String>) {
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
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["settle", "reserve", "grant"],
        "newest first: {entries:?}"
    );
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

    let ids: Vec<&Value> = first
        .iter()
        .chain(&second)
        .chain(&third)
        .map(|e| &e["id"])
        .collect();
    let unique: std::collections::HashSet<String> = ids.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (7, 7),
        "every entry exactly once"
    );

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
    // The page shows them too, kept for a while (they move on their own).
    let hits = || app.state.studio.db.lists.html.stats().hits;
    let before = hits();
    for _ in 0..2 {
        let page = client
            .get(app.url("/account/credits"))
            .send()
            .await
            .unwrap();
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("data-testid=\"a2e-coins\""));
    }
    assert_eq!(hits(), before + 1, "the second was kept");

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

/// A request from another site (its `Origin`), riding on the session cookie.
fn from_elsewhere(req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    req.header("origin", "https://evil.example")
}

async fn tokens_are_listed_and_revoked_by_their_owner_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, _) = app.user("tokens@example.com").await;
    let made = app
        .post_json(&client, "/api/tokens", json!({ "name": "laptop" }))
        .await;
    let (id, secret) = (
        made["id"].as_str().unwrap(),
        made["token"].as_str().unwrap(),
    );
    let list: Value = app.get_json(&client, "/api/tokens").await;
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1);
    assert_eq!(list["tokens"][0]["name"], "laptop");
    assert!(
        list["tokens"][0].get("token").is_none(),
        "the secret is shown once"
    );

    let script = reqwest::Client::new();
    let me = script
        .get(app.url("/api/me"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Someone else cannot see or revoke it: their list is empty, the id unknown to them.
    let (other, _) = app.user("other@example.com").await;
    let theirs: Value = app.get_json(&other, "/api/tokens").await;
    assert!(theirs["tokens"].as_array().unwrap().is_empty());
    let res = other
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    // Another site cannot revoke it with the owner's cookie.
    let res = from_elsewhere(client.delete(app.url(&format!("/api/tokens/{id}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));

    let res = client
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = client
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await.0, 404, "revoked twice");
    let me = script
        .get(app.url("/api/me"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(me).await, (401, "invalid_token".into()));
}

async fn login(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, u16) {
    let client = app.client();
    let res = app
        .post(
            &client,
            "/api/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await;
    let status = res.status().as_u16();
    (client, status)
}

async fn me_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn password_change_ends_other_sessions_and_keeps_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = "moving@example.com";
    let (here, _) = app.user(email).await;
    let (elsewhere, status) = login(&app, email, "correct horse battery").await;
    assert_eq!(status, 200);
    let token = app
        .post_json(&here, "/api/tokens", json!({ "name": "ci" }))
        .await;
    let token = token["token"].as_str().unwrap().to_string();

    let res = app
        .post(
            &here,
            "/api/me/password",
            json!({ "current_password": "correct horse battery", "new_password": "a brand new phrase" }),
        )
        .await;
    assert_eq!(res.status(), 200);

    assert_eq!(me_status(&app, &here).await, 200, "this session goes on");
    assert_eq!(
        me_status(&app, &elsewhere).await,
        401,
        "the other session ended"
    );
    assert_eq!(me_status(&app, &elsewhere).await, 401, "for good");
    let script = reqwest::Client::new();
    let res = script
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "API tokens stay valid");

    assert_eq!(
        login(&app, email, "correct horse battery").await.1,
        401,
        "old password"
    );
    let (fresh, status) = login(&app, email, "a brand new phrase").await;
    assert_eq!(status, 200, "new password");
    assert_eq!(me_status(&app, &fresh).await, 200);

    // With a token, a script can change it too (it has no session to keep).
    let res = script
        .post(app.url("/api/me/password"))
        .bearer_auth(&token)
        .json(&json!({ "current_password": "a brand new phrase", "new_password": "yet another phrase" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(me_status(&app, &here).await, 401, "every session ended");
    assert_eq!(me_status(&app, &fresh).await, 401);
}

async fn password_change_refuses_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, _) = app.user("careful@example.com").await;
    let good = "correct horse battery";
    let cases = [
        (
            json!({ "current_password": "wrong one", "new_password": "a brand new phrase" }),
            400,
            "wrong_password",
        ),
        (
            json!({ "current_password": "", "new_password": "a brand new phrase" }),
            400,
            "wrong_password",
        ),
        (
            json!({ "current_password": good, "new_password": "short" }),
            400,
            "weak_password",
        ),
        (
            json!({ "current_password": good, "new_password": "password" }),
            400,
            "weak_password",
        ),
        (
            json!({ "current_password": good, "new_password": good }),
            400,
            "same_password",
        ),
        (json!({ "current_password": good }), 400, "invalid_request"),
        (json!([1, 2]), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let res = app.post(&client, "/api/me/password", body.clone()).await;
        assert_eq!(error_code(res).await, (status, code.to_string()), "{body}");
    }
    let res = client
        .post(app.url("/api/me/password"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "invalid_json".into()));
    let change = json!({ "current_password": good, "new_password": "a brand new phrase" });
    let res = from_elsewhere(client.post(app.url("/api/me/password")).json(&change))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    let res = reqwest::Client::new()
        .post(app.url("/api/me/password"))
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await.0, 401);
    // Nothing changed: the old password still logs in.
    assert_eq!(login(&app, "careful@example.com", good).await.1, 200);
}

/// Rows of a table that belong to the user.
async fn rows_of(app: &TestApp, table: &str, user: &str) -> i64 {
    use sqlx::Row;
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE user_id = $1");
    sqlx::query(&sql)
        .bind(user)
        .fetch_one(&app.state.studio.db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn trained_character(app: &TestApp, client: &reqwest::Client, prompt: &str) -> Value {
    let res = app
        .post(
            client,
            "/api/a2e/character",
            json!({ "prompt": prompt, "waitForAvatar": true }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let character: Value = res.json().await.unwrap();
    assert_eq!(character["avatar_status"], "completed", "{character}");
    character
}

async fn account_deletion_takes_everything_and_nothing_else(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, me) = app.user("leaving@example.com").await;
    let user = user_id(&me).await;
    let (stays, _) = app.user("staying@example.com").await;
    let kept = trained_character(&app, &stays, "a baker with flour on her apron").await;
    let gone = trained_character(&app, &client, "a sailor with a red scarf").await;
    let avatar = gone["avatar_id"].as_str().unwrap().to_string();
    let image = gone["image_url"].as_str().unwrap().to_string();
    assert_eq!(reqwest::get(&image).await.unwrap().status(), 200);
    let token = app
        .post_json(&client, "/api/tokens", json!({ "name": "ci" }))
        .await;
    // Work in flight: a scene just submitted, and a hold no job carries.
    let res = app
        .post(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "the sailor at sea", "character_refs": [{ "id": gone["id"] }] }),
        )
        .await;
    assert_eq!(res.status(), 202);
    credits::reserve(&app.state.studio.db, &user, 5, "stray-hold", "stray")
        .await
        .unwrap();

    let res = client
        .delete(app.url("/api/me"))
        .json(&json!({ "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    assert_eq!(me_status(&app, &client).await, 401, "logged out");
    let script = reqwest::Client::new();
    let res = script
        .get(app.url("/api/me"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "tokens went with it");
    for table in [
        "character_references",
        "generations",
        "credit_ledger",
        "api_tokens",
        "jobs",
    ] {
        assert_eq!(rows_of(&app, table, &user).await, 0, "{table} emptied");
    }
    assert_eq!(
        login(&app, "leaving@example.com", "correct horse battery")
            .await
            .1,
        401
    );

    // Its avatar is removed at A2E (by a job that outlived the account), its files deleted.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app
        .simulator_requests_to("/api/v1/userVideoTwin/remove")
        .await
        .is_empty()
        && std::time::Instant::now() < until
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let removed = app
        .simulator_requests_to("/api/v1/userVideoTwin/remove")
        .await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed[0].to_string().contains(&avatar), "{removed:?}");
    assert_eq!(
        reqwest::get(&image).await.unwrap().status(),
        404,
        "its media is gone"
    );

    // The other user keeps everything.
    let theirs: Vec<Value> = app.get_json(&stays, "/api/characters").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["id"], kept["id"]);
    let kept_image = kept["image_url"].as_str().unwrap();
    assert_eq!(reqwest::get(kept_image).await.unwrap().status(), 200);
    assert_eq!(me_status(&app, &stays).await, 200);
}

async fn account_deletion_refuses_bad_input(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, _) = app.user("staying@example.com").await;
    for (body, code) in [
        (json!({ "password": "not my password" }), "wrong_password"),
        (json!({ "password": "" }), "wrong_password"),
        (json!({}), "invalid_request"),
    ] {
        let res = client
            .delete(app.url("/api/me"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await, (400, code.to_string()), "{body}");
    }
    let res = client.delete(app.url("/api/me")).send().await.unwrap();
    assert_eq!(error_code(res).await.0, 415, "no body");
    let body = json!({ "password": "correct horse battery" });
    let res = from_elsewhere(client.delete(app.url("/api/me")).json(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    let res = reqwest::Client::new()
        .delete(app.url("/api/me"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await.0, 401);
    assert_eq!(me_status(&app, &client).await, 200, "still there");
    assert_eq!(app.credits(&client).await, 100);
}

async fn presets_save_a_trained_characters_defaults(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("presets@example.com").await;
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a pilot", "name": "Mira", "outfit_description": "navy flight suit",
                    "model_version": "V1.0", "waitForAvatar": true }),
        )
        .await;
    let mira: Value = res.json().await.unwrap();
    assert_eq!(mira["avatar_status"], "completed");
    let id = mira["id"].as_str().unwrap();
    presets_check_each_field(&app, &client, id).await;

    let body = json!({ "name": "Mira noir", "character_id": id, "voice": "en-US-female-1",
                       "aspect_ratio": "9:16", "motion_clip_url": "https://example.com/kick.mp4" });
    let res = app.post(&client, "/api/presets", body.clone()).await;
    assert_eq!(res.status(), 201);
    let preset: Value = res.json().await.unwrap();
    assert_eq!(
        preset["outfit_description"], "navy flight suit",
        "the character's own"
    );
    assert_eq!(preset["model_version"], "V1.0");
    assert_eq!(preset["voice"], "en-US-female-1");
    assert_eq!(preset["aspect_ratio"], "9:16");
    assert_eq!(preset["motion_clip_url"], "https://example.com/kick.mp4");
    assert_eq!(preset["character_id"], id);

    // Given values win over the character's.
    let res = app
        .post(
            &client,
            "/api/presets",
            json!({ "name": "Mira casual", "characterId": id,
              "outfitDescription": "jeans and a hoodie", "modelVersion": "V2.1" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let casual: Value = res.json().await.unwrap();
    assert_eq!(casual["outfit_description"], "jeans and a hoodie");
    assert_eq!(casual["model_version"], "V2.1");
    assert!(casual["aspect_ratio"].is_null());

    let list: Vec<Value> = app.get_json(&client, "/api/presets").await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "Mira casual", "newest first");
    assert_eq!(list[1]["character_name"], "Mira");

    // Same name again: refused, nothing saved.
    let res = app.post(&client, "/api/presets", body).await;
    assert_eq!(error_code(res).await, (409, "preset_exists".into()));

    // The character may go; its presets stay, without it.
    let res = client
        .delete(app.url(&format!("/api/characters/{id}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let list: Vec<Value> = app.get_json(&client, "/api/presets").await;
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|p| p["character_id"].is_null()), "{list:?}");

    let preset_id = casual["id"].as_str().unwrap();
    let res = client
        .delete(app.url(&format!("/api/presets/{preset_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = client
        .delete(app.url(&format!("/api/presets/{preset_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let list: Vec<Value> = app.get_json(&client, "/api/presets").await;
    assert_eq!(list.len(), 1);
}

async fn presets_refuse_bad_input_and_strangers(backend: Backend) {
    // At ten times real speed the portrait takes a second, the training half a minute: the
    // avatar is still training throughout the test.
    let app = TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = 10.0;
        c.job_tick_ms = 50;
    })
    .await;
    let (client, _) = app.user("careful@example.com").await;
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a slow learner" }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let untrained: Value = res.json().await.unwrap();
    let id = untrained["id"].as_str().unwrap();
    let res = app
        .post(
            &client,
            "/api/presets",
            json!({ "name": "Too soon", "character_id": id }),
        )
        .await;
    assert_eq!(error_code(res).await, (409, "not_trained".into()));

    let (other, _) = app.user("other@example.com").await;
    let res = app
        .post(
            &other,
            "/api/presets",
            json!({ "name": "Not mine", "character_id": id }),
        )
        .await;
    assert_eq!(
        error_code(res).await,
        (404, "not_found".into()),
        "someone else's character"
    );

    let cases = [
        (json!({ "character_id": id }), 400, "invalid_name"),
        (
            json!({ "name": "   ", "character_id": id }),
            400,
            "invalid_name",
        ),
        (
            json!({ "name": "n".repeat(61), "character_id": id }),
            400,
            "invalid_name",
        ),
        (json!({ "name": "No character" }), 400, "missing_character"),
        (
            json!({ "name": "Ghost", "character_id": "nope" }),
            404,
            "not_found",
        ),
        (
            json!({ "name": 5, "character_id": id }),
            400,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let res = app.post(&client, "/api/presets", body.clone()).await;
        assert_eq!(error_code(res).await, (status, code.to_string()), "{body}");
    }
    let res = client
        .post(app.url("/api/presets"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "invalid_json".into()));
    let res = from_elsewhere(
        client
            .post(app.url("/api/presets"))
            .json(&json!({ "name": "x" })),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    let res = reqwest::get(app.url("/api/presets")).await.unwrap();
    assert_eq!(error_code(res).await.0, 401);
    let res = other
        .delete(app.url("/api/presets/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let list: Vec<Value> = app.get_json(&client, "/api/presets").await;
    assert!(list.is_empty(), "nothing saved");
}

/// Field checks that need a trained character: each refused with its own code.
async fn presets_check_each_field(app: &TestApp, client: &reqwest::Client, id: &str) {
    let cases = [
        (json!({ "aspect_ratio": "2:1" }), "invalid_aspect_ratio"),
        (json!({ "model_version": "V9" }), "invalid_model_version"),
        (json!({ "voice": "a voice with spaces" }), "invalid_voice"),
        (
            json!({ "motion_clip_url": "ftp://example.com/x.mp4" }),
            "invalid_url",
        ),
        (
            json!({ "motion_clip_url": "http://127.0.0.1/x.mp4" }),
            "url_refused",
        ),
        (
            json!({ "outfit_description": "o".repeat(501) }),
            "invalid_field",
        ),
    ];
    for (extra, code) in cases {
        let mut body = json!({ "name": "Checked", "character_id": id });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let res = app.post(client, "/api/presets", body.clone()).await;
        assert_eq!(error_code(res).await, (400, code.to_string()), "{body}");
    }
}

/// An avatar trained in the A2E account outside the studio (A2E's own app); waits until A2E
/// has finished it (the simulator runs 600× faster).
async fn trained_elsewhere(app: &TestApp, name: &str) -> String {
    let request = TrainingRequest {
        name: name.to_string(),
        image_url: Some("https://example.com/face.png".into()),
        gender: "female".into(),
        model_version: "V2.1".into(),
        ..Default::default()
    };
    let a2e = &app.state.studio.a2e;
    let id = a2e.start_training(&request).await.unwrap().id;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let status = a2e.training_status(&id).await.unwrap().current_status;
        if status.is_final() || std::time::Instant::now() > until {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn avatars(app: &TestApp, client: &reqwest::Client) -> Vec<Value> {
    let res = client
        .get(app.url("/api/a2e/avatars"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn listed<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|a| a["avatar_id"] == id)
}

async fn a2e_avatars_are_imported_once_and_never_lost(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (ana, _) = app.user("ana@example.com").await;
    let (ben, _) = app.user("ben@example.com").await;
    let own = trained_character(&app, &ana, "a studio-made knight").await;
    let own_avatar = own["avatar_id"].as_str().unwrap();
    let outside = trained_elsewhere(&app, "Trained in A2E").await;

    let list = avatars(&app, &ana).await;
    let entry = listed(&list, &outside).expect("the outside avatar is listed");
    assert_eq!(entry["imported"], false);
    assert_eq!(entry["importable"], true);
    assert_eq!(entry["status"], "completed");
    let mine = listed(&list, own_avatar).expect("her own avatar is listed");
    assert_eq!(mine["imported"], true);
    assert_eq!(mine["character_id"], own["id"]);
    let theirs = avatars(&app, &ben).await;
    assert!(
        listed(&theirs, own_avatar).is_none(),
        "never another user's avatar"
    );
    assert!(listed(&theirs, &outside).is_some());

    let res = app
        .post(
            &ana,
            "/api/characters/import",
            json!({ "avatar_ids": [outside] }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let made: Vec<Value> = res.json().await.unwrap();
    assert_eq!(made.len(), 1);
    let adopted = &made[0];
    assert_eq!(adopted["avatar_id"], outside.as_str());
    assert_eq!(adopted["avatar_status"], "completed");
    assert_eq!(adopted["name"], "Trained in A2E");
    let picture = adopted["image_url"].as_str().expect("a kept picture");
    assert!(
        picture.starts_with(&app.base),
        "kept in our media store: {picture}"
    );
    assert_eq!(reqwest::get(picture).await.unwrap().status(), 200);

    // Nothing imported twice: not by her again, not by him.
    let again = app
        .post(
            &ana,
            "/api/characters/import",
            json!({ "avatarIds": [outside] }),
        )
        .await;
    assert_eq!(error_code(again).await, (409, "already_imported".into()));
    let his = app
        .post(
            &ben,
            "/api/characters/import",
            json!({ "avatar_ids": [outside] }),
        )
        .await;
    assert_eq!(error_code(his).await, (404, "not_found".into()));
    let list = avatars(&app, &ana).await;
    assert_eq!(listed(&list, &outside).unwrap()["imported"], true);
    assert!(listed(&avatars(&app, &ben).await, &outside).is_none());

    // Two users racing for one avatar: exactly one gets it.
    let contested = trained_elsewhere(&app, "Contested").await;
    let body = json!({ "avatar_ids": [contested] });
    let (a, b) = tokio::join!(
        app.post(&ana, "/api/characters/import", body.clone()),
        app.post(&ben, "/api/characters/import", body.clone()),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses[0], 201, "{statuses:?}");
    assert!(matches!(statuses[1], 404 | 409), "{statuses:?}");

    // Deleting the adopted character gives the avatar back instead of removing it at A2E.
    let id = adopted["id"].as_str().unwrap();
    let res = ana
        .delete(app.url(&format!("/api/characters/{id}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let removals = app
        .simulator_requests_to("/api/v1/userVideoTwin/remove")
        .await;
    assert!(
        !removals.iter().any(|r| r.to_string().contains(&outside)),
        "{removals:?}"
    );
    let list = avatars(&app, &ben).await;
    assert_eq!(
        listed(&list, &outside).unwrap()["importable"],
        true,
        "back in the list"
    );
}

async fn imports_refuse_bad_input_and_strangers(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("careful@example.com").await;
    let res = client
        .post(app.url("/a2e-sim/_simulator/fail-next-training"))
        .json(&json!({ "reason": "no face found" }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let failed = trained_elsewhere(&app, "Failed elsewhere").await;
    let list = avatars(&app, &client).await;
    let entry = listed(&list, &failed).unwrap();
    assert_eq!(
        (entry["status"].as_str(), entry["importable"].as_bool()),
        (Some("failed"), Some(false))
    );

    let cases = [
        (json!({ "avatar_ids": [] }), 400, "invalid_avatar_ids"),
        (json!({ "avatar_ids": ["nope"] }), 400, "invalid_avatar_id"),
        (
            json!({ "avatar_ids": ["0123456789abcdef01234567"] }),
            404,
            "not_found",
        ),
        (json!({ "avatar_ids": [failed] }), 409, "not_trained"),
        (json!({}), 400, "invalid_request"),
        (json!({ "avatar_ids": "x" }), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let res = app
            .post(&client, "/api/characters/import", body.clone())
            .await;
        assert_eq!(error_code(res).await, (status, code.to_string()), "{body}");
    }
    let res = from_elsewhere(
        client
            .post(app.url("/api/characters/import"))
            .json(&json!({ "avatar_ids": [failed] })),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(error_code(res).await, (403, "csrf".into()));
    for res in [
        reqwest::get(app.url("/api/a2e/avatars")).await.unwrap(),
        reqwest::Client::new()
            .post(app.url("/api/characters/import"))
            .json(&json!({ "avatar_ids": [failed] }))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(error_code(res).await.0, 401);
    }
    let characters: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert!(characters.is_empty(), "nothing half-imported");
}

async fn password_guesses_are_limited_like_log_ins(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_rate_per_min = 3).await;
    let (client, _) = app.user("guarded@example.com").await;
    let guess = json!({ "current_password": "guess", "new_password": "a brand new phrase" });
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = app.post(&client, "/api/me/password", guess.clone()).await;
        statuses.push(res.status().as_u16());
    }
    // Sign-up took one of the three; two wrong guesses, then the limit.
    assert_eq!(statuses, [400, 400, 429, 429]);
    let res = client
        .delete(app.url("/api/me"))
        .json(&json!({ "password": "guess" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (429, "rate_limited".into()));
}
