//! Durability: the server is killed mid-training and started again; against a standalone A2E
//! simulator, the training still ends in the right state and nothing is charged twice.

mod common;

use common::{Backend, ThrowawayPg};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_avatar-studio");

on_both_databases!(training_survives_a_killed_server);

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
    start_instance(port, database_url, media, a2e, true)
}

fn start_instance(port: u16, database_url: &str, media: &str, a2e: &str, run_jobs: bool) -> Killed {
    let child = Command::new(BIN)
        .env("RUN_JOBS", run_jobs.to_string())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("DATABASE_URL", database_url)
        .env("MEDIA_DIR", media)
        .env("A2E_BASE_URL", a2e)
        .env("A2E_API_KEY", "sk_restart_test")
        .env("A2E_POLL_MS", "200")
        .env("JOB_TICK_MS", "100")
        .env("RUST_LOG", "warn")
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
        // A browser on the studio's pages sends their Origin (the CSRF check wants it).
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
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
    let dir = std::env::temp_dir().join(format!("avatar-studio-restart-{}", common::uuid_like()));
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
        .env("A2E_SIMULATOR_SPEEDUP", "40")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    (Killed(child), format!("http://127.0.0.1:{port}"))
}

/// Two instances on one PostgreSQL database: one serves with `RUN_JOBS=false`, the other works
/// the queue. The serving one never finishes a training itself; the worker does it for it.
async fn serving_and_working_instances_share_the_queue() {
    let dir = std::env::temp_dir().join(format!("avatar-studio-scale-{}", common::uuid_like()));
    let pg = ThrowawayPg::create().await;
    let media = dir.join("media").display().to_string();
    let (_simulator, a2e) = start_simulator();
    wait_healthy(&format!("{a2e}/_simulator/faults")).await;

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _serving = start_instance(port, &pg.url, &media, &a2e, false);
    wait_healthy(&format!("{base}/healthz")).await;
    let browser = Browser::new(&base);
    assert_eq!(
        browser.post("/api/auth/signup", account()).await.status(),
        201
    );
    let body = json!({ "prompt": "a lighthouse keeper" });
    let created: Value = browser
        .post("/api/a2e/character", body)
        .await
        .json()
        .await
        .unwrap();
    let (id, avatar) = (
        created["id"].as_str().unwrap(),
        created["avatar_id"].as_str().unwrap(),
    );

    // A2E finishes the training; with no worker, the studio has not noticed.
    let sim = reqwest::Client::new();
    let mut finished_at_a2e = false;
    for _ in 0..300 {
        let answer: Value = sim
            .get(format!("{a2e}/api/v1/userVideoTwin/{avatar}"))
            .bearer_auth("sk_restart_test")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        finished_at_a2e = answer["data"]["current_status"] == "completed";
        if finished_at_a2e {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(finished_at_a2e, "A2E finished the training");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let path = format!("/api/characters/{id}");
    assert_eq!(
        browser.get(&path).await["avatar_status"],
        "training",
        "nobody worked the job"
    );

    let _worker = start_instance(free_port(), &pg.url, &media, &a2e, true);
    let last = browser.until_completed(id).await;
    assert_eq!(
        last["avatar_status"], "completed",
        "the worker instance finished it: {last}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
