//! `./dev bench`: the figures of issue 13, measured on the release server running as its own
//! process, on SQLite and on PostgreSQL, each throughput as a ratio against `GET /healthz`
//! measured by the same load tool (Debian's `wrk`) on the same server in the same run, so that
//! figures from a noisy shared machine still compare.
//!
//! 1. Pages and JSON lists for one user with 1,000 trained characters and 1,000 generations.
//! 2. First-load bytes of the front end, as the server sends them (brotli, gzip), and at the
//!    end, when `./dev bench` built them (`BENCH_WASM_FLOOR`), those of the smallest Leptos front
//!    ends (`benches/wasm_floor`): what the framework alone costs of the 200 KB goal.
//! 3. Memory: idle, after the load, and over a soak (the same load again and again).
//! 4. The job runner with 10,000 trainings in flight against the standalone A2E simulator.
//!
//! It prints figures and the goals beside them; nothing here fails on a timing. Settings
//! (environment): `BENCH_SERVER` (the binary), `BENCH_DATABASES` (`sqlite,postgres`),
//! `BENCH_SECONDS` (per route, 5), `BENCH_CONNECTIONS` (16), `BENCH_SOAK_SECS` (600: the ten minutes of the goal),
//! `BENCH_TRAININGS` (10000), `BENCH_POLL_MS` (10000), `BENCH_SIM_SPEEDUP` (2),
//! `BENCH_RUNNER_TIMEOUT_SECS` (900), `BENCH_ROUTES` (only these routes, comma-separated
//! prefixes), `BENCH_ACCEPT_ENCODING` (sent with every loaded request, e.g. `zstd`: the figures
//! then include compressing each answer; unset, answers are sent uncompressed), `TEST_POSTGRES_URL`.

#[path = "../../tests/integration/common/mod.rs"]
mod common;
mod runner;
mod seed;
mod server;
mod wrk;

use avatar_studio::store::Db;
use server::Process;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What Chromium sends as `Accept-Encoding`.
const CHROMIUM_ENCODINGS: &str = "gzip, deflate, br, zstd";

/// The user the pages are measured for.
const CHARACTERS: usize = 1_000;
const GENERATIONS: usize = 1_000;

struct Settings {
    server: PathBuf,
    seconds: u32,
    connections: u32,
    soak: Duration,
    runner: runner::Settings,
    /// `Accept-Encoding` of the loaded requests (empty: none).
    accept_encoding: String,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        Err(_) => default,
    }
}

/// What a row is held to.
#[derive(Clone, Copy, PartialEq)]
enum Goal {
    Baseline,
    /// Server-rendered page: ≥ 0.3 × /healthz and p99 < 20 ms.
    Page,
    /// JSON list: ≥ 0.5 × /healthz.
    List,
    /// JSON route that is not a list (`/api/me`): the issue sets it no goal; printed.
    Printed,
}

struct Route {
    path: String,
    goal: Goal,
    /// Sent with the user's session cookie.
    logged_in: bool,
}

struct Row {
    route: Route,
    load: wrk::Load,
    ratio: f64,
    body_bytes: usize,
    /// The same answer as Chromium gets it (compressed in the encoding it prefers).
    compressed_bytes: usize,
    status: u16,
}

impl Row {
    fn verdict(&self) -> &'static str {
        let ok = match self.route.goal {
            Goal::Baseline => return "baseline",
            Goal::Printed => return "printed",
            Goal::Page => self.ratio >= 0.3 && self.load.p99_ms < 20.0,
            Goal::List => self.ratio >= 0.5,
        };
        let fair = self.status == 200 && self.load.bad_answers == 0 && self.load.socket_errors == 0;
        match (ok, fair) {
            (_, false) => "errors (see above)",
            (true, true) => "met",
            (false, true) => "missed",
        }
    }
}

