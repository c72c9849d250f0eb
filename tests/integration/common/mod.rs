//! Test harness: a real server on a random port, on a fresh SQLite file or a throwaway
//! PostgreSQL database that is dropped when the test ends.
#![allow(dead_code)]

use avatar_studio::config::{Cli, Config};
use avatar_studio::server::{router, state::AppState};
use clap::Parser;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub dir: PathBuf,
    pub database_url: String,
    _database: Option<ThrowawayPg>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = std::env::temp_dir().join(format!("avatar-studio-test-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, database) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/test.db", dir.display()), None),
            Backend::Postgres => {
                let pg = ThrowawayPg::create().await;
                (pg.url.clone(), Some(pg))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = test_config(&url, &dir);
        config.site_addr = addr;
        adjust(&mut config);
        let built = router::build(config).await.expect("server starts");
        let (app, state) = (built.router, built.state);
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            state,
            dir,
            database_url: url,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client with its own cookie jar: one browser on the studio's pages (so its requests
    /// carry the site's `Origin`, as a browser's do).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(same_origin(&self.base))
            .build()
            .unwrap()
    }

    /// Signs `email` up through `client` (the test password); the answer as it came.
    pub async fn sign_up(&self, client: &reqwest::Client, email: &str) -> reqwest::Response {
        client
            .post(self.url("/api/auth/signup"))
            .json(&serde_json::json!({ "email": email, "password": "correct horse battery" }))
            .send()
            .await
            .unwrap()
    }

    /// A signed-up user's client (logged in by its session cookie) and `/api/me` answer.
    pub async fn user(&self, email: &str) -> (reqwest::Client, Value) {
        let client = self.client();
        let res = self.sign_up(&client, email).await;
        assert_eq!(res.status(), 201, "sign-up of {email}");
        let me = res.json().await.unwrap();
        (client, me)
    }
}

/// Shortcuts the API tests share.
impl TestApp {
    /// A server whose simulated A2E runs 600× faster and whose job runner ticks quickly.
    pub async fn fast(backend: Backend, signup_credits: i64) -> Self {
        Self::spawn_with(backend, |c| {
            c.a2e_simulator_speedup = 600.0;
            c.job_tick_ms = 50;
            c.signup_credits = signup_credits;
        })
        .await
    }

