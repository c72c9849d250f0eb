//! The simulator's memory: tasks per API key on a clock that can run fast, faults to inject,
//! and a log of the calls received.

use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text2Image,
    Avatar,
    NanoBanana,
    Motion,
    Image2Video,
    TalkingPhoto,
    Lipsync,
}

impl Kind {
    /// Typical A2E duration in seconds (avatars draw theirs from a range).
    fn duration_s(self, video_training: bool) -> f64 {
        let mut rng = rand::thread_rng();
        match self {
            Self::Text2Image => 10.0,
            Self::Avatar if video_training => rng.gen_range(300.0..600.0),
            Self::Avatar => rng.gen_range(120.0..300.0),
            Self::NanoBanana => 20.0,
            Self::Motion | Self::Image2Video => 60.0,
            Self::TalkingPhoto | Self::Lipsync => 45.0,
        }
    }

    pub fn media_path(self) -> &'static str {
        match self {
            Self::Text2Image => "t2i",
            Self::Avatar => "avatar",
            Self::NanoBanana => "scene",
            Self::Motion => "motion",
            Self::Image2Video => "i2v",
            Self::TalkingPhoto => "talking",
            Self::Lipsync => "lipsync",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    /// Order of creation in this simulator: lists show the newest first.
    pub seq: u64,
    pub kind: Kind,
    /// `name` of the start call (lipsync: its `title`).
    pub name: String,
    /// What the result looks like: the figure(s) and the scene.
    pub figure_seeds: Vec<u64>,
    pub scene_seed: u64,
    pub started: Instant,
    pub duration_s: f64,
    pub fail_message: Option<String>,
    pub coins: f64,
    pub created_at: String,
    /// Training was continued: the avatar shows `processing` until its new end.
    pub continued: bool,
}

#[derive(Default)]
pub struct Account {
    pub coins: f64,
    pub tasks: HashMap<String, Task>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct Faults {
    #[serde(default)]
    pub rate: f64,
    #[serde(default)]
    pub kinds: Vec<String>,
    /// How long a `slow` call waits before it takes effect (default 3000 ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// How a `lost_response` loses its answer: `dropped_connection` or `gateway_timeout`
    /// (default: either, at random).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavour: Option<String>,
    /// Faults strike only calls whose path ends with this (e.g. `userVideoTwin/batchDetail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<String>,
}

impl Faults {
    pub fn delay(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.delay_ms.unwrap_or(3_000))
    }
}

pub struct Sim {
    pub speedup: f64,
    pub public_base_url: String,
    pub accounts: Mutex<HashMap<String, Account>>,
    pub faults: Mutex<Faults>,
    pub fail_next_training: Mutex<Option<String>>,
    pub requests: Mutex<Vec<Value>>,
    /// Calls counted without a cap (the log above keeps only the latest): per call with its
    /// task id replaced by `{id}`, and per task id. Read by `./dev bench` to count A2E calls
    /// per training.
    pub calls: Mutex<CallCounts>,
    pub media_cache: Mutex<HashMap<String, bytes::Bytes>>,
    /// The only API key accepted, when set.
    pub only_key: Option<String>,
    next_seq: AtomicU64,
}

pub const STARTING_COINS: f64 = 10_000.0;
const REQUEST_LOG_CAP: usize = 2_000;
/// Tasks kept per API key.
const TASKS_PER_KEY: usize = 20_000;

impl Sim {
    pub fn new(speedup: f64, public_base_url: String) -> Self {
        Self {
            speedup: if speedup.is_finite() && speedup > 0.0 {
                speedup
            } else {
                1.0
            },
            public_base_url: public_base_url.trim_end_matches('/').to_string(),
            accounts: Mutex::default(),
            faults: Mutex::default(),
            fail_next_training: Mutex::default(),
            requests: Mutex::default(),
            calls: Mutex::default(),
            media_cache: Mutex::default(),
            only_key: None,
            next_seq: AtomicU64::new(0),
        }
    }

    pub fn log_request(&self, entry: Value) {
        let mut log = self.requests.lock().unwrap();
        if log.len() >= REQUEST_LOG_CAP {
            log.remove(0);
        }
        log.push(entry);
    }