fn routes(library: &seed::Library) -> Vec<Route> {
    let c = &library.busiest_character;
    let page = |path: &str, logged_in| Route {
        path: path.into(),
        goal: Goal::Page,
        logged_in,
    };
    let json = |path: String, goal| Route {
        path,
        goal,
        logged_in: true,
    };
    let all = vec![
        Route {
            path: "/healthz".into(),
            goal: Goal::Baseline,
            logged_in: false,
        },
        page("/login", false),
        page("/", true),
        page("/characters", true),
        page(&format!("/characters/{c}"), true),
        page("/account", true),
        page("/account/credits", true),
        page("/presets", true),
        json("/api/me".into(), Goal::Printed),
        json("/api/characters".into(), Goal::List),
        json("/api/generations".into(), Goal::List),
        json(format!("/api/characters/{c}/generations"), Goal::List),
        json("/api/ledger".into(), Goal::List),
    ];
    // `BENCH_ROUTES=/account,/api/me` measures only those (and the /healthz baseline): for
    // profiling one route.
    let only = std::env::var("BENCH_ROUTES").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|r| !r.is_empty()).collect();
    all.into_iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || only.is_empty() || only.iter().any(|o| r.path.starts_with(o)))
        .map(|(_, r)| r)
        .collect()
}

/// The value at percentile `p` (nearest rank); NaN for no values.
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
    values[rank.min(values.len() - 1)]
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// One database's run: everything measured on one server process.
struct Run {
    backend: &'static str,
    start_ms: f64,
    rows: Vec<Row>,
    first_load: Vec<(String, usize, usize, usize)>,
    rss_idle_kib: u64,
    rss_loaded_kib: u64,
    soak: Vec<(f64, u64)>,
    runner: runner::Figures,
}

async fn bench(settings: &Settings, backend: &'static str) -> Run {
    println!("\n## {backend}\n");
    let dir = std::env::temp_dir().join(format!(
        "avatar-studio-bench-{}-{backend}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench folder");
    let pg = match backend {
        "postgres" => Some(common::ThrowawayPg::create().await),
        _ => None,
    };
    let database_url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}", dir.join("bench.db").display()),
    };
    let simulator = start_simulator(settings, &dir).await;
    let (studio, start_ms) = start_studio(settings, &dir, &database_url, &simulator).await;
    // Idle: started, migrated, healthy, nothing asked yet.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_kib = studio.rss_kib();
    // A profiling run (`BENCH_ROUTES`) may use a server built without its front end.
    let first_load = match std::env::var_os("BENCH_ROUTES") {
        Some(_) => Vec::new(),
        None => first_load(&studio).await,
    };

    let db = Db::connect(&database_url)
        .await
        .expect("the bench's own connection");
    let seeding = Instant::now();
    let user = seed::sign_up(&studio.url(""), "library@bench.example").await;
    let library = seed::library(&db, &user.id, CHARACTERS, GENERATIONS).await;
    println!(
        "seeded {CHARACTERS} trained characters and {GENERATIONS} generations in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let rows = load_all(settings, &studio, &user, routes(&library)).await;
    let rss_loaded_kib = studio.rss_kib();
    let soak = soak(settings, &studio, &user, &library).await;

    println!("runner: {} trainings …", settings.runner.trainings);
    let trainee = seed::sign_up(&studio.url(""), "runner@bench.example").await;
    let runner = runner::run(&settings.runner, &db, &studio, &simulator, &trainee).await;
    db.pool.close().await;
    // Stop both before the database goes.
    drop(studio);
    drop(simulator);
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        backend,
        start_ms,
        rows,
        first_load,
        rss_idle_kib,
        rss_loaded_kib,
        soak,
        runner,
    }
}

async fn start_simulator(settings: &Settings, dir: &Path) -> Process {
    let port = server::free_port();
    let addr = format!("127.0.0.1:{port}");
    let env = [
        ("A2E_SIMULATOR_SPEEDUP", settings.runner.speedup.to_string()),
        ("SIMULATOR_CONTROLS", "true".into()),
        ("RUST_LOG", "warn".into()),
    ];
    let args = ["simulate-a2e", "--addr", &addr];
    let mut sim = server::start(&settings.server, "simulator", dir, &args, &env, port);
    let url = sim.url("/_simulator/stats");
    server::wait_ready(&mut sim, &url).await;
    sim
}