    pub async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: Value,
    ) -> reqwest::Response {
        client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// POSTs and reads the JSON answer, whatever its status.
    pub async fn post_json(&self, client: &reqwest::Client, path: &str, body: Value) -> Value {
        self.post(client, path, body).await.json().await.unwrap()
    }

    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        client: &reqwest::Client,
        path: &str,
    ) -> T {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn credits(&self, client: &reqwest::Client) -> i64 {
        self.get_json::<Value>(client, "/api/me").await["credits"]
            .as_i64()
            .unwrap()
    }

    /// What one of the built-in A2E simulator's control routes (`/_simulator/…`) answers.
    pub async fn simulator_json(&self, route: &str) -> Value {
        reqwest::get(self.url(&format!("/a2e-sim/_simulator/{route}")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The calls the built-in A2E simulator received.
    pub async fn simulator_requests(&self) -> Vec<Value> {
        let log = self.simulator_json("requests").await;
        log["requests"].as_array().unwrap().clone()
    }

    /// The calls the simulator received at one path.
    pub async fn simulator_requests_to(&self, path: &str) -> Vec<Value> {
        self.simulator_requests()
            .await
            .into_iter()
            .filter(|r| r["path"] == path)
            .collect()
    }

    pub async fn simulator_faults(&self, rate: f64, kinds: &[&str]) {
        self.simulator_fault_settings(serde_json::json!({ "rate": rate, "kinds": kinds }))
            .await
    }

    /// Sets the simulator's faults with every setting (`delay_ms`, `flavour`, `only`).
    pub async fn simulator_fault_settings(&self, body: Value) {
        let res = reqwest::Client::new()
            .post(self.url("/a2e-sim/_simulator/faults"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }
}

impl Drop for TestApp {
    /// Every integration test ends with the ledger checked (before its database goes away).
    fn drop(&mut self) {
        let url = self.database_url.clone();
        let checked = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(ledger_invariants(&url))
        })
        .join()
        .unwrap_or_else(|_| Err("the ledger check panicked".into()));
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Err(broken) = checked {
            if !std::thread::panicking() {
                panic!("ledger invariant broken: {broken}");
            }
        }
    }
}

/// What must hold whatever a test did: balance = grants − settled − held; each reservation
/// closed at most once, a refund giving back exactly what was held; no reservation open and
/// no character waiting to start without a live job to carry it.
pub async fn ledger_invariants(url: &str) -> Result<(), String> {
    use sqlx::Row;
    let db = avatar_studio::store::Db::connect(url).await?;
    let q = |sql: &'static str| sqlx::query(sql);
    let err = |e: sqlx::Error| e.to_string();
    let broken = q("SELECT u.id AS id,
               (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_ledger l WHERE l.user_id = u.id) AS balance,
               (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM credit_ledger l WHERE l.user_id = u.id AND kind = 'grant') AS granted,
               (SELECT CAST(COALESCE(SUM(-r.amount), 0) AS BIGINT) FROM credit_ledger r WHERE r.user_id = u.id AND r.kind = 'reserve'
                   AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.reservation_key = r.reservation_key AND c.kind = 'refund')) AS spent
           FROM users u")
        .fetch_all(&db.pool)
        .await
        .map_err(err)?;
    for row in &broken {
        let (balance, granted, spent): (i64, i64, i64) = (
            row.try_get("balance").map_err(err)?,
            row.try_get("granted").map_err(err)?,
            row.try_get("spent").map_err(err)?,
        );
        if balance != granted - spent || balance < 0 {
            return Err(format!(
                "balance {balance} != granted {granted} - held/settled {spent}"
            ));
        }
    }
    let closes = q("SELECT reservation_key, COUNT(*) AS n FROM credit_ledger WHERE kind IN ('settle', 'refund')
           GROUP BY reservation_key HAVING COUNT(*) > 1")
        .fetch_all(&db.pool)
        .await
        .map_err(err)?;
    if let Some(row) = closes.first() {
        let key: String = row.try_get("reservation_key").map_err(err)?;
        return Err(format!("reservation {key} closed twice"));
    }
    let wrong_refunds = q(
        "SELECT f.reservation_key FROM credit_ledger f JOIN credit_ledger r
           ON r.reservation_key = f.reservation_key AND r.kind = 'reserve'
           WHERE f.kind = 'refund' AND f.amount <> -r.amount",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(err)?;
    if !wrong_refunds.is_empty() {
        return Err("a refund differs from its reservation".into());
    }
    let orphans = q("SELECT r.reservation_key FROM credit_ledger r
           WHERE r.kind = 'reserve'
             AND NOT EXISTS (SELECT 1 FROM credit_ledger c WHERE c.reservation_key = r.reservation_key AND c.kind IN ('settle', 'refund'))
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.reservation_key = r.reservation_key AND j.state IN ('queued', 'running'))")
        .fetch_all(&db.pool)
        .await
        .map_err(err)?;
    if let Some(row) = orphans.first() {
        let key: String = row.try_get("reservation_key").map_err(err)?;
        return Err(format!("reservation {key} is open without a live job"));
    }
    let stranded = q("SELECT c.id FROM character_references c
           WHERE c.avatar_status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.subject_id = c.id AND j.state IN ('queued', 'running'))")
        .fetch_all(&db.pool)
        .await
        .map_err(err)?;
    if let Some(row) = stranded.first() {
        let id: String = row.try_get("id").map_err(err)?;
        return Err(format!("character {id} is pending with no job"));
    }
    Ok(())
}

fn test_config(database_url: &str, dir: &std::path::Path) -> Config {
    let media = dir.join("media");
    let mut config = Cli::parse_from([
        "avatar-studio",
        "--database-url",
        database_url,
        "--media-dir",
        media.to_str().unwrap(),
    ])
    .config;
    // Tests never talk to the real A2E, whatever the environment says.
    config.a2e_api_key = None;
    config.a2e_api_token = None;
    config.public_base_url = None;
    config.signup_credits = 100;
    config.simulator_controls = true;
    // example.com stands for a public host in requests (there is no DNS here).
    config.fetch_allow_hosts = "example.com".into();
    // Suites sign up and spend far faster than people; the limits get tests of their own.
    config.login_rate_per_min = 0;
    config.paid_rate_per_min = 0;
    config.poll_rate_per_min = 0;
    config
}

pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A PostgreSQL database of its own, dropped (with its connections) on drop.
pub struct ThrowawayPg {
    pub url: String,
    name: String,
    admin_url: String,
}

impl ThrowawayPg {
    pub async fn create() -> Self {
        let admin_url = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("avatar_test_{}", uuid_like());
        let mut admin = connect_admin(&admin_url).await;
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap();
        Self {
            url: format!("{base}/{name}"),
            name,
            admin_url,
        }
    }
}

async fn connect_admin(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL must be reachable at {url} (TEST_POSTGRES_URL): {e}")
    })
}

impl Drop for ThrowawayPg {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; a short-lived runtime on its own thread does the I/O.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = connect_admin(&admin_url).await;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::Executor::execute(&mut admin, sql.as_str()).await;
            });
        })
        .join();
    }
}

/// Reads `{"error":{"code":…}}` from an error answer.
pub async fn error_code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error has a message: {body}"
    );
    (status, code)
}

/// The `Origin` header a page of the site at `base` sends.
pub fn same_origin(base: &str) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    headers
}

/// A real grey PNG of `width`×`height` (training pre-flight reads its size from the header).
pub fn png_of(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![128u8; (width * height) as usize])
        .unwrap();
    writer.finish().unwrap();
    bytes
}

/// A portrait large enough to train an avatar from.
pub fn portrait_png() -> Vec<u8> {
    png_of(320, 400)
}

/// A real MP4 clip made with ffmpeg (installed by `./dev test`, the simulator needs it too).
pub fn mp4_clip(seconds: u32, width: u32, height: u32) -> Vec<u8> {
    let source = format!("testsrc=duration={seconds}:size={width}x{height}:rate=5");
    // A file, not a pipe: a piped MP4 is fragmented and its header carries no length.
    let path = std::env::temp_dir().join(format!("clip-{}.mp4", uuid_like()));
    let out = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-f", "lavfi", "-i", &source])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&path)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    bytes
}
