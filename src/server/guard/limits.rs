//! Rate limits (GCRA, `governor`): log-in and sign-up per client address and per email, paid
//! requests and avatar-status polls per user. Each allows a burst of its per-minute figure, then
//! that many a minute; 0 turns it off. Counts live in this instance's memory.

use super::refuse;
use crate::config::Config;
use crate::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Weak;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Log-in bodies are a few dozen bytes; anything far larger is not a log-in.
const LOGIN_BODY_LIMIT: usize = 64 << 10;

/// One keyed limit; `None` when turned off.
pub struct Limit {
    per_minute: u32,
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl Limit {
    pub fn per_minute(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        Self {
            per_minute,
            limiter,
        }
    }

    /// `Err(seconds to wait)` when `key` is over its limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    pub fn refusal(&self, what: &str) -> AppError {
        AppError::new(
            429,
            "rate_limited",
            format!(
                "Too many {what}: at most {} a minute. Please wait a moment and try again.",
                self.per_minute
            ),
        )
    }

    fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

pub struct Limits {
    pub login_ip: Limit,
    pub login_email: Limit,
    pub paid: Limit,
    pub poll: Limit,
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        Self {
            login_ip: Limit::per_minute(config.login_rate_per_min),
            login_email: Limit::per_minute(config.login_rate_per_min),
            paid: Limit::per_minute(config.paid_rate_per_min),
            poll: Limit::per_minute(config.poll_rate_per_min),
        }
    }

    /// Counts a log-in or sign-up attempt against its address, then against its email.
    pub async fn login(&self, ip: Option<IpAddr>, req: Request, next: Next) -> Response {
        let path = req.uri().path().to_string();
        let refusal = || self.login_ip.refusal("log-in attempts");
        let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
        if let Err(wait) = self.login_ip.check(&ip) {
            return refuse(&path, refusal(), Some(wait));
        }
        if self.login_email.limiter.is_none() {
            return next.run(req).await;
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, LOGIN_BODY_LIMIT).await else {
            let err = AppError::new(413, "body_too_large", "The request body is too large.");
            return refuse(&path, err, None);
        };
        if let Some(email) = email_of(&bytes) {
            if let Err(wait) = self.login_email.check(&email) {
                return refuse(&path, refusal(), Some(wait));
            }
        }
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    }
}

/// The email of a log-in body: JSON (the API) or a URL-encoded form (server functions).
fn email_of(body: &[u8]) -> Option<String> {
    let email = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => json.get("email")?.as_str()?.to_string(),
        Err(_) => url::form_urlencoded::parse(body)
            .find(|(name, _)| name == "email")?
            .1
            .into_owned(),
    };
    Some(email.trim().to_lowercase())
}

/// Forgets buckets that are full again, once a minute, so memory stays bounded.
pub fn spawn_cleanup(limits: Weak<Limits>, shutdown: CancellationToken) {
    crate::shutdown::every(Duration::from_secs(60), shutdown, move || {
        let limits = limits.upgrade();
        async move {
            let Some(limits) = limits else {
                return false;
            };
            for limit in [
                &limits.login_ip,
                &limits.login_email,
                &limits.paid,
                &limits.poll,
            ] {
                limit.forget_idle();
            }
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_allows_its_burst_then_says_how_long_to_wait() {
        let limit = Limit::per_minute(3);
        for _ in 0..3 {
            assert!(limit.check("a").is_ok());
        }
        let wait = limit.check("a").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limit.check("b").is_ok(), "keys are independent");
        let off = Limit::per_minute(0);
        assert!((0..1000).all(|_| off.check("a").is_ok()));
    }

    #[test]
    fn emails_are_read_from_json_and_forms() {
        assert_eq!(
            email_of(br#"{"email":" Ana@X.io ","password":"p"}"#).as_deref(),
            Some("ana@x.io")
        );
        assert_eq!(
            email_of(b"email=ana%40x.io&password=p").as_deref(),
            Some("ana@x.io")
        );
        assert_eq!(email_of(b"password=p"), None);
    }
}
