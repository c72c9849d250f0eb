//! The media store over HTTP: content types, ETags, conditional requests, byte ranges, and
//! keys that cannot escape the store.

use crate::common::{Backend, TestApp};
use avatar_studio::store::media::{MediaKind, MediaLimits, MediaStore};
use bytes::Bytes;
use reqwest::header::{ACCEPT_RANGES, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_NONE_MATCH, RANGE};

pub fn wav(samples: usize) -> Vec<u8> {
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&((36 + samples * 2) as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data");
    v.extend_from_slice(&((samples * 2) as u32).to_le_bytes());
    v.extend((0..samples * 2).map(|i| (i % 251) as u8));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_files_are_served_with_types_etags_and_ranges() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let media = &app.state.studio.media;
    let bytes = wav(500);
    let stored = media
        .put_upload(Bytes::from(bytes.clone()), MediaKind::Audio)
        .await
        .unwrap();
    assert_eq!(stored.content_type, "audio/wav");
    assert!(stored.url.starts_with(&app.url("/media/")));
    assert_eq!(
        media.key_from_url(&stored.url).as_deref(),
        Some(stored.key.as_str())
    );
    let again = media.put(Bytes::from(bytes.clone())).await.unwrap();
    assert_eq!(
        again.key, stored.key,
        "content-addressed: the same bytes are stored once"
    );

    let http = reqwest::Client::new();
    let res = http.get(&stored.url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()[CONTENT_TYPE], "audio/wav");
    assert_eq!(res.headers()[ACCEPT_RANGES], "bytes");
    let etag = res.headers()[ETAG].to_str().unwrap().to_string();
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let res = http
        .get(&stored.url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    let len = bytes.len();
    for (range, from, to) in [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, len - 1),
        ("bytes=-16", len - 16, len - 1),
    ] {
        let res = http
            .get(&stored.url)
            .header(RANGE, range)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(
            res.headers()[CONTENT_RANGE].to_str().unwrap(),
            format!("bytes {from}-{to}/{len}")
        );
        assert_eq!(
            res.bytes().await.unwrap().as_ref(),
            &bytes[from..=to],
            "{range}"
        );
    }
    let res = http
        .get(&stored.url)
        .header(RANGE, format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 416);
    assert_eq!(
        res.headers()[CONTENT_RANGE].to_str().unwrap(),
        format!("bytes */{len}")
    );

    let res = http.head(&stored.url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-length"].to_str().unwrap(),
        len.to_string()
    );

    for path in [
        "/media/../Cargo.toml",
        "/media/%2e%2e%2fCargo.toml",
        "/media/nothing.png",
        &format!("/media/{}.png", "0".repeat(64)),
    ] {
        assert_eq!(
            http.get(app.url(path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_size() {
    let dir = std::env::temp_dir().join(format!(
        "avatar-studio-media-{}",
        crate::common::uuid_like()
    ));
    let limits = MediaLimits {
        image_bytes: 1024,
        video_bytes: 1024,
        audio_bytes: 2048,
    };
    let store = MediaStore::local(&dir, "http://studio.test", limits).unwrap();
    let err = |r: Result<_, avatar_studio::store::media::MediaError>| {
        avatar_studio::error::AppError::from(r.unwrap_err())
    };
    assert_eq!(
        err(store.put_upload(Bytes::new(), MediaKind::Image).await).status,
        400
    );
    assert_eq!(
        err(store
            .put_upload(Bytes::from_static(b"#!/bin/sh\necho hi"), MediaKind::Image)
            .await)
        .status,
        415
    );
    assert_eq!(
        err(store
            .put_upload(Bytes::from(wav(10)), MediaKind::Image)
            .await)
        .status,
        415,
        "audio is not an image"
    );
    assert_eq!(
        err(store
            .put_upload(Bytes::from(wav(5000)), MediaKind::Audio)
            .await)
        .status,
        413
    );
    assert!(store
        .put_upload(Bytes::from(wav(10)), MediaKind::Audio)
        .await
        .is_ok());
    assert_eq!(store.key_from_url("http://elsewhere.test/media/x"), None);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn remote_copies_are_capped_and_checked() {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let big = wav(4000);
    let small = wav(100);
    let app = axum::Router::new()
        .route("/small.wav", get(move || async move { small.clone() }))
        .route("/big.wav", get(move || async move { big.clone() }))
        .route("/page", get(|| async { "<html>hello</html>" }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir =
        std::env::temp_dir().join(format!("avatar-studio-copy-{}", crate::common::uuid_like()));
    let limits = MediaLimits {
        image_bytes: 1024,
        video_bytes: 1024,
        audio_bytes: 4096,
    };
    let store = MediaStore::local(&dir, "http://studio.test", limits).unwrap();
    let http = reqwest::Client::new();
    let copied = store
        .copy_from_url(&http, &format!("{base}/small.wav"))
        .await
        .unwrap();
    assert_eq!(copied.content_type, "audio/wav");
    assert_eq!(store.read(&copied.key).await.unwrap().len(), 244);
    let status = |r: Result<_, avatar_studio::store::media::MediaError>| {
        avatar_studio::error::AppError::from(r.unwrap_err()).status
    };
    assert_eq!(
        status(store.copy_from_url(&http, &format!("{base}/big.wav")).await),
        413
    );
    assert_eq!(
        status(store.copy_from_url(&http, &format!("{base}/missing")).await),
        502
    );
    assert_eq!(
        status(store.copy_from_url(&http, &format!("{base}/page")).await),
        415
    );
    assert_eq!(
        status(store.copy_from_url(&http, "file:///etc/passwd").await),
        502
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The S3 backend against a local S3-compatible server (moto, from PyPI), when it is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_s3_backend_stores_and_serves_ranges() {
    use avatar_studio::store::media::Backend;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = std::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut server) = server else {
        panic!("moto_server is needed for the S3 test: pip install 'moto[server]' (./dev test installs it)");
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if http
            .put(format!("{endpoint}/studio-media"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready, "moto did not start");
    let backend = Backend::S3 {
        bucket: "studio-media".into(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    let store = MediaStore::open(&backend, "http://studio.test", MediaLimits::default()).unwrap();
    let bytes = wav(300);
    let stored = store
        .put_upload(Bytes::from(bytes.clone()), MediaKind::Audio)
        .await
        .unwrap();
    assert_eq!(
        store.read(&stored.key).await.unwrap().as_ref(),
        bytes.as_slice()
    );

    // Served through the same route as the local store, ranges included.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app: axum::Router = avatar_studio::store::media::routes(store.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let res = http
        .get(format!("{base}/media/{}", stored.key))
        .header(RANGE, "bytes=4-11")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[4..=11]);
    let res = http
        .get(format!("{base}/media/{}", stored.key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[CONTENT_TYPE], "audio/wav");
    assert_eq!(res.bytes().await.unwrap().len(), bytes.len());
    let _ = server.kill();
    let _ = server.wait();
}
