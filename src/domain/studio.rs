//! Everything the studio's rules work with, bundled once at start-up.

use crate::a2e::A2eClient;
use crate::jobs::Runner;
use crate::live::{EventHub, LiveEvent};
use crate::store::media::MediaStore;
use crate::store::Db;
use std::sync::Arc;

/// The studio's services, shared: a clone (made for every request's server functions and
/// every job) is one reference count, not a copy of each service's handles.
pub type Studio = Arc<Services>;

pub struct Services {
    pub db: Db,
    pub a2e: A2eClient,
    pub media: MediaStore,
    pub events: EventHub,
    pub jobs: Runner,
    /// Downloads of A2E results (trusted: A2E's own answers).
    pub http: reqwest::Client,
    /// The gate for URLs users give (fetched or handed to A2E).
    pub outbound: crate::outbound::Outbound,
    pub clock: Clock,
    pub prices: crate::models::Prices,
    /// How long a start that certainly did not reach A2E keeps being retried (ms).
    pub retry_deadline_ms: i64,
    /// Every job ends by this age (ms).
    pub job_deadline_ms: i64,
    /// What each user may keep in the media store, in bytes (0: no limit).
    pub user_storage_bytes: u64,
    /// A2E's text-to-speech voices, kept for a while.
    pub voices: super::voices::VoiceCache,
}

/// How time at A2E relates to ours: 1 for the real service, the speed-up for the simulator.
/// Estimates shown to users and the polling rhythm scale with it.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub speedup: f64,
    /// How often running work at A2E is looked at, in real milliseconds.
    pub poll_ms: i64,
}

impl Clock {
    pub fn new(speedup: f64, base_poll_ms: i64) -> Self {
        let speedup = if speedup.is_finite() && speedup >= 1.0 {
            speedup
        } else {
            1.0
        };
        let poll_ms = ((base_poll_ms as f64 / speedup) as i64).max(100);
        Self { speedup, poll_ms }
    }

    /// A duration at A2E (seconds) as it will pass here (milliseconds).
    pub fn local_ms(&self, a2e_seconds: i64) -> i64 {
        (a2e_seconds as f64 * 1000.0 / self.speedup) as i64
    }
}

impl Services {
    pub fn announce_character(&self, character: &crate::models::Character) {
        let data = serde_json::to_value(character).unwrap_or_default();
        self.publish(&character.user_id, "character", &character.id, data);
    }

    pub fn publish(&self, user_id: &str, kind: &'static str, id: &str, data: serde_json::Value) {
        self.events.publish(
            user_id,
            LiveEvent {
                kind,
                id: id.to_string(),
                data,
            },
        );
    }
}
