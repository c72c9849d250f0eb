//! Uploads are limited per kind while they stream in, each user has a storage quota, and files
//! nothing uses any more are removed.

use crate::common::{error_code, Backend, TestApp};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

on_both_databases!(
    uploads_are_limited_per_kind_before_they_are_buffered,
    the_storage_quota_refuses_uploads_and_new_work,
    deleting_a_character_removes_files_nothing_else_uses,
    unused_uploads_are_swept,
);

const MB: usize = 1 << 20;

/// A file that content sniffing takes for a PNG image of 320×400 (what the training pre-flight
/// reads from its header), `len` bytes long.
fn png_of(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    v.extend_from_slice(&320u32.to_be_bytes());
    v.extend_from_slice(&400u32.to_be_bytes());
    v.extend_from_slice(b"\x08\0\0\0\0\0\0\0\0");
    v.resize(len, 7);
    v
}

/// A WAV file of `len` bytes (distinct content per `seed`).
fn wav_of(len: usize, seed: u8) -> Vec<u8> {
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(len as u32 - 8).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data");
    v.extend_from_slice(&(len as u32 - 44).to_le_bytes());
    v.resize(len, seed);
    v
}

fn form_with(name: &str, bytes: Vec<u8>, filename: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("name", name.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(filename.to_string()),
        )
}

async fn send_form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn me(app: &TestApp, client: &reqwest::Client) -> Value {
    app.get_json(client, "/api/me").await
}

async fn uploads_are_limited_per_kind_before_they_are_buffered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, _) = app.user("big@example.com").await;

    // 25 MB: too large for an image (20 MB), fine for audio (50 MB). The server answers once
    // the image limit is passed, while the client may still be sending: it may then see its
    // connection closed instead of the answer (nothing is kept either way: checked below).
    match client
        .post(app.url("/api/characters"))
        .multipart(form_with("Big", png_of(25 * MB), "big.png"))
        .send()
        .await
    {
        Ok(res) => assert_eq!(error_code(res).await, (413, "too_large".into())),
        Err(err) => assert!(err.is_request() || err.is_body(), "{err}"),
    }
    let res = send_form(
        &client,
        &app,
        "/api/media",
        form_with("x", wav_of(25 * MB, 1), "long.wav"),
    )
    .await;
    assert_eq!(res.status(), 201, "audio may be that large");

    // A 180 MB "image" sent as a stream: the answer comes once the image limit is passed,
    // long before the whole body was sent.
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let total = 180 * MB;
    let chunks = futures::stream::iter((0..total / MB).map(move |i| {
        counter.fetch_add(MB, Ordering::SeqCst);
        let chunk = if i == 0 { png_of(MB) } else { vec![7u8; MB] };
        Ok::<_, std::io::Error>(chunk)
    }));
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(chunks),
        total as u64,
    )
    .file_name("huge.png");
    let form = reqwest::multipart::Form::new()
        .text("name", "Huge")
        .part("file", part);
    match client
        .post(app.url("/api/characters"))
        .multipart(form)
        .send()
        .await
    {
        Ok(res) => assert_eq!(error_code(res).await, (413, "too_large".into())),
        // The server may close the connection before the client reads its answer.
        Err(err) => assert!(err.is_request() || err.is_body(), "{err}"),
    }
    let read = sent.load(Ordering::SeqCst);
    assert!(read < 100 * MB, "refused early: {} MB were sent", read / MB);

    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert!(list.is_empty(), "nothing saved");
    assert_eq!(me(&app, &client).await["storage_used"], (25 * MB) as u64);
}

