//! Text answers are compressed for clients that accept it (zstd preferred, then brotli, then
//! gzip); media,
//! the live event stream, small answers and clients that ask for nothing are sent as they are.

use crate::common::{Backend, TestApp};
use bytes::Bytes;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use std::io::Read;

on_both_databases!(text_answers_are_compressed_for_clients_that_accept_it);

fn brotli_decoded(body: &[u8]) -> String {
    let mut text = String::new();
    brotli::Decompressor::new(body, 4096)
        .read_to_string(&mut text)
        .expect("valid brotli");
    text
}

fn zstd_decoded(body: &[u8]) -> String {
    String::from_utf8(zstd::decode_all(body).expect("valid zstd")).unwrap()
}

fn gzip_decoded(body: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut text)
        .expect("valid gzip");
    text
}

async fn fetch(client: &reqwest::Client, url: &str, accept: &str) -> reqwest::Response {
    let res = client
        .get(url)
        .header(ACCEPT_ENCODING, accept)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{url}");
    res
}

async fn text_answers_are_compressed_for_clients_that_accept_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (page, _) = app.user("compressed@example.com").await;

    // A page, as Chromium and Firefox ask for it (zstd), and as Safari does (brotli).
    let res = fetch(&page, &app.url("/characters"), "gzip, deflate, br, zstd").await;
    assert_eq!(res.headers()[CONTENT_ENCODING], "zstd");
    assert!(res.headers()[VARY]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    let body = res.bytes().await.unwrap();
    let html = zstd_decoded(&body);
    assert!(
        html.contains("</html>") && html.contains("Characters"),
        "{html}"
    );
    assert!(
        body.len() * 2 < html.len(),
        "{} of {}",
        body.len(),
        html.len()
    );
    let res = fetch(&page, &app.url("/characters"), "gzip, deflate, br").await;
    assert_eq!(res.headers()[CONTENT_ENCODING], "br");
    let html = brotli_decoded(&res.bytes().await.unwrap());
    assert!(
        html.contains("</html>") && html.contains("Characters"),
        "{html}"
    );

    // A JSON answer for a client that takes only gzip, and the same without compression.
    let url = app.url("/api/openapi.json");
    let res = fetch(&page, &url, "gzip").await;
    assert_eq!(res.headers()[CONTENT_ENCODING], "gzip");
    let gzipped = gzip_decoded(&res.bytes().await.unwrap());
    let plain = fetch(&page, &url, "identity").await;
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(gzipped, plain.text().await.unwrap());
    let unasked = page.get(&url).send().await.unwrap();
    assert!(
        unasked.headers().get(CONTENT_ENCODING).is_none(),
        "no Accept-Encoding, no compression"
    );

    // A small answer is not worth it.
    let me = fetch(&page, &app.url("/api/me"), "br").await;
    assert!(me.headers().get(CONTENT_ENCODING).is_none());

    // Media is sent as stored, byte for byte (and its ranges still work).
    let audio = Bytes::from(crate::media::wav(4096));
    let stored = app
        .state
        .studio
        .media
        .put_upload(audio.clone(), avatar_studio::store::media::MediaKind::Audio)
        .await
        .unwrap();
    let res = fetch(&page, &stored.url, "br, gzip").await;
    assert!(res.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(res.bytes().await.unwrap(), audio);

    // The live event stream is not held back by an encoder.
    let events = page
        .get(app.url("/api/events"))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    assert!(events.headers().get(CONTENT_ENCODING).is_none());
}
