//! Durability: the server is killed mid-training and started again; against a standalone A2E
//! simulator, the training still ends in the right state and nothing is charged twice.

use crate::common::{Backend, ThrowawayPg};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_avatar-studio");

on_both_databases!(
    training_survives_a_killed_server,
    killed_three_times_with_work_in_flight_every_piece_ends_once
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serving_instance_leaves_trainings_to_a_worker_instance() {
    serving_and_working_instances_share_the_queue().await
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_healthy(url: &str) {
    for _ in 0..300 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never became healthy");
}

fn start_app(port: u16, database_url: &str, media: &str, a2e: &str) -> Killed {
    start_instance(port, database_url, media, a2e, &[])
}

/// A server process against the standalone simulator; `extra` settings on top.
fn start_instance(
    port: u16,
    database_url: &str,
    media: &str,
    a2e: &str,
    extra: &[(&str, &str)],
) -> Killed {
    let child = Command::new(BIN)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("DATABASE_URL", database_url)
        .env("MEDIA_DIR", media)
        .env("A2E_BASE_URL", a2e)
        .env("A2E_API_KEY", "sk_restart_test")
        .env("A2E_POLL_MS", "200")
        .env("JOB_TICK_MS", "100")
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Killed(child)
}

/// A browser (its own cookie jar) talking to a server started as a process.
struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(crate::common::same_origin(base))
            .build()
            .unwrap();
        Self {
            client,
            base: base.to_string(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        let url = format!("{}{path}", self.base);
        self.client.post(url).json(&body).send().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        self.client
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits (bounded) for the character's training to complete; answers its last state.
    async fn until_completed(&self, id: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..600 {
            last = self.get(&format!("/api/characters/{id}")).await;
            if last["avatar_status"] == "completed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }
}

fn account() -> Value {
    json!({ "email": "durable@example.com", "password": "correct horse battery" })
}

async fn training_survives_a_killed_server(backend: Backend) {
    let dir = std::env::temp_dir().join(format!(
        "avatar-studio-restart-{}",
        crate::common::uuid_like()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = match backend {
        Backend::Postgres => Some(ThrowawayPg::create().await),
        Backend::Sqlite => None,
    };
    let database_url = pg
        .as_ref()
        .map(|p| p.url.clone())
        .unwrap_or_else(|| format!("sqlite://{}/app.db", dir.display()));
    let media = dir.join("media").display().to_string();
    let (_simulator, a2e) = start_simulator();
    wait_healthy(&format!("{a2e}/_simulator/faults")).await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let app = start_app(port, &database_url, &media, &a2e);
    wait_healthy(&format!("{base}/healthz")).await;
    let browser = Browser::new(&base);
    assert_eq!(
        browser.post("/api/auth/signup", account()).await.status(),
        201
    );
    let body = json!({ "prompt": "a stubborn mountain goat herder" });
    let created: Value = browser
        .post("/api/a2e/character", body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["avatar_status"], "training");
    let id = created["id"].as_str().unwrap().to_string();

    // Killed without warning, and down long enough for A2E to finish meanwhile.
    drop(app);
    tokio::time::sleep(Duration::from_secs(8)).await;

    let _app = start_app(port, &database_url, &media, &a2e);
    wait_healthy(&format!("{base}/healthz")).await;
    assert_eq!(
        browser.post("/api/auth/login", account()).await.status(),
        200
    );
    let last = browser.until_completed(&id).await;
    assert_eq!(last["avatar_status"], "completed", "{last}");
    assert_eq!(browser.get("/api/me").await["credits"], 98, "charged once");
    let _ = std::fs::remove_dir_all(&dir);
}

fn start_simulator() -> (Killed, String) {
    let port = free_port();
    let child = Command::new(BIN)
        .args(["simulate-a2e", "--addr", &format!("127.0.0.1:{port}")])
        .env("SIMULATOR_CONTROLS", "true")
        .env("A2E_SIMULATOR_SPEEDUP", "40")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    (Killed(child), format!("http://127.0.0.1:{port}"))
}

/// Two instances on one PostgreSQL database: one serves with `RUN_JOBS=false`, the other works
/// the queue. The serving one never finishes a training itself; the worker does it for it.
async fn serving_and_working_instances_share_the_queue() {
    let dir = std::env::temp_dir().join(format!(
        "avatar-studio-scale-{}",
        crate::common::uuid_like()
    ));
    let pg = ThrowawayPg::create().await;
    let media = dir.join("media").display().to_string();
    let (_simulator, a2e) = start_simulator();
    wait_healthy(&format!("{a2e}/_simulator/faults")).await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _serving = start_instance(port, &pg.url, &media, &a2e, &[("RUN_JOBS", "false")]);
    wait_healthy(&format!("{base}/healthz")).await;
    let browser = Browser::new(&base);
    assert_eq!(
        browser.post("/api/auth/signup", account()).await.status(),
        201
    );
    // The serving instance only writes the work down: with no worker, nothing reaches A2E.
    let body = json!({ "prompt": "a lighthouse keeper" });
    let hasty = reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(crate::common::same_origin(&base))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let login = hasty
        .post(format!("{base}/api/auth/login"))
        .json(&account())
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let answer = hasty
        .post(format!("{base}/api/a2e/character"))
        .json(&body)
        .send()
        .await;
    assert!(
        answer.is_err(),
        "the request waits for a worker, and its client gives up"
    );
    let list = browser.get("/api/characters").await;
    let id = list[0]["id"]
        .as_str()
        .expect("the character was saved")
        .to_string();
    assert_eq!(list[0]["avatar_status"], "pending", "nobody worked the job");
    let id = id.as_str();

    let _worker = start_instance(free_port(), &pg.url, &media, &a2e, &[]);
    let last = browser.until_completed(id).await;
    assert_eq!(
        last["avatar_status"], "completed",
        "the worker instance finished it: {last}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server for the kill test: large sign-up credits, a short lease.
fn start_busy_app(port: u16, database_url: &str, media: &str, a2e: &str) -> Killed {
    let extra = [("JOB_LEASE_MS", "2000"), ("SIGNUP_CREDITS", "1000")];
    start_instance(port, database_url, media, a2e, &extra)
}

/// Kill -9 three times while 20 generations and 10 trainings are in flight: afterwards every
/// one has ended, no task was started twice at A2E, and the balance is exact.
async fn killed_three_times_with_work_in_flight_every_piece_ends_once(backend: Backend) {
    let dir =
        std::env::temp_dir().join(format!("avatar-studio-kill-{}", crate::common::uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = match backend {
        Backend::Postgres => Some(ThrowawayPg::create().await),
        Backend::Sqlite => None,
    };
    let database_url = pg
        .as_ref()
        .map(|p| p.url.clone())
        .unwrap_or_else(|| format!("sqlite://{}/app.db", dir.display()));
    let media = dir.join("media").display().to_string();
    let (_simulator, a2e) = start_simulator();
    wait_healthy(&format!("{a2e}/_simulator/faults")).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut app = start_busy_app(port, &database_url, &media, &a2e);
    wait_healthy(&format!("{base}/healthz")).await;
    let browser = Browser::new(&base);
    assert_eq!(
        browser.post("/api/auth/signup", account()).await.status(),
        201
    );
    let token: Value = browser
        .post("/api/tokens", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let hasty = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    for i in 0..10 {
        let body = json!({ "prompt": format!("a dancer number {i}") });
        let _ = hasty
            .post(format!("{base}/api/a2e/character"))
            .header("authorization", &bearer)
            .json(&body)
            .send()
            .await;
    }
    for i in 0..20 {
        let body = json!({ "prompt": format!("a festival scene {i}") });
        let res = browser.post("/api/a2e/nanobanana", body).await;
        assert_eq!(res.status(), 202);
    }
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        drop(app);
        app = start_busy_app(port, &database_url, &media, &a2e);
        wait_healthy(&format!("{base}/healthz")).await;
    }
    let (mut characters, mut generations) = (Value::Null, Value::Null);
    for _ in 0..600 {
        characters = browser.get("/api/characters").await;
        generations = browser.get("/api/generations").await;
        let all_ended = |v: &Value, field: &str, ends: &[&str]| {
            v.as_array().is_some_and(|a| {
                a.iter()
                    .all(|x| ends.contains(&x[field].as_str().unwrap_or_default()))
            })
        };
        if all_ended(&characters, "avatar_status", &["completed", "failed"])
            && all_ended(
                &generations,
                "status",
                &["completed", "failed", "cancelled"],
            )
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let characters = characters.as_array().unwrap().clone();
    let generations = generations.as_array().unwrap().clone();
    assert_eq!(characters.len(), 10, "every accepted character exists");
    assert_eq!(generations.len(), 20);
    assert!(
        characters.iter().all(|c| c["avatar_status"] == "completed"),
        "{characters:#?}"
    );
    assert!(
        generations.iter().all(|g| g["status"] == "completed"),
        "{generations:#?}"
    );
    let expected = 1000 - 2 * characters.len() as i64 - 4 * generations.len() as i64;
    assert_eq!(
        browser.get("/api/me").await["credits"],
        expected,
        "balance exact"
    );
    let log: Value = reqwest::get(format!("{a2e}/_simulator/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut starts = std::collections::HashMap::new();
    for r in log["requests"].as_array().unwrap() {
        let path = r["path"].as_str().unwrap_or_default();
        if path.ends_with("/start") || path.ends_with("/startTraining") {
            *starts.entry(r["body"]["name"].to_string()).or_insert(0) += 1;
        }
    }
    assert_eq!(
        starts.len(),
        10 + 10 + 20,
        "portraits, trainings and scenes: {starts:?}"
    );
    assert!(
        starts.values().all(|n| *n == 1),
        "nothing started twice: {starts:?}"
    );
    drop(app);
    crate::common::ledger_invariants(&database_url)
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