    /// Counts one `/api/v1` call (`path` without its query).
    pub fn count_call(&self, method: &str, path: &str) {
        let mut calls = self.calls.lock().unwrap();
        let (route, id) = match path.rsplit_once('/') {
            Some((route, last)) if is_object_id(last) => (format!("{route}/{{id}}"), Some(last)),
            _ => (path.to_string(), None),
        };
        *calls
            .by_route
            .entry(format!("{method} {route}"))
            .or_default() += 1;
        if let Some(id) = id {
            *calls.by_task.entry(id.to_string()).or_default() += 1;
        }
    }

    /// Counts a call naming this task in its body (a batch), as its own status call would be.
    pub fn count_named(&self, id: &str) {
        let mut calls = self.calls.lock().unwrap();
        *calls.by_task.entry(id.to_string()).or_default() += 1;
    }

    /// Picks the fault to inject into this call, if any, with the settings it needs.
    pub fn draw_fault(&self, path: &str) -> Option<(String, Faults)> {
        let faults = self.faults.lock().unwrap();
        if faults.rate <= 0.0
            || faults.kinds.is_empty()
            || faults
                .only
                .as_ref()
                .is_some_and(|end| !path.ends_with(end.as_str()))
            || !rand::thread_rng().gen_bool(faults.rate.min(1.0))
        {
            return None;
        }
        let i = rand::thread_rng().gen_range(0..faults.kinds.len());
        Some((faults.kinds[i].clone(), faults.clone()))
    }

    /// A2E seconds since the task started.
    pub fn elapsed_s(&self, task: &Task) -> f64 {
        task.started.elapsed().as_secs_f64() * self.speedup
    }

    /// Registers a new task for `key`, charging `coins`; `Err` when the balance is short.
    pub fn start(
        &self,
        key: &str,
        kind: Kind,
        input: Value,
        figure_seeds: Vec<u64>,
        scene_seed: u64,
        coins: f64,
    ) -> Result<Task, ()> {
        let video = input.get("video_url").is_some_and(|v| v.is_string()) && kind == Kind::Avatar;
        let name_field = if kind == Kind::Lipsync {
            "title"
        } else {
            "name"
        };
        let name = input
            .get(name_field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let fail_message = if kind == Kind::Avatar {
            self.fail_next_training.lock().unwrap().take()
        } else {
            None
        };
        let task = Task {
            id: new_object_id(),
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            kind,
            name,
            figure_seeds,
            scene_seed,
            started: Instant::now(),
            duration_s: kind.duration_s(video),
            fail_message,
            coins,
            created_at: now_iso(),
            continued: false,
        };
        let mut accounts = self.accounts.lock().unwrap();
        let account = accounts.entry(key.to_string()).or_insert_with(|| Account {
            coins: STARTING_COINS,
            ..Default::default()
        });
        if account.coins < coins {
            return Err(());
        }
        account.coins -= coins;
        // Bounded: an account keeps its newest tasks (a real one lists far fewer at a time).
        if account.tasks.len() >= TASKS_PER_KEY {
            let oldest = account
                .tasks
                .values()
                .min_by_key(|t| t.started)
                .map(|t| t.id.clone());
            if let Some(oldest) = oldest {
                account.tasks.remove(&oldest);
            }
        }
        account.tasks.insert(task.id.clone(), task.clone());
        Ok(task)
    }

    pub fn find(&self, key: &str, id: &str, kind: Kind) -> Option<Task> {
        let accounts = self.accounts.lock().unwrap();
        accounts
            .get(key)?
            .tasks
            .get(id)
            .filter(|t| t.kind == kind)
            .cloned()
    }

    /// The account's tasks of one kind, newest first.
    pub fn tasks_of(&self, key: &str, kind: Kind) -> Vec<Task> {
        let accounts = self.accounts.lock().unwrap();
        let mut tasks: Vec<Task> = accounts
            .get(key)
            .map(|a| {
                a.tasks
                    .values()
                    .filter(|t| t.kind == kind)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.seq));
        tasks
    }

    pub fn update(&self, key: &str, id: &str, change: impl FnOnce(&mut Task)) -> Option<Task> {
        let mut accounts = self.accounts.lock().unwrap();
        let task = accounts.get_mut(key)?.tasks.get_mut(id)?;
        change(task);
        Some(task.clone())
    }

    pub fn remove(&self, key: &str, id: &str) -> bool {
        let mut accounts = self.accounts.lock().unwrap();
        accounts
            .get_mut(key)
            .is_some_and(|a| a.tasks.remove(id).is_some())
    }

    pub fn balance(&self, key: &str) -> f64 {
        let mut accounts = self.accounts.lock().unwrap();
        accounts
            .entry(key.to_string())
            .or_insert_with(|| Account {
                coins: STARTING_COINS,
                ..Default::default()
            })
            .coins
    }

    /// Status word for a task now, on the simulated clock.
    pub fn status(&self, task: &Task) -> &'static str {
        let share = self.elapsed_s(task) / task.duration_s;
        match share {
            s if s >= 1.0 && task.fail_message.is_some() => "failed",
            s if s >= 1.0 => "completed",
            _ if task.continued => "processing",
            s if s < 0.03 => "initialized",
            s if s < 0.08 => "sent",
            s if s < 0.15 => "pending",
            _ => "processing",
        }
    }

