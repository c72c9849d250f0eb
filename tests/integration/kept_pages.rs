//! A server-rendered page is kept as sent while nothing it shows has changed
//! (`server::kept_pages`): every answer carries its own CSP nonce, every change shows in the
//! next page whoever wrote it, and a page showing something that changes with time (a
//! training's ETA), an error or another user's request is never answered from memory.

use crate::common::{Backend, TestApp};
use crate::library::{named, patch, scene, until_character, until_finished};
use reqwest::Client;
use serde_json::json;

on_both_databases!(kept_pages_show_every_change);

/// A page's HTML and the nonce its Content-Security-Policy allows.
async fn page(app: &TestApp, client: &Client, path: &str) -> (u16, String, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next();
    let nonce = nonce.unwrap().to_string();
    (status, res.text().await.unwrap(), nonce)
}

/// The page as text, checked to carry its own nonce.
async fn html(app: &TestApp, client: &Client, path: &str) -> String {
    let (status, body, nonce) = page(app, client, path).await;
    assert_eq!(status, 200, "{path}");
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{path}");
    body.replace(&nonce, "NONCE")
}

async fn kept_pages_show_every_change(backend: Backend) {
    use sqlx::Connection;
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("pages@example.com").await;
    let (neighbour, _) = app.user("next-door@example.com").await;
    let c = named(&app, &client, "Ada", "a mathematician", json!({})).await;
    let id = c["id"].as_str().unwrap().to_string();
    until_character(&client, &app, &id, "completed").await;
    let hits = || app.state.studio.db.lists.html.stats().hits;
    let (detail, credits) = (format!("/characters/{id}"), "/account/credits");

    // Twice the same, but for the nonce: a fresh one each time, and nothing of the first.
    let (_, first, first_nonce) = page(&app, &client, "/characters").await;
    let (_, second, second_nonce) = page(&app, &client, "/characters").await;
    assert_ne!(first_nonce, second_nonce);
    assert!(
        !second.contains(&first_nonce),
        "the first nonce is not sent again"
    );
    assert_eq!(
        first.replace(&first_nonce, "NONCE"),
        second.replace(&second_nonce, "NONCE")
    );
    assert!(first.contains("Ada"));
    assert_eq!(hits(), 1, "the second was the kept page");
    for path in ["/", detail.as_str(), "/account", credits, "/presets"] {
        let made = html(&app, &client, path).await;
        assert_eq!(html(&app, &client, path).await, made, "{path}");
    }
    assert_eq!(
        hits(),
        6,
        "every page of a trained character's user is kept"
    );
    assert!(
        !html(&app, &neighbour, "/characters").await.contains("Ada"),
        "another user's page is their own"
    );

    // Through the API, then from another process: each change is in the next page.
    let res = patch(&client, &app, &id, json!({ "name": "Grace" })).await;
    assert_eq!(res.status(), 200);
    assert!(html(&app, &client, "/characters").await.contains("Grace"));
    assert!(html(&app, &client, &detail).await.contains("Grace"));
    let mut other = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let rename =
        "UPDATE character_references SET name = 'Hopper', sort_name = 'hopper' WHERE id = $1";
    sqlx::query(rename)
        .bind(&id)
        .execute(&mut other)
        .await
        .unwrap();
    for path in ["/", "/characters", detail.as_str()] {
        assert!(html(&app, &client, path).await.contains("Hopper"), "{path}");
    }
    let token = app
        .post_json(
            &client,
            "/api/tokens",
            json!({ "name": "kept-page laptop" }),
        )
        .await;
    assert!(token["token"].is_string());
    assert!(html(&app, &client, "/account")
        .await
        .contains("kept-page laptop"));

    // The job runner's work: a generation's charge and result, on the pages that show them.
    let before = html(&app, &client, credits).await;
    let g = scene(&app, &client, json!([{ "id": id }])).await;
    until_finished(&client, &app, g["id"].as_str().unwrap()).await;
    let after = html(&app, &client, credits).await;
    assert_ne!(after, before, "the charge is on the credits page");
    assert!(html(&app, &client, &detail)
        .await
        .contains("a walk in the park"));

    // A training counts down its ETA: such a page is rendered every time.
    let eta_at = avatar_studio::store::now_millis() + 90_000;
    sqlx::query("UPDATE character_references SET avatar_status = 'training', training_eta_at = $2 WHERE id = $1")
        .bind(&id)
        .bind(eta_at)
        .execute(&mut other)
        .await
        .unwrap();
    // (Its work stays idle, so the job runner leaves it as it is.)
    let kept_before = hits();
    for path in [detail.as_str(), "/characters"] {
        for _ in 0..2 {
            let body = html(&app, &client, path).await;
            assert!(body.contains("data-status=\"training\""), "{path}");
        }
    }
    assert_eq!(
        hits(),
        kept_before,
        "a countdown is never answered from memory"
    );

    // An error is never kept: a character that is not there, or another user's.
    for (client, path) in [
        (&client, "/characters/no-such-character"),
        (&neighbour, &detail),
    ] {
        for _ in 0..2 {
            let (_, body, _) = page(&app, client, path).await;
            assert!(!body.contains("Hopper"), "{path}");
        }
    }
    assert_eq!(hits(), kept_before, "errors are rendered every time");
}
