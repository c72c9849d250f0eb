//! The transport: one pooled HTTPS client, the A2E envelope, errors and careful retries.

use super::error::A2eError;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct A2eConfig {
    pub base_url: String,
    pub api_key: String,
    pub timeout: Duration,
    pub max_retries: u32,
}

#[derive(Clone)]
pub struct A2eClient {
    http: reqwest::Client,
    base_url: Arc<str>,
    api_key: Arc<str>,
    max_retries: u32,
}

// The key must never reach a log line.
impl fmt::Debug for A2eClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2eClient")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// Whether a call may be sent again after a lost answer (timeout, dropped connection, 5xx other
/// than 503): only when repeating it cannot start (and charge for) a second piece of work.
/// Errors that certainly started nothing (refused connection, 503, 429) are retried either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, polls, removals: every transient error is retried.
    Safe,
    /// Paid starts: retried only when A2E certainly did not process the call.
    Once,
}

impl Repeat {
    fn retries(self, err: &A2eError) -> bool {
        match self {
            Self::Safe => err.is_transient(),
            Self::Once => err.not_started(),
        }
    }
}

const BACKOFF_BASE_MS: u64 = 300;
const BACKOFF_CAP_MS: u64 = 8_000;
const RETRY_AFTER_CAP: Duration = Duration::from_secs(30);

impl A2eClient {
    pub fn new(config: A2eConfig) -> Result<Self, A2eError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("avatar-studio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| A2eError::Unavailable {
                detail: e.to_string(),
            })?;
        Ok(Self {
            http,
            base_url: config.base_url.trim_end_matches('/').into(),
            api_key: config.api_key.into(),
            max_retries: config.max_retries,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Calls `path` (after `/api/v1/`) and reads the envelope's `data` as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
        repeat: Repeat,
    ) -> Result<T, A2eError> {
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| A2eError::BadInput {
                message: e.to_string(),
            })?;
        let mut attempt = 0;
        loop {
            let started = std::time::Instant::now();
            let result = self.send_once(method.clone(), path, body.as_ref()).await;
            let error = result.as_ref().err().map(A2eError::code);
            crate::telemetry::a2e_call(method.as_str(), path, started.elapsed(), error);
            let retry = match &result {
                Err(A2eError::RateLimited { retry_after }) => Some(
                    retry_after
                        .unwrap_or_else(|| backoff(attempt))
                        .min(RETRY_AFTER_CAP),
                ),
                Err(err) if repeat.retries(err) => Some(backoff(attempt)),
                _ => None,
            };
            match retry {
                Some(wait) if attempt < self.max_retries => {
                    tracing::debug!(path, attempt, ?wait, "retrying A2E call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return result.and_then(|data| decode(data, path)),
            }
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, A2eError> {
        let url = format!("{}/api/v1/{}", self.base_url, path);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(&*self.api_key)
            .header("x-lang", "en-US");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(transport_error)?;
        read_envelope(status, &text, retry_after)
    }
}

/// A failure below HTTP. Only a failed connect (refused, DNS, connect timeout) or a request
/// that could not even be built is certainly unsent; anything later (a timeout while waiting,
/// a connection reset or dropped before the whole answer arrived) may have taken effect.
fn transport_error(err: reqwest::Error) -> A2eError {
    if err.is_connect() || err.is_builder() {
        let detail = if err.is_timeout() {
            "connect timed out"
        } else {
            "could not connect"
        };
        return A2eError::Unavailable {
            detail: detail.into(),
        };
    }
    let detail = if err.is_timeout() {
        "timed out waiting for the answer"
    } else {
        "the connection was lost before the answer arrived"
    };
    A2eError::OutcomeUnknown {
        detail: detail.into(),
    }
}

fn backoff(attempt: u32) -> Duration {
    let ceiling = (BACKOFF_BASE_MS << attempt.min(10)).min(BACKOFF_CAP_MS);
    Duration::from_millis(ceiling / 2 + rand::thread_rng().gen_range(0..=ceiling / 2))
}

/// Checks the HTTP status and the `{code, msg|message, data}` envelope; returns `data`.
pub fn read_envelope(
    status: StatusCode,
    text: &str,
    retry_after: Option<Duration>,
) -> Result<Value, A2eError> {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("msg").or_else(|| v.get("message")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let code = parsed
        .as_ref()
        .and_then(|v| v.get("code"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(A2eError::RateLimited { retry_after });
    }
    if !status.is_success() {
        return Err(A2eError::from_answer(status.as_u16(), code, message));
    }
    let Some(envelope) = parsed else {
        return Err(A2eError::Malformed {
            detail: "the answer is not JSON".into(),
        });
    };
    if code != 0 {
        return Err(A2eError::from_answer(400, code, message));
    }
    Ok(envelope.get("data").cloned().unwrap_or(Value::Null))
}

fn decode<T: DeserializeOwned>(data: Value, path: &str) -> Result<T, A2eError> {
    serde_json::from_value(data).map_err(|e| A2eError::Malformed {
        detail: format!("{path}: {e}"),
    })
}