/// The server with its shipped defaults, but A2E is the standalone simulator (as a real key
/// would make it A2E itself). Answers the process and its time from start to healthy (ms).
async fn start_studio(
    settings: &Settings,
    dir: &Path,
    database_url: &str,
    simulator: &Process,
) -> (Process, f64) {
    let port = server::free_port();
    let env = [
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("DATABASE_URL", database_url.to_string()),
        ("MEDIA_DIR", dir.join("media").display().to_string()),
        ("A2E_API_KEY", "sk_bench_simulated".into()),
        ("A2E_BASE_URL", simulator.url("")),
        ("A2E_POLL_MS", settings.runner.poll_ms.to_string()),
        // The simulator's preview files are on a private address, as no real A2E's are.
        ("FETCH_ALLOW_HOSTS", format!("127.0.0.1:{}", simulator.port)),
    ];
    let started = Instant::now();
    let mut studio = server::start(&settings.server, "server", dir, &[], &env, port);
    let url = studio.url("/healthz");
    server::wait_ready(&mut studio, &url).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    (studio, ms)
}

/// The page's own scripts and style (`/_v/{digest}/pkg/…`), fetched as a browser would:
/// bytes sent with brotli, with gzip, and uncompressed.
async fn first_load(studio: &Process) -> Vec<(String, usize, usize, usize)> {
    let client = reqwest::Client::new();
    let page = client
        .get(studio.url("/login"))
        .send()
        .await
        .expect("/login");
    let html = page.text().await.expect("/login body");
    let mut files: Vec<String> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/_v/") && s.contains("/pkg/"))
        .map(String::from)
        .collect();
    files.sort();
    files.dedup();
    let mut sizes = Vec::new();
    for file in files {
        let size = |encoding: &'static str| {
            let (client, url) = (client.clone(), studio.url(&file));
            async move {
                let res = client
                    .get(&url)
                    .header("accept-encoding", encoding)
                    .send()
                    .await
                    .expect("front-end file");
                // A page naming files the server does not have (a debug build without its
                // site) must not pass its error page off as the front end.
                assert_eq!(res.status(), 200, "{url} is not served");
                res.bytes().await.expect("its bytes").len()
            }
        };
        let (br, gz, raw) = (size("br").await, size("gzip").await, size("identity").await);
        let name = file.rsplit('/').next().unwrap_or(&file).to_string();
        sizes.push((name, br, gz, raw));
    }
    sizes
}

/// What Leptos alone ships (`wasm_floor` in ./dev writes it): the least a front end of this
/// framework can send, against which the 200 KB goal and the studio's first load are read.
fn print_wasm_floor() {
    let Some(path) = std::env::var_os("BENCH_WASM_FLOOR") else {
        return;
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("\n(no sizes of the smallest Leptos front ends at {path:?})");
        return;
    };
    println!("\n### The smallest Leptos front ends (benches/wasm_floor), built as the studio's\n");
    println!("| front end | WASM brotli | JS brotli | total |");
    println!("|---|---:|---:|---:|");
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [variant, wasm, js] = fields[..] else {
            continue;
        };
        let (Ok(wasm), Ok(js)) = (wasm.parse::<usize>(), js.parse::<usize>()) else {
            continue;
        };
        let what = match variant {
            "hydrated" => "fully hydrated: router, a resource, a form",
            "islands" => "islands: one island calling a server function",
            other => other,
        };
        let kb = |b: usize| format!("{:.1} KB", b as f64 / 1000.0);
        println!("| {what} | {} | {} | {} |", kb(wasm), kb(js), kb(wasm + js));
    }
}

fn headers(route: &Route, user: &seed::Account, settings: &Settings) -> Vec<String> {
    let mut headers = Vec::new();
    if route.logged_in {
        headers.push(user.cookie.clone());
    }
    if !settings.accept_encoding.is_empty() {
        headers.push(format!("Accept-Encoding: {}", settings.accept_encoding));
    }
    headers
}

