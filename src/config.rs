//! Settings from the command line, the environment and an optional `.env` file.
//! `avatar-studio --help` lists each one with its environment variable and default.

use clap::{Args, Parser, Subcommand};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "avatar-studio",
    version,
    about = "Avatar Studio: consistent AI characters with trained A2E avatars"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the studio (the default).
    Serve,
    /// Run only the A2E simulator, as a standalone server.
    SimulateA2e {
        /// Address to listen on.
        #[arg(long, env = "A2E_SIMULATOR_ADDR", default_value = "127.0.0.1:3900")]
        addr: SocketAddr,
    },
    /// Manage accounts on this database (operator tool).
    #[command(subcommand)]
    User(UserCommand),
    /// Grant credits (operator tool).
    #[command(subcommand)]
    Credits(CreditsCommand),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account (works with SIGNUP=closed).
    Create {
        /// The account's email address.
        email: String,
        /// Its password (at least 8 characters, not a common one).
        #[arg(long)]
        password: String,
        /// Starting credits.
        #[arg(long, default_value_t = 0)]
        credits: i64,
    },
    /// List accounts: email, credits, created.
    List,
}

#[derive(Subcommand, Debug)]
pub enum CreditsCommand {
    /// Add credits to an account (a ledger grant noted as granted by the operator).
    Grant {
        /// The account's email address.
        email: String,
        /// How many credits (a positive whole number).
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
}

#[derive(Args, Clone)]
pub struct Config {
    /// Database: `sqlite://FILE` (created when missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/avatar-studio.db"
    )]
    pub database_url: String,

    /// Address the web server listens on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,

    /// Folder with the built front end (pkg/ with the WASM bundle and CSS, plus public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    /// Folder of the local media store.
    #[arg(long, env = "MEDIA_DIR", default_value = "data/media")]
    pub media_dir: PathBuf,

    /// Where media is kept: `local` (MEDIA_DIR) or `s3` (an S3-compatible bucket, for several instances).
    #[arg(long, env = "MEDIA_BACKEND", default_value = "local", value_parser = ["local", "s3"])]
    pub media_backend: String,

    /// S3 bucket (with MEDIA_BACKEND=s3).
    #[arg(long, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// S3 region.
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// S3 endpoint, for S3-compatible services (MinIO, R2, …).
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 access key id (else the usual AWS environment and instance credentials).
    #[arg(long, env = "S3_ACCESS_KEY_ID", hide_env_values = true)]
    pub s3_access_key_id: Option<String>,

    /// S3 secret access key.
    #[arg(long, env = "S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,

    /// Largest image upload, in MB.
    #[arg(long, env = "MEDIA_MAX_IMAGE_MB", default_value_t = 20)]
    pub media_max_image_mb: u64,

    /// Largest video upload, in MB.
    #[arg(long, env = "MEDIA_MAX_VIDEO_MB", default_value_t = 200)]
    pub media_max_video_mb: u64,

    /// Largest audio upload, in MB.
    #[arg(long, env = "MEDIA_MAX_AUDIO_MB", default_value_t = 50)]
    pub media_max_audio_mb: u64,

    /// What each user may keep in the media store (uploads and results), in MB; 0: no limit.
    /// Past it, uploads and new work are refused (507) until something is deleted.
    #[arg(long, env = "USER_STORAGE_MB", default_value_t = 2048)]
    pub user_storage_mb: u64,

    /// An uploaded file no character or generation uses is removed after this many seconds,
    /// and so is a file no user keeps any more.
    #[arg(long, env = "UNUSED_MEDIA_SECS", default_value_t = 86_400)]
    pub unused_media_secs: u64,

    /// How often unused media is looked for, in seconds.
    #[arg(long, env = "MEDIA_SWEEP_SECS", default_value_t = 3_600)]
    pub media_sweep_secs: u64,

    /// Public URL of this server, used for links A2E must fetch [default: http://LEPTOS_SITE_ADDR].
    #[arg(long, env = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// A2E API key. Without one the studio runs against its built-in simulator (demo mode).
    #[arg(long, env = "A2E_API_KEY", hide_env_values = true)]
    pub a2e_api_key: Option<String>,

    /// Older name for the A2E API key; A2E_API_KEY wins when both are set.
    #[arg(long, env = "A2E_API_TOKEN", hide_env_values = true)]
    pub a2e_api_token: Option<String>,

    /// A2E base URL (ignored in demo mode, where the built-in simulator is used).
    #[arg(long, env = "A2E_BASE_URL", default_value = "https://video.a2e.ai")]
    pub a2e_base_url: String,

    /// How much faster than real time the simulator's clock runs.
    #[arg(long, env = "A2E_SIMULATOR_SPEEDUP", default_value_t = 1.0)]
    pub a2e_simulator_speedup: f64,

    /// Credits granted to every new account.
    #[arg(long, env = "SIGNUP_CREDITS", default_value_t = 100)]
    pub signup_credits: i64,

    /// Credits for a scene (NanoBanana image).
    #[arg(long, env = "PRICE_SCENE", default_value_t = 4)]
    pub price_scene: i64,

    /// Credits for a motion transfer.
    #[arg(long, env = "PRICE_MOTION_TRANSFER", default_value_t = 10)]
    pub price_motion_transfer: i64,

    /// Credits for an image-to-video clip.
    #[arg(long, env = "PRICE_IMAGE_TO_VIDEO", default_value_t = 8)]
    pub price_image_to_video: i64,

    /// Credits for a lipsync video.
    #[arg(long, env = "PRICE_LIPSYNC", default_value_t = 6)]
    pub price_lipsync: i64,

    /// Credits per move of a fight sequence (a scene and a clip each).
    #[arg(long, env = "PRICE_FIGHT_MOVE", default_value_t = 12)]
    pub price_fight_move: i64,

    /// How often running A2E work is polled, in milliseconds (divided by the simulator's speed-up).
    #[arg(long, env = "A2E_POLL_MS", default_value_t = 10_000)]
    pub a2e_poll_ms: u64,

    /// Timeout of one A2E request, in seconds.
    #[arg(long, env = "A2E_TIMEOUT_SECS", default_value_t = 30)]
    pub a2e_timeout_secs: u64,

    /// How often the job runner looks for due work when idle, in milliseconds.
    #[arg(long, env = "JOB_TICK_MS", default_value_t = 1000)]
    pub job_tick_ms: u64,

    /// Work background jobs on this instance (`false`: serve pages and the API only, and leave
    /// trainings and generations to other instances sharing the PostgreSQL database).
    #[arg(long, env = "RUN_JOBS", default_value_t = true, action = clap::ArgAction::Set)]
    pub run_jobs: bool,

    /// How long a worker holds a job while working one step, in milliseconds. It is renewed
    /// while the step runs; a worker that dies lets it lapse and another worker takes the job.
    #[arg(long, env = "JOB_LEASE_MS", default_value_t = 60_000)]
    pub job_lease_ms: u64,

    /// How long a start that certainly did not reach A2E (A2E down, busy, refusing connections)
    /// keeps being retried before the work ends failed and is refunded, in seconds.
    #[arg(long, env = "A2E_RETRY_DEADLINE_SECS", default_value_t = 1800)]
    pub a2e_retry_deadline_secs: u64,

    /// Every job ends by this age at the latest (failed and refunded if unfinished), in seconds.
    #[arg(long, env = "JOB_DEADLINE_SECS", default_value_t = 86_400)]
    pub job_deadline_secs: u64,

    /// How often open credit reservations are checked for a live job, in seconds.
    #[arg(long, env = "RECONCILE_SECS", default_value_t = 60)]
    pub reconcile_secs: u64,

    /// Host names (or `host:port`) the studio may fetch from even when they resolve to a
    /// private address, comma-separated (e.g. an internal media server). Everything else a
    /// user gives must be a public address.
    #[arg(long, env = "FETCH_ALLOW_HOSTS", default_value = "")]
    pub fetch_allow_hosts: String,

    /// Serve the A2E simulator's test controls (`/_simulator/faults`, `/requests`, `/reset`,
    /// `/fail-next-training`). Off by default: they let anyone break or read the simulation.
    #[arg(long, env = "SIMULATOR_CONTROLS", default_value_t = false, action = clap::ArgAction::Set)]
    pub simulator_controls: bool,

    /// A log-in lasts at most this many days, however active (then log in again).
    #[arg(long, env = "SESSION_MAX_DAYS", default_value_t = 30)]
    pub session_max_days: u64,

    /// Mark the session cookie `Secure` (turn on behind HTTPS).
    #[arg(long, env = "SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Who may sign up: `open` (anyone) or `closed` (accounts are made by the operator with
    /// `avatar-studio user create`; recommended with a real A2E key).
    #[arg(long, env = "SIGNUP", default_value = "open", value_parser = ["open", "closed"])]
    pub signup: String,

    /// Log-in and sign-up attempts per minute, per client address and per email (0: no limit).
    #[arg(long, env = "LOGIN_RATE_PER_MIN", default_value_t = 10)]
    pub login_rate_per_min: u32,

    /// Paid requests (generations, characters, trainings) per minute and user (0: no limit).
    #[arg(long, env = "PAID_RATE_PER_MIN", default_value_t = 60)]
    pub paid_rate_per_min: u32,

    /// Avatar-status polls per minute and user (0: no limit).
    #[arg(long, env = "POLL_RATE_PER_MIN", default_value_t = 120)]
    pub poll_rate_per_min: u32,

    /// Reverse proxies (comma-separated IP addresses) whose `X-Forwarded-For` names the client;
    /// without it the client is the connecting address and `X-Forwarded-For` is ignored.
    #[arg(long, env = "TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,

    /// Bearer token that `GET /metrics` (Prometheus) requires; without one the metrics are open
    /// to anyone who can reach the server.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Log lines as `text` (for people) or `json` (one JSON object a line, for log collectors).
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

