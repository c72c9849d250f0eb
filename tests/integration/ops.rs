//! Operations: Prometheus metrics at `/metrics` (open, or behind `METRICS_TOKEN`) and JSON log
//! lines with `LOG_FORMAT=json`.
//!
//! The tests of this file share one process, hence one metrics recorder: they assert on the
//! growth of counters and on the presence of series, never on absolute figures.

use crate::common::{Backend, TestApp};
use avatar_studio::telemetry::endpoint::read_gauges;
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(metrics_count_requests_a2e_calls_credits_and_jobs);

async fn scrape(app: &TestApp) -> String {
    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    res.text().await.unwrap()
}

/// The sum of the samples of `name` whose labels include all of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, number) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            let all = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            (metric == name && all).then(|| number.parse::<f64>().unwrap())
        })
        .sum()
}

fn has_series(text: &str, name: &str, labels: &[(&str, &str)]) -> bool {
    text.lines().any(|line| {
        line.starts_with(&format!("{name}{{"))
            && labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
    })
}

async fn character(client: &reqwest::Client, app: &TestApp, id: &str) -> Value {
    app.get_json(client, &format!("/api/characters/{id}")).await
}

async fn metrics_count_requests_a2e_calls_credits_and_jobs(backend: Backend) {
    // Slow enough that a training is still in flight when looked at, fast enough for a test.
    let app = TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = 20.0;
        c.job_tick_ms = 50;
    })
    .await;
    let (client, _) = app.user("metrics@example.com").await;
    let before = scrape(&app).await;

    // A2E refuses one portrait (counted as an A2E error; its credits are refunded) ...
    app.simulator_faults(1.0, &["moderation"]).await;
    let refused = app
        .post(&client, "/api/a2e/character", json!({ "prompt": "x" }))
        .await;
    assert_eq!(refused.status(), 201);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["avatar_status"], "failed", "{refused}");
    // ... and draws the next, whose training then runs.
    app.simulator_faults(0.0, &[]).await;
    let created: Value = app
        .post_json(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a baker" }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let mut training = created.clone();
    for _ in 0..200 {
        if training["avatar_status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        training = character(&client, &app, &id).await;
    }
    assert_eq!(training["avatar_status"], "training", "{training}");
    let training = character(&client, &app, &id).await;
    let avatar_id = training["avatar_id"].as_str().unwrap().to_string();
    assert_eq!(app.credits(&client).await, 98, "one portrait paid");

    // The gauges read this server's database.
    // A started training is the training watch's to follow: its character's job ends (the
    // step that started it records its outcome a moment after the character shows it).
    let kinds = app.state.studio.jobs.kinds();
    let mut gauges = read_gauges(&app.state.studio.db, &kinds).await.unwrap();
    for _ in 0..100 {
        if gauges.jobs("character", "queued") + gauges.jobs("character", "running") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        gauges = read_gauges(&app.state.studio.db, &kinds).await.unwrap();
    }
    assert_eq!(gauges.trainings_in_flight, 1, "{gauges:?}");
    let jobs_of = |kind: &str| gauges.jobs(kind, "queued") + gauges.jobs(kind, "running");
    assert_eq!(jobs_of("character"), 0, "{gauges:?}");
    assert_eq!(
        jobs_of("training_watch"),
        1,
        "the trainings' tracker: {gauges:?}"
    );
    assert!(
        kinds.iter().all(|k| gauges.jobs.iter().any(|j| j.0 == *k)),
        "every kind has its series: {gauges:?}"
    );

    // Lists kept in memory: their series appear on SQLite once a list is asked (only their
    // presence: the job runner's writes here may make the second read a fresh one, and the
    // series, once a process has them, stay for the other databases' tests in it).
    for _ in 0..2 {
        let res = client
            .get(app.url("/api/generations"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let after = scrape(&app).await;
    let kept_series = after.contains("# TYPE avatar_studio_list_lookups_total counter")
        && after.contains("avatar_studio_lists_kept{kind=\"answers\"}");
    if matches!(backend, Backend::Sqlite) {
        assert!(kept_series, "{after}");
    }
    let grew = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };

    // HTTP latency by matched route and status: the route pattern, never a raw id.
    let http = "avatar_studio_http_request_duration_seconds_count";
    let created_route = [
        ("method", "POST"),
        ("route", "/api/a2e/character"),
        ("status", "201"),
    ];
    assert!(grew(http, &created_route) >= 2.0, "{after}");
    let one = [
        ("method", "GET"),
        ("route", "/api/characters/{id}"),
        ("status", "200"),
    ];
    assert!(grew(http, &one) >= 1.0);
    assert!(
        has_series(
            &after,
            "avatar_studio_http_request_duration_seconds_bucket",
            &[("route", "/metrics"), ("le", "0.005")]
        ),
        "latency buckets"
    );
    for secret in [id.as_str(), avatar_id.as_str(), "metrics@example.com"] {
        assert!(!after.contains(secret), "{secret} is not a label");
    }

    // A2E calls: latency by call (ids folded away), errors by call and kind.
    let a2e = "avatar_studio_a2e_request_duration_seconds_count";
    let start = [
        ("call", "POST userVideoTwin/startTraining"),
        ("outcome", "ok"),
    ];
    assert!(grew(a2e, &start) >= 1.0, "{after}");
    let moderation = [("error", "a2e_moderation")];
    assert!(grew("avatar_studio_a2e_errors_total", &moderation) >= 1.0);
    assert!(has_series(&after, a2e, &[("outcome", "a2e_moderation")]));

    // Credits: two portraits held (2 each), one refunded, one settled; and the sign-up grant.
    let credits = "avatar_studio_credits_total";
    assert!(grew(credits, &[("event", "reserved")]) >= 4.0);
    assert!(grew(credits, &[("event", "refunded")]) >= 2.0);
    assert!(grew(credits, &[("event", "settled")]) >= 2.0);
    assert!(has_series(&after, credits, &[("event", "granted")]));
    let operations = "avatar_studio_credit_operations_total";
    assert!(grew(operations, &[("event", "reserved")]) >= 2.0);

    // Jobs: steps by kind and outcome; unfinished jobs and trainings in flight as gauges.
    let steps = [("kind", "character")];
    assert!(grew("avatar_studio_job_steps_total", &steps) >= 2.0);
    assert!(has_series(
        &after,
        "avatar_studio_jobs",
        &[("kind", "generation"), ("state", "queued")]
    ));
    assert!(has_series(
        &after,
        "avatar_studio_jobs",
        &[("kind", "character"), ("state", "running")]
    ));
    assert!(after
        .lines()
        .any(|l| l.starts_with("avatar_studio_trainings_in_flight ")));
    assert!(after.contains("# TYPE avatar_studio_http_request_duration_seconds histogram"));
    assert!(after.contains("# HELP avatar_studio_credits_total"));

    // The character is removed, so the test leaves no work behind.
    let res = client
        .delete(app.url(&format!("/api/characters/{id}")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_token_guards_the_endpoint() {
    let token = "metrics-secret-0123456789";
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.metrics_token = Some(token.into());
    })
    .await;
    let http = reqwest::Client::new();
    for auth in [
        None,
        Some("Bearer wrong".to_string()),
        Some(format!("Bearer {token}x")),
        Some(format!("Basic {token}")),
        Some(token.to_string()),
    ] {
        let mut req = http.get(app.url("/metrics"));
        if let Some(auth) = &auth {
            req = req.header("authorization", auth);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{auth:?}");
    }
    for auth in [format!("Bearer {token}"), format!("bearer {token}")] {
        let res = http
            .get(app.url("/metrics"))
            .header("authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(text.contains("# TYPE avatar_studio_jobs gauge"), "{text}");
        assert!(!text.contains(token));
    }
    // Other routes do not need it.
    let res = http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn an_empty_metrics_token_refuses_to_start() {
    use clap::Parser;
    let cli = avatar_studio::config::Cli::parse_from(["avatar-studio", "--metrics-token", " "]);
    let err = cli.config.check_secrets().unwrap_err();
    assert!(err.contains("METRICS_TOKEN"), "{err}");
    let open = avatar_studio::config::Cli::parse_from(["avatar-studio"]);
    if std::env::var_os("METRICS_TOKEN").is_none() {
        assert_eq!(open.config.metrics_token(), None);
    }
}

/// The server binary on a free port in an empty folder, with `env` on top of a clean setup.
struct Binary {
    child: Option<std::process::Child>,
    base: String,
    dir: std::path::PathBuf,
}

impl Binary {
    async fn start(env: &[(&str, &str)]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("avatar-studio-ops-{}", crate::common::uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_avatar-studio"));
        // An empty folder: no `.env` or `Leptos.toml` of the checkout is read.
        command
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", "sqlite://studio.db")
            .env("LEPTOS_SITE_ADDR", &addr)
            .env("RUST_LOG", "info,avatar_studio=debug")
            // Files, not pipes: a full pipe would stall the server.
            .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.join("stderr")).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        // Owned at once, so that a failed start still stops it (on drop).
        let server = Self {
            child: Some(command.spawn().expect("the server binary starts")),
            base: format!("http://{addr}"),
            dir,
        };
        for _ in 0..300 {
            if let Ok(res) = reqwest::get(format!("{}/healthz", server.base)).await {
                if res.status() == 200 {
                    return server;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server binary did not become healthy");
    }

    /// Stops it as an operator would (SIGTERM: graceful) and returns stdout and stderr.
    fn stop(mut self) -> (String, String) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let _ = child.wait();
        let text = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap();
        (text("stdout"), text("stderr"))
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a person does that involves secrets: sign up, a wrong and a right log-in, a look at
/// the account.
async fn use_with_password(base: &str, password: &str) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(crate::common::same_origin(base))
        .build()
        .unwrap();
    let creds = json!({ "email": "logs@example.com", "password": password });
    let res = client
        .post(format!("{base}/api/auth/signup"))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let wrong = json!({ "email": "logs@example.com", "password": format!("{password}!") });
    let res = client
        .post(format!("{base}/api/auth/login"))
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = client
        .post(format!("{base}/api/auth/login?password={password}"))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client.get(format!("{base}/api/me")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_json_lines_without_secrets() {
    let key = "sk_live_do_not_log_9f8e7d6c5b4a";
    let password = "tr0ub4dor-and-3-horses";
    let server = Binary::start(&[
        ("LOG_FORMAT", "json"),
        ("A2E_API_KEY", key),
        // Nothing is sent to A2E here; were it, it would go nowhere.
        ("A2E_BASE_URL", "http://127.0.0.1:9"),
    ])
    .await;
    use_with_password(&server.base, password).await;
    let (stdout, stderr) = server.stop();
    let lines: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
    let mut messages = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            entry["timestamp"].is_string() && entry["level"].is_string(),
            "{line}"
        );
        messages.push(
            entry["fields"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        assert!(!line.contains(key), "the A2E key in a log line: {line}");
        assert!(!line.contains(password), "a password in a log line: {line}");
    }
    for expected in [
        "Avatar Studio is running",
        "started",
        "finished processing request",
        "stopped",
    ] {
        assert!(
            messages.iter().any(|m| m == expected),
            "a {expected:?} line in {messages:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_text_by_default() {
    let server = Binary::start(&[]).await;
    let (stdout, _) = server.stop();
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("Avatar Studio is running at http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_err()),
        "{stdout}"
    );
}

/// A site folder of our own, so the bytes of each encoding are known.
fn fake_site() -> std::path::PathBuf {
    let site =
        std::env::temp_dir().join(format!("avatar-studio-site-{}", crate::common::uuid_like()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let files: [(&str, &[u8]); 6] = [
        ("pkg/avatar-studio.js", b"export default function(){}"),
        ("pkg/avatar-studio.js.br", b"brotli bytes"),
        ("pkg/avatar-studio.js.gz", b"gzip bytes"),
        ("pkg/avatar-studio.wasm", b"\0asm\x01\0\0\0"),
        ("pkg/avatar-studio.css", b"body{}"),
        (
            "favicon.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        ),
    ];
    for (path, bytes) in files {
        std::fs::write(site.join(path), bytes).unwrap();
    }
    site
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_files_are_versioned_precompressed_and_cached() {
    let site = fake_site();
    let root_dir = site.to_str().unwrap().to_string();
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.site_root = root_dir).await;
    let http = reqwest::Client::new();
    let page = http
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The page names this build's files under /_v/{version}/.
    let root = page
        .split("href=\"/_v/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|version| format!("/_v/{version}"))
        .unwrap_or_else(|| panic!("the page loads its files from a versioned path: {page}"));
    for file in [
        "pkg/avatar-studio.js",
        "pkg/avatar-studio.wasm",
        "pkg/avatar-studio.css",
    ] {
        assert!(page.contains(&format!("{root}/{file}")), "{file} in {page}");
    }
    let get = |path: String, accept: &'static str| {
        let req = http.get(app.url(&path)).header("accept-encoding", accept);
        async move { req.send().await.unwrap() }
    };
    let js = format!("{root}/pkg/avatar-studio.js");
    for (accept, coding, body) in [
        ("gzip, deflate, br", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("br;q=0, gzip", Some("gzip"), "gzip bytes"),
        ("identity", None, "export default function(){}"),
    ] {
        let res = get(js.clone(), accept).await;
        assert_eq!(res.status(), 200, "{accept}");
        let h = res.headers().clone();
        assert_eq!(
            h.get("content-encoding").map(|v| v.to_str().unwrap()),
            coding,
            "{accept}"
        );
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(h["vary"], "accept-encoding");
        assert!(h["content-type"].to_str().unwrap().contains("javascript"));
        assert_eq!(res.text().await.unwrap(), body, "{accept}");
    }
    let wasm = get(format!("{root}/pkg/avatar-studio.wasm"), "br").await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    // Unversioned names, and a version that is not this build's, are revalidated.
    for path in [
        "/pkg/avatar-studio.js".to_string(),
        "/_v/0123456789abcdef/pkg/avatar-studio.js".to_string(),
        "/favicon.svg".to_string(),
    ] {
        let res = get(path.clone(), "gzip").await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
    }
    // Unknown files are the app's 404 page, not cached for good.
    let missing = get(format!("{root}/pkg/nothing.js"), "br").await;
    assert_eq!(missing.status(), 404);
    assert_ne!(
        missing
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("public, max-age=31536000, immutable")
    );
    let _ = std::fs::remove_dir_all(&site);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_is_described() {
    use std::collections::BTreeSet;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let res = http.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    let described = doc["paths"].as_object().unwrap();
    // The router's own list of its routes, and (below) its own word on each one's methods.
    let table = avatar_studio::api::table();
    assert!(table.paths().len() >= 25);
    for path in table.paths() {
        let item = described
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is served but not described"));
        let documented: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
            .map(|k| k.to_uppercase())
            .collect();
        for (method, op) in item.as_object().unwrap() {
            if documented.contains(&method.to_uppercase()) {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
            }
        }
        // No JSON route takes PUT: the router answers 405 and lists what it does take.
        let url = app.url(&path.replace("{id}", "0123456789abcdef"));
        let res = http.put(url).send().await.unwrap();
        assert_eq!(res.status(), 405, "{path}");
        let allowed: BTreeSet<String> = res.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_uppercase())
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(allowed, documented, "the methods of {path}");
    }
    let served: BTreeSet<&str> = table.paths().iter().copied().collect();
    for path in described.keys() {
        assert!(
            served.contains(path.as_str()),
            "{path} is described but not served"
        );
    }
    // Unknown paths under /api stay JSON 404s.
    let res = http.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_route");

    // The readable page names every route.
    let res = http.get(app.url("/api")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    for path in table.paths() {
        assert!(
            page.contains(&format!(" {path}</code>")),
            "{path} on the page"
        );
    }
    assert!(page.contains("POST /api/a2e/nanobanana"));
    assert!(page.contains("insufficient_credits") || page.contains("Not enough credits"));
}