/// One answer alone: its status and its size as sent with `encoding` (reqwest here decodes
/// nothing, so the bytes are what went over the wire).
async fn fetch_once(
    client: &reqwest::Client,
    url: &str,
    route: &Route,
    user: &seed::Account,
    encoding: &str,
) -> reqwest::Result<(u16, usize)> {
    let mut req = client.get(url).header("accept-encoding", encoding);
    if route.logged_in {
        req = req.header("cookie", user.cookie.trim_start_matches("Cookie: "));
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.bytes().await?.len()))
}

/// One `wrk` run per route; ratios against the first row (`/healthz`).
async fn load_all(
    settings: &Settings,
    studio: &Process,
    user: &seed::Account,
    routes: Vec<Route>,
) -> Vec<Row> {
    // A page that takes longer than this alone is not loaded: its figure is "no answer".
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    let mut rows: Vec<Row> = Vec::new();
    for route in routes {
        let url = studio.url(&route.path);
        let started = Instant::now();
        let (status, body_bytes) = match fetch_once(&client, &url, &route, user, "identity").await {
            Ok(answer) => answer,
            Err(err) => {
                println!("  {}: no answer alone ({err}); not loaded", route.path);
                (0, 0)
            }
        };
        let compressed_bytes = match status {
            0 => 0,
            _ => fetch_once(&client, &url, &route, user, CHROMIUM_ENCODINGS)
                .await
                .map_or(0, |(_, bytes)| bytes),
        };
        let load = match status {
            0 => wrk::Load::none(),
            _ => wrk::run(
                &url,
                settings.connections,
                settings.seconds,
                &headers(&route, user, settings),
            ),
        };
        if started.elapsed() > Duration::from_secs(settings.seconds as u64 + 30) {
            println!(
                "  {}: took {:.0} s",
                route.path,
                started.elapsed().as_secs_f64()
            );
        }
        let baseline = rows.first().map_or(load.per_second, |b| b.load.per_second);
        let row = Row {
            ratio: load.per_second / baseline,
            route,
            load,
            body_bytes,
            compressed_bytes,
            status,
        };
        if row.status != 200 || row.load.bad_answers > 0 || row.load.socket_errors > 0 {
            println!(
                "  {}: status {}, {} answers outside 2xx/3xx, {} socket errors",
                row.route.path, row.status, row.load.bad_answers, row.load.socket_errors
            );
        }
        rows.push(row);
    }
    print_routes(&rows);
    rows
}

fn print_routes(rows: &[Row]) {
    println!("| route | req/s | × /healthz | p50 | p99 | body | compressed | goal | |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|");
    for r in rows {
        let goal = match r.route.goal {
            Goal::Baseline | Goal::Printed => "",
            Goal::Page => "≥ 0.3×, p99 < 20 ms",
            Goal::List => "≥ 0.5×",
        };
        println!(
            "| `{}` | {:.0} | {:.3} | {:.1} ms | {:.1} ms | {:.1} KB | {:.1} KB | {goal} | {} |",
            short(&r.route.path),
            r.load.per_second,
            r.ratio,
            r.load.p50_ms,
            r.load.p99_ms,
            r.body_bytes as f64 / 1000.0,
            r.compressed_bytes as f64 / 1000.0,
            r.verdict()
        );
    }
}

