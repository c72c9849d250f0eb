//! The voices spoken text can be read in: A2E's list, kept for a while because it rarely
//! changes and every lipsync form and request needs it.

use super::error::DomainError;
use super::studio::Studio;
use crate::models::Voice;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long A2E's list is reused before it is asked again.
const KEEP: Duration = Duration::from_secs(600);

/// The list and when it was asked for.
type Kept = Option<(Instant, Arc<Vec<Voice>>)>;

#[derive(Clone, Default)]
pub struct VoiceCache(Arc<Mutex<Kept>>);

impl VoiceCache {
    fn fresh(&self) -> Option<Arc<Vec<Voice>>> {
        let kept = self.0.lock().ok()?;
        let (at, voices) = kept.as_ref()?;
        (at.elapsed() < KEEP).then(|| voices.clone())
    }

    fn keep(&self, voices: Vec<Voice>) -> Arc<Vec<Voice>> {
        let voices = Arc::new(voices);
        if let Ok(mut kept) = self.0.lock() {
            *kept = Some((Instant::now(), voices.clone()));
        }
        voices
    }
}

/// A2E's voices (an error when A2E cannot be asked and none are kept).
pub async fn list(studio: &Studio) -> Result<Arc<Vec<Voice>>, DomainError> {
    if let Some(voices) = studio.voices.fresh() {
        return Ok(voices);
    }
    let voices = studio.a2e.voices().await?;
    Ok(studio.voices.keep(voices))
}

/// The voice to speak in: the one asked for, which must be in A2E's list, else its first.
pub async fn choose(studio: &Studio, requested: Option<&str>) -> Result<String, DomainError> {
    let voices = list(studio).await?;
    match requested.map(str::trim).filter(|v| !v.is_empty()) {
        Some(id) if voices.iter().any(|v| v.id == id) => Ok(id.to_string()),
        Some(id) => Err(DomainError::invalid(
            "unknown_voice",
            format!("There is no voice \"{id}\": pick one of GET /api/a2e/voices."),
        )),
        None => voices.first().map(|v| v.id.clone()).ok_or_else(|| {
            DomainError::invalid("no_voices", "A2E lists no voices to speak the text in.")
        }),
    }
}