    pub fn media_url(&self, task: &Task, ext: &str) -> String {
        format!(
            "{}/files/{}/{}.{ext}",
            self.public_base_url,
            task.kind.media_path(),
            task.id
        )
    }

    /// The record as the task's status route shows it (lipsync: `video/awsResult`).
    pub fn status_record(&self, task: &Task) -> Value {
        match task.kind {
            Kind::Lipsync => self.lipsync_record(task),
            _ => self.record(task),
        }
    }

    /// A lipsync video as `video/awsResult` shows it: its own status words, `process` in
    /// percent, `result`, and the `title` it was started with.
    pub fn lipsync_record(&self, task: &Task) -> Value {
        let share = (self.elapsed_s(task) / task.duration_s).min(1.0);
        let status = match self.status(task) {
            "completed" => "success",
            "failed" => "fail",
            "initialized" => "init",
            "sent" => "start",
            "pending" => "pending",
            _ => "process",
        };
        let done = status == "success";
        json!({
            "_id": task.id,
            "title": task.name,
            "status": status,
            "process": (share * 100.0).round(),
            "result": if done { json!(self.media_url(task, "webm")) } else { Value::Null },
            "failed_message": if status == "fail" { json!(task.fail_message) } else { json!("") },
            "createdAt": task.created_at,
        })
    }

    /// The record as A2E shows it.
    pub fn record(&self, task: &Task) -> Value {
        let status = self.status(task);
        let done = status == "completed";
        let mut record = json!({
            "_id": task.id,
            "name": task.name,
            "current_status": status,
            "failed_code": if status == "failed" { json!(1001) } else { Value::Null },
            "failed_message": if status == "failed" { json!(task.fail_message) } else { json!("") },
            "coins": task.coins,
            "createdAt": task.created_at,
        });
        let extra = match task.kind {
            Kind::Text2Image | Kind::NanoBanana => {
                json!({ "image_urls": if done { json!([self.media_url(task, "png")]) } else { json!([]) } })
            }
            Kind::Avatar => json!({
                "preview_result_url": if done { json!(self.media_url(task, "png")) } else { Value::Null },
                "cover_url": if done { json!(self.media_url(task, "png")) } else { Value::Null },
                "user_video_twin_id": task.id,
            }),
            _ => {
                json!({ "result_url": if done { json!(self.media_url(task, "webm")) } else { Value::Null } })
            }
        };
        if let (Value::Object(r), Value::Object(e)) = (&mut record, extra) {
            r.extend(e);
        }
        record
    }
}

/// Calls received since the start (or the last reset).
#[derive(Default)]
pub struct CallCounts {
    pub by_route: HashMap<String, u64>,
    pub by_task: HashMap<String, u64>,
}

fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A 24-hex id like MongoDB's ObjectId, as A2E uses.
pub fn new_object_id() -> String {
    let mut rng = rand::thread_rng();
    (0..24)
        .map(|_| std::char::from_digit(rng.gen_range(0..16), 16).unwrap())
        .collect()
}

fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