/// Ids shortened, so tables stay readable.
fn short(path: &str) -> String {
    path.split('/')
        .map(|part| match part.len() > 20 {
            true => "{id}",
            false => part,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The route set again and again for `settings.soak`; the server's RSS after each round.
async fn soak(
    settings: &Settings,
    studio: &Process,
    user: &seed::Account,
    library: &seed::Library,
) -> Vec<(f64, u64)> {
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < settings.soak {
        for route in routes(library).iter().skip(1) {
            let seconds = settings.seconds.min(2);
            wrk::run(
                &studio.url(&route.path),
                settings.connections,
                seconds,
                &headers(route, user, settings),
            );
        }
        samples.push((started.elapsed().as_secs_f64(), studio.rss_kib()));
    }
    samples
}

fn print_run(run: &Run, settings: &Settings) {
    println!("\n### {}: front end, first load (as served)\n", run.backend);
    println!("| file | brotli | gzip | uncompressed |");
    println!("|---|---:|---:|---:|");
    let kb = |b: usize| format!("{:.1} KB", b as f64 / 1000.0);
    let mut total = (0, 0, 0);
    for (name, br, gz, raw) in &run.first_load {
        println!("| `{name}` | {} | {} | {} |", kb(*br), kb(*gz), kb(*raw));
        total = (total.0 + br, total.1 + gz, total.2 + raw);
    }
    let verdict = if total.0 <= 200_000 { "met" } else { "missed" };
    println!(
        "| total (goal ≤ 200 KB brotli: {verdict}) | {} | {} | {} |",
        kb(total.0),
        kb(total.1),
        kb(total.2)
    );

    println!("\n### {}: memory (server RSS)\n", run.backend);
    let first = run.soak.first().map_or(0, |s| s.1);
    let last = run.soak.last().map_or(0, |s| s.1);
    let yes = |ok: bool| if ok { "met" } else { "missed" };
    println!("| when | RSS | goal | |");
    println!("|---|---:|---|---|");
    println!("| start to healthy | {:.0} ms | | |", run.start_ms);
    println!(
        "| idle | {:.1} MiB | < 25 MiB | {} |",
        mib(run.rss_idle_kib),
        yes(run.rss_idle_kib < 25 * 1024)
    );
    println!(
        "| after the load above | {:.1} MiB | < 64 MiB | {} |",
        mib(run.rss_loaded_kib),
        yes(run.rss_loaded_kib < 64 * 1024)
    );
    println!(
        "| soak, {} rounds in {:.0} s: first → last round | {:.1} → {:.1} MiB ({:+.1}) | no growth | {} |",
        run.soak.len(),
        run.soak.last().map_or(0.0, |s| s.0),
        mib(first),
        mib(last),
        mib(last) - mib(first),
        // Allocator noise is not growth: a round may end a little above another.
        yes(last <= first + first / 20)
    );
    // The whole series: a leak climbs round after round, an allocator's reserve levels off.
    let series: Vec<String> = run
        .soak
        .iter()
        .map(|s| format!("{:.0}", mib(s.1)))
        .collect();
    println!("\nRSS after each soak round (MiB): {}", series.join(", "));
    let r = &run.runner;
    let s = &settings.runner;
    println!(
        "\n### {}: job runner, {} trainings against the standalone simulator\n",
        run.backend, r.trainings
    );
    println!(
        "Simulator speed-up {}× (trainings take {:.0}–{:.0} s here), `A2E_POLL_MS` {} ms; \
         seeded in {:.1} s; all started after {}; {} of {} finished in {:.0} s; peak in flight {}.\n",
        s.speedup,
        120.0 / s.speedup,
        300.0 / s.speedup,
        s.poll_ms,
        r.seed_s,
        r.all_started_s
            .map_or("(not all)".into(), |t| format!("{t:.0} s")),
        r.finished,
        r.trainings,
        r.phase_s,
        r.peak_in_flight
    );
    println!("| figure | value | goal | |");
    println!("|---|---:|---|---|");
    println!(
        "| A2E calls per training (start + status polls), median / max | {:.0} / {:.0} | ≤ training time / poll + 2 | {} |",
        r.calls_p50,
        r.calls_max,
        match r.over_budget {
            0 => "met".to_string(),
            n => format!("missed by {n}"),
        }
    );
    println!(
        "| all avatar calls to A2E / trainings | {:.2} | | |",
        r.calls_per_training_all
    );
    let lag_goal = s.poll_ms as f64 + 1000.0;
    println!(
        "| lag A2E end → database, p50 / p99 / max | {:.0} / {:.0} / {:.0} ms | p99 ≤ {lag_goal:.0} ms | {} |",
        r.lag_p50_ms,
        r.lag_p99_ms,
        r.lag_max_ms,
        yes(r.lag_p99_ms <= lag_goal && r.finished == r.trainings)
    );
    println!(
        "| server CPU in the phase | {:.1} s ({:.1} ms per training) | | |",
        r.cpu_s,
        r.cpu_s * 1000.0 / r.trainings as f64
    );
    println!(
        "| server CPU per in-flight training | {:.0} µs/s | printed | |",
        r.cpu_us_per_job_second
    );
    println!(
        "| training watch rounds: count, mean, over 1 s | {:.0}, {:.2} s, {:.0} | | |",
        r.watch.count,
        r.watch.mean_s(),
        r.watch.over_1s
    );
    println!("| simulator CPU in the phase | {:.1} s | | |", r.sim_cpu_s);
    println!(
        "| server RSS peak in the phase | {:.1} MiB | | |",
        mib(r.rss_peak_kib)
    );
}

/// Both databases side by side: the table the README keeps.
fn print_summary(runs: &[Run], settings: &Settings) {
    println!(
        "\n## Summary: {} connections, {} s per route\n",
        settings.connections, settings.seconds
    );
    let mut head = String::from("| route |");
    let mut rule = String::from("|---|");
    for run in runs {
        head += &format!(" {0} req/s | {0} × /healthz | {0} p99 |", run.backend);
        rule += "---:|---:|---:|";
    }
    println!("{head} body | compressed |\n{rule}---:|---:|");
    let Some(first) = runs.first() else { return };
    for (i, row) in first.rows.iter().enumerate() {
        let mut line = format!("| `{}` |", short(&row.route.path));
        for run in runs {
            let r = &run.rows[i];
            line += &format!(
                " {:.0} | {:.3}{} | {:.1} ms |",
                r.load.per_second,
                r.ratio,
                match r.verdict() {
                    "met" => " ✓",
                    "missed" => " ✗",
                    _ => "",
                },
                r.load.p99_ms
            );
        }
        println!(
            "{line} {:.1} KB | {:.1} KB |",
            row.body_bytes as f64 / 1000.0,
            row.compressed_bytes as f64 / 1000.0
        );
    }
}

fn main() {
    let settings = Settings {
        server: PathBuf::from(env_or(
            "BENCH_SERVER",
            "target/server-release/avatar-studio".to_string(),
        )),
        seconds: env_or("BENCH_SECONDS", 5),
        connections: env_or("BENCH_CONNECTIONS", 16),
        soak: Duration::from_secs(env_or("BENCH_SOAK_SECS", 600)),
        runner: runner::Settings {
            trainings: env_or("BENCH_TRAININGS", 10_000),
            poll_ms: env_or("BENCH_POLL_MS", 10_000),
            speedup: env_or("BENCH_SIM_SPEEDUP", 2.0),
            timeout: Duration::from_secs(env_or("BENCH_RUNNER_TIMEOUT_SECS", 900)),
        },
        accept_encoding: env_or("BENCH_ACCEPT_ENCODING", String::new()),
    };
    // Absolute: the processes run in folders of their own.
    let settings = Settings {
        server: settings.server.canonicalize().unwrap_or_else(|_| {
            panic!(
                "{} is missing: build it with ./dev release (./dev bench does)",
                settings.server.display()
            )
        }),
        ..settings
    };
    let databases = env_or("BENCH_DATABASES", "sqlite,postgres".to_string());
    println!(
        "# Avatar Studio bench\n\nserver {}; `wrk` {} connections, {} s per route; {} cores; {}",
        settings.server.display(),
        settings.connections,
        settings.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        machine()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut runs = Vec::new();
    for backend in databases.split(',').map(str::trim) {
        let backend = match backend {
            "sqlite" => "sqlite",
            "postgres" => "postgres",
            other => panic!("BENCH_DATABASES: unknown database {other}"),
        };
        let run = rt.block_on(bench(&settings, backend));
        print_run(&run, &settings);
        runs.push(run);
    }
    print_summary(&runs, &settings);
    print_wasm_floor();
}

/// Memory and CPU model of this machine, for the record.
fn machine() -> String {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    let mem_kib: u64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    format!("{cpu}, {:.0} GiB", mem_kib as f64 / (1 << 20) as f64)
}
