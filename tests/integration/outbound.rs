//! The server cannot be made to fetch internal addresses: URLs users give are refused (400,
//! one plain sentence) when they point at loopback, private, link-local or mapped addresses,
//! and a loopback listener standing in for an internal service sees zero hits. Nothing is
//! charged or saved. The user's own media URLs work without HTTP; operators can allow hosts.

use crate::common::{Backend, TestApp};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

on_both_databases!(internal_urls_are_refused_and_never_fetched);

/// An "internal service" on loopback that counts every request it gets.
async fn internal_service(redirect_to: Option<String>) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let (counted, redirect_to) = (counted.clone(), redirect_to.clone());
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            match redirect_to {
                Some(to) => axum::response::Redirect::temporary(&to).into_response(),
                None => (
                    [("content-type", "image/png")],
                    crate::common::portrait_png(),
                )
                    .into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("127.0.0.1:{}", addr.port()), hits)
}

use axum::response::IntoResponse;

async fn internal_urls_are_refused_and_never_fetched(backend: Backend) {
    let (internal, hits) = internal_service(None).await;
    let port = internal.rsplit(':').next().unwrap().to_string();
    let (redirector, redirect_hits) =
        internal_service(Some(format!("http://{internal}/secret"))).await;
    // Only the redirecting host is allowed by the operator: its redirect must not be followed.
    let app = TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = 600.0;
        c.job_tick_ms = 50;
        c.fetch_allow_hosts = format!("example.com,{redirector}");
    })
    .await;
    let (client, _) = app.user("attacker@example.com").await;
    let internal_urls = [
        format!("http://{internal}/face.png"),
        format!("http://localhost:{port}/face.png"),
        format!("http://[::1]:{port}/face.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/face.png"),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://10.0.0.7/face.png".to_string(),
        "http://192.168.1.1/face.png".to_string(),
        "http://100.64.0.1/face.png".to_string(),
        "http://0.0.0.0/face.png".to_string(),
    ];
    let mut sentences = Vec::new();
    for url in &internal_urls {
        let res = app
            .post(
                &client,
                "/api/a2e/character",
                json!({ "prompt": "x", "referenceImage": url }),
            )
            .await;
        assert_eq!(res.status(), 400, "{url}");
        let body: Value = res.json().await.unwrap();
        sentences.push(body["error"]["message"].as_str().unwrap().to_string());
        for (path, body) in [
            (
                "/api/a2e/motion-transfer",
                json!({ "image": "https://example.com/a.png", "videoUrl": url }),
            ),
            (
                "/api/a2e/lipsync",
                json!({ "image": "https://example.com/a.png", "audioUrl": url }),
            ),
            (
                "/api/a2e/nanobanana",
                json!({ "prompt": "x", "characterRefs": [{ "image_url": url }] }),
            ),
        ] {
            let res = app.post(&client, path, body).await;
            assert_eq!(res.status(), 400, "{path} {url}");
        }
    }
    sentences.dedup();
    assert_eq!(
        sentences.len(),
        1,
        "one plain sentence, whatever is behind the URL: {sentences:?}"
    );
    // An allowed host that redirects inward: the redirect is not followed.
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "x", "referenceImage": format!("http://{redirector}/face.png") }),
        )
        .await;
    assert!(
        res.status().is_client_error() || res.status().is_server_error(),
        "{}",
        res.status()
    );
    assert_eq!(
        redirect_hits.load(Ordering::SeqCst),
        1,
        "the allowed host was asked once"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the internal service was never reached"
    );
    assert_eq!(app.credits(&client).await, 100, "nothing charged");
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert!(list.is_empty(), "nothing saved");

    // The user's own media URL is read from the store, with no HTTP at all.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::common::portrait_png()).file_name("face.png"),
    );
    let stored: Value = client
        .post(app.url("/api/media"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own = stored["url"].as_str().expect("stored").to_string();
    let made = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "x", "referenceImage": own }),
        )
        .await;
    assert_eq!(made.status(), 201);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}