impl Config {
    pub fn prices(&self) -> crate::models::Prices {
        crate::models::Prices {
            scene: self.price_scene,
            motion_transfer: self.price_motion_transfer,
            image_to_video: self.price_image_to_video,
            lipsync: self.price_lipsync,
            fight_move: self.price_fight_move,
        }
    }

    /// The A2E key, preferring `A2E_API_KEY` over the older `A2E_API_TOKEN`.
    pub fn a2e_key(&self) -> Option<&str> {
        [&self.a2e_api_key, &self.a2e_api_token]
            .into_iter()
            .flatten()
            .map(|k| k.trim())
            .find(|k| !k.is_empty())
    }

    /// The token `/metrics` requires, if any.
    pub fn metrics_token(&self) -> Option<&str> {
        self.metrics_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// A secret variable that is set but empty is a mistake (a missing secret), not a wish for
    /// demo mode or open metrics: refuse to start rather than quietly go on without it.
    pub fn check_secrets(&self) -> Result<(), String> {
        let set_but_empty = [
            ("A2E_API_KEY", &self.a2e_api_key),
            ("A2E_API_TOKEN", &self.a2e_api_token),
            ("METRICS_TOKEN", &self.metrics_token),
        ]
        .into_iter()
        .find(|(name, v)| {
            // clap may read an empty variable as absent: ask the environment too.
            let empty_env = std::env::var(name).is_ok_and(|k| k.trim().is_empty());
            empty_env || v.as_deref().is_some_and(|k| k.trim().is_empty())
        });
        match set_but_empty {
            Some(("METRICS_TOKEN", _)) => Err(
                "METRICS_TOKEN is set but empty: set a token, or unset it for open metrics".into(),
            ),
            Some((name, _)) => Err(format!(
                "{name} is set but empty: set the A2E key, or unset {name} for demo mode"
            )),
            None => Ok(()),
        }
    }

    /// Demo mode: no A2E key, so the built-in simulator stands in for A2E.
    pub fn demo_mode(&self) -> bool {
        self.a2e_key().is_none()
    }

    /// The media store's backend, checked.
    pub fn media_backend(&self) -> Result<crate::store::media::Backend, String> {
        use crate::store::media::Backend;
        if self.media_backend != "s3" {
            return Ok(Backend::Local(self.media_dir.clone()));
        }
        let bucket = self
            .s3_bucket
            .clone()
            .filter(|b| !b.is_empty())
            .ok_or("MEDIA_BACKEND=s3 needs S3_BUCKET")?;
        Ok(Backend::S3 {
            bucket,
            region: self.s3_region.clone(),
            allow_http: self
                .s3_endpoint
                .as_deref()
                .is_some_and(|e| e.starts_with("http://")),
            endpoint: self.s3_endpoint.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
        })
    }

    pub fn media_limits(&self) -> crate::store::media::MediaLimits {
        crate::store::media::MediaLimits {
            image_bytes: self.media_max_image_mb << 20,
            video_bytes: self.media_max_video_mb << 20,
            audio_bytes: self.media_max_audio_mb << 20,
        }
    }

    pub fn public_base_url(&self) -> String {
        match &self.public_base_url {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_string(),
            _ => format!("http://{}", self.site_addr),
        }
    }

    pub fn signup_open(&self) -> bool {
        self.signup != "closed"
    }

    /// Settings as parsed from the environment alone, for tests and tools.
    pub fn from_env() -> Self {
        Cli::parse_from(["avatar-studio"]).config
    }
}

// Hand-written so that the A2E key can never reach a log line through `{:?}`.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &crate::store::db::redact_url(&self.database_url),
            )
            .field("site_addr", &self.site_addr)
            .field("site_root", &self.site_root)
            .field("media_dir", &self.media_dir)
            .field("media_backend", &self.media_backend)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("public_base_url", &self.public_base_url())
            .field("a2e_key", &self.a2e_key().map(|_| "<redacted>"))
            .field("a2e_base_url", &self.a2e_base_url)
            .field("a2e_simulator_speedup", &self.a2e_simulator_speedup)
            .field("signup_credits", &self.signup_credits)
            .field("job_tick_ms", &self.job_tick_ms)
            .field("run_jobs", &self.run_jobs)
            .field("job_lease_ms", &self.job_lease_ms)
            .field("a2e_retry_deadline_secs", &self.a2e_retry_deadline_secs)
            .field("job_deadline_secs", &self.job_deadline_secs)
            .field("reconcile_secs", &self.reconcile_secs)
            .field("user_storage_mb", &self.user_storage_mb)
            .field("unused_media_secs", &self.unused_media_secs)
            .field("media_sweep_secs", &self.media_sweep_secs)
            .field("a2e_poll_ms", &self.a2e_poll_ms)
            .field("secure_cookies", &self.secure_cookies)
            .field("signup", &self.signup)
            .field("login_rate_per_min", &self.login_rate_per_min)
            .field("paid_rate_per_min", &self.paid_rate_per_min)
            .field("poll_rate_per_min", &self.poll_rate_per_min)
            .field("trusted_proxy", &self.trusted_proxy)
            .field("metrics_token", &self.metrics_token().map(|_| "<redacted>"))
            .field("log_format", &self.log_format)
            .finish()
    }
}
