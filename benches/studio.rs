//! Throughput and memory of the studio's hot paths, on SQLite and PostgreSQL, as ratios against
//! a baseline measured in the same run (`GET /healthz`: one database round trip), so figures
//! from noisy shared machines still compare. Run with `./dev bench`.
//!
//! Nothing here asserts a time: it prints figures.

#[path = "../tests/integration/common/mod.rs"]
mod common;

use common::{Backend, TestApp};
use std::time::{Duration, Instant};

const REQUESTS: usize = 600;
const CONCURRENCY: usize = 4;
const BIG_FILE_MIB: usize = 64;

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `REQUESTS` GETs of `path` over `CONCURRENCY` keep-alive connections.
async fn measure(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> Figures {
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.to_string());
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        workers.push(tokio::spawn(async move {
            let mut took = Vec::with_capacity(REQUESTS / CONCURRENCY);
            for _ in 0..REQUESTS / CONCURRENCY {
                let t = Instant::now();
                let mut req = client.get(&url);
                for (k, v) in &headers {
                    req = req.header(k, v);
                }
                let res = req.send().await.expect("request");
                assert!(res.status().is_success(), "{url}: {}", res.status());
                res.bytes().await.expect("body");
                took.push(t.elapsed());
            }
            took
        }));
    }
    let mut took = Vec::new();
    for w in workers {
        took.extend(w.await.unwrap());
    }
    let elapsed = started.elapsed();
    took.sort();
    Figures {
        per_second: took.len() as f64 / elapsed.as_secs_f64(),
        p50: took[took.len() / 2],
        p99: took[took.len() * 99 / 100],
    }
}

fn row(name: &str, f: &Figures, baseline: f64) {
    println!(
        "  {name:<44} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>5.2}× baseline time",
        f.per_second,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        baseline / f.per_second
    );
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

async fn bench(backend: Backend) {
    println!("\n{backend:?}");
    let app = TestApp::fast(backend, 1_000_000).await;
    let (session, me) = app
        .user(&format!("bench-{}@example.com", common::uuid_like()))
        .await;
    let user_id = me["id"].as_str().unwrap().to_string();

    let baseline = measure(&session, &app.url("/healthz"), &[]).await;
    row("GET /healthz (baseline)", &baseline, baseline.per_second);
    let b = baseline.per_second;

    row(
        "GET /api/me, session cookie",
        &measure(&session, &app.url("/api/me"), &[]).await,
        b,
    );
    let token = app
        .post_json(
            &session,
            "/api/tokens",
            serde_json::json!({ "name": "bench" }),
        )
        .await;
    let bearer = format!(
        "Bearer {}",
        token["token"].as_str().expect("token shown once")
    );
    let anonymous = reqwest::Client::new();
    row(
        "GET /api/me, API token",
        &measure(
            &anonymous,
            &app.url("/api/me"),
            &[("authorization", &bearer)],
        )
        .await,
        b,
    );

    // The balance is derived from the ledger: does a long history slow it down?
    for i in 0..2_000 {
        avatar_studio::domain::credits::grant(
            &app.state.studio.db,
            &user_id,
            1,
            &format!("bench-{i}"),
            "bench",
        )
        .await
        .unwrap();
    }
    row(
        "GET /api/me, 2,000 ledger entries",
        &measure(&session, &app.url("/api/me"), &[]).await,
        b,
    );

    let png = small_png();
    for i in 0..100 {
        let form = reqwest::multipart::Form::new()
            .text("name", format!("Bench {i}"))
            .part(
                "file",
                reqwest::multipart::Part::bytes(png.clone()).file_name("p.png"),
            );
        let res = session
            .post(app.url("/api/characters"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    // Let their trainings end, so background jobs do not share the measurement.
    for _ in 0..600 {
        let list: Vec<serde_json::Value> =
            app.get_json(&session, "/api/characters?limit=100").await;
        if list.iter().all(|c| c["avatar_status"] == "completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One page of 100 (the list pages; without `limit` a page holds 50).
    row(
        "GET /api/characters, 100 characters",
        &measure(&session, &app.url("/api/characters?limit=100"), &[]).await,
        b,
    );

    media(&app, b).await;
}

/// An 8×8 grey PNG: a valid upload for a character.
fn small_png() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 8, 8);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&[128; 64]).unwrap();
    writer.finish().unwrap();
    out
}

async fn media(app: &TestApp, baseline: f64) {
    let big = vec![7u8; BIG_FILE_MIB << 20];
    // Named as the store names files: by the SHA-256 of their bytes (not checked when served).
    let key = format!("{}.webm", "ab".repeat(32));
    std::fs::write(app.dir.join("media").join(&key), &big).unwrap();
    let client = reqwest::Client::new();
    let url = app.url(&format!("/media/{key}"));
    row(
        "GET /media 1 MiB range of a 64 MiB video",
        &measure(&client, &url, &[("range", "bytes=33554432-34603007")]).await,
        baseline,
    );

    // Whole downloads, four at once: the server streams, so memory grows far less than the bytes sent.
    let before = rss_kib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let downloads: Vec<_> = (0..4)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut res = client.get(&url).send().await.unwrap();
                let mut n = 0usize;
                while let Some(chunk) = res.chunk().await.unwrap() {
                    n += chunk.len();
                }
                n
            })
        })
        .collect();
    let mut sent = 0;
    for d in downloads {
        sent += d.await.unwrap();
    }
    let elapsed = started.elapsed();
    sampler.abort();
    let grew = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(before);
    println!(
        "  4 whole downloads of the 64 MiB video: {:.0} MiB/s; memory grew {:.1} MiB for {} MiB sent ({:.3}× the bytes)",
        sent as f64 / (1 << 20) as f64 / elapsed.as_secs_f64(),
        grew as f64 / 1024.0,
        sent >> 20,
        (grew << 10) as f64 / sent as f64,
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{REQUESTS} requests per row, {CONCURRENCY} at a time; \"× baseline time\" = time per request against GET /healthz"
    );
    rt.block_on(bench(Backend::Sqlite));
    rt.block_on(bench(Backend::Postgres));
}