async fn the_storage_quota_refuses_uploads_and_new_work(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.user_storage_mb = 1).await;
    let (client, _) = app.user("full@example.com").await;
    let first = wav_of(700 * 1024, 1);
    let res = send_form(
        &client,
        &app,
        "/api/media",
        form_with("a", first.clone(), "a.wav"),
    )
    .await;
    assert_eq!(res.status(), 201);
    let res = send_form(
        &client,
        &app,
        "/api/media",
        form_with("b", wav_of(400 * 1024, 2), "b.wav"),
    )
    .await;
    assert_eq!(error_code(res).await, (507, "storage_full".into()));
    // The same file again takes no more room.
    let res = send_form(&client, &app, "/api/media", form_with("a", first, "a.wav")).await;
    assert_eq!(res.status(), 201, "a file already kept is free");
    let res = send_form(
        &client,
        &app,
        "/api/media",
        form_with("c", wav_of(MB - 700 * 1024, 3), "c.wav"),
    )
    .await;
    assert_eq!(res.status(), 201, "exactly fills the quota");
    let profile = me(&app, &client).await;
    assert_eq!(profile["storage_used"], MB as u64);
    assert_eq!(profile["storage_quota"], MB as u64);

    // Full: new paid work is refused before anything is charged.
    let credits = app.credits(&client).await;
    let res = app
        .post(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "a quiet harbour at dawn" }),
        )
        .await;
    assert_eq!(error_code(res).await, (507, "storage_full".into()));
    assert_eq!(app.credits(&client).await, credits, "nothing charged");
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a sailor", "name": "Sam" }),
        )
        .await;
    assert_eq!(error_code(res).await, (507, "storage_full".into()));
    assert_eq!(app.credits(&client).await, credits, "nothing charged");

    // Another user has room of their own.
    let (other, _) = app.user("roomy@example.com").await;
    let res = send_form(
        &other,
        &app,
        "/api/media",
        form_with("b", wav_of(400 * 1024, 2), "b.wav"),
    )
    .await;
    assert_eq!(res.status(), 201);
}

async fn upload_character(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    png: Vec<u8>,
) -> Value {
    let res = send_form(
        client,
        app,
        "/api/characters",
        form_with(name, png, "me.png"),
    )
    .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn status_of(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// Waits (a few seconds at most) until `url` answers `want`.
async fn wait_for_status(url: &str, want: u16) -> u16 {
    let mut seen = 0;
    for _ in 0..100 {
        // A large file removed while it is being sent breaks off: not an answer yet.
        seen = match reqwest::get(url).await {
            Ok(res) => res.status().as_u16(),
            Err(_) => 0,
        };
        if seen == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

async fn deleting_a_character_removes_files_nothing_else_uses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (client, _) = app.user("tidy@example.com").await;
    let (other, _) = app.user("same-photo@example.com").await;
    let png = png_of(64 * 1024);
    let mine = upload_character(&app, &client, "Mine", png.clone()).await;
    let twin = upload_character(&app, &client, "Twin", png.clone()).await;
    let theirs = upload_character(&app, &other, "Theirs", png).await;
    let url = mine["image_url"].as_str().unwrap().to_string();
    assert_eq!(
        twin["image_url"],
        url.as_str(),
        "content-addressed: one file"
    );
    assert_eq!(
        me(&app, &client).await["storage_used"],
        64 * 1024,
        "counted once"
    );

    let delete = |c: &reqwest::Client, id: &Value| {
        c.delete(app.url(&format!("/api/characters/{}", id.as_str().unwrap())))
            .send()
    };
    assert_eq!(delete(&client, &mine["id"]).await.unwrap().status(), 204);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status_of(&url).await, 200, "the twin still uses it");
    assert_eq!(delete(&client, &twin["id"]).await.unwrap().status(), 204);
    let freed = async {
        for _ in 0..100 {
            if me(&app, &client).await["storage_used"] == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    assert!(freed.await, "the user's storage is freed");
    assert_eq!(
        status_of(&url).await,
        200,
        "another user keeps the same file"
    );
    assert_eq!(delete(&other, &theirs["id"]).await.unwrap().status(), 204);
    assert_eq!(
        wait_for_status(&url, 404).await,
        404,
        "nothing uses it: removed"
    );
}

async fn unused_uploads_are_swept(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.unused_media_secs = 1;
        c.media_sweep_secs = 1;
        c.job_tick_ms = 50;
    })
    .await;
    let (client, _) = app.user("sweep@example.com").await;
    let res = send_form(
        &client,
        &app,
        "/api/media",
        form_with("x", wav_of(10_000, 9), "x.wav"),
    )
    .await;
    assert_eq!(res.status(), 201);
    let unused: Value = res.json().await.unwrap();
    let used = upload_character(&app, &client, "Kept", png_of(5_000)).await;
    let unused_url = unused["url"].as_str().unwrap();
    let used_url = used["image_url"].as_str().unwrap();
    assert_eq!(
        wait_for_status(unused_url, 404).await,
        404,
        "an upload nothing uses goes"
    );
    assert_eq!(status_of(used_url).await, 200, "a character's image stays");
    assert_eq!(me(&app, &client).await["storage_used"], 5_000);
}
