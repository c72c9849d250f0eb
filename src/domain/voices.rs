//! The voices spoken text can be read in: A2E's list, kept for a while because it rarely
//! changes and every lipsync form and request needs it.

use super::error::DomainError;
use super::studio::Studio;
use crate::models::Voice;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long A2E's list is reused before it is asked again.
pub const KEEP: Duration = Duration::from_secs(600);

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

    /// The last list kept, however old.
    fn last(&self) -> Option<Arc<Vec<Voice>>> {
        Some(self.0.lock().ok()?.as_ref()?.1.clone())
    }

    fn keep(&self, voices: Vec<Voice>) -> Arc<Vec<Voice>> {
        let voices = Arc::new(voices);
        if let Ok(mut kept) = self.0.lock() {
            *kept = Some((Instant::now(), voices.clone()));
        }
        voices
    }
}

/// A2E's voices; the last list kept when A2E cannot be asked (an error when none is).
pub async fn list(studio: &Studio) -> Result<Arc<Vec<Voice>>, DomainError> {
    if let Some(voices) = studio.voices.fresh() {
        return Ok(voices);
    }
    match studio.a2e.voices().await {
        Ok(voices) => Ok(studio.voices.keep(voices)),
        Err(err) => studio.voices.last().ok_or(DomainError::A2e(err)),
    }
}

/// A2E's first voice, the default.
pub async fn first(studio: &Studio) -> Result<String, DomainError> {
    list(studio)
        .await?
        .first()
        .map(|v| v.id.clone())
        .ok_or_else(|| {
            DomainError::invalid("no_voices", "A2E lists no voices to speak the text in.")
        })
}

/// The voice to speak in: the one asked for, which must be in A2E's list, else its first.
/// While A2E cannot be asked (and no list is kept), work waits for it like any other: an asked
/// voice is taken as it is (A2E refuses a wrong one later, and the work is refunded) and the
/// default is chosen when the speech is made (`None`).
pub async fn choose(
    studio: &Studio,
    requested: Option<&str>,
) -> Result<Option<String>, DomainError> {
    let requested = requested.map(str::trim).filter(|v| !v.is_empty());
    let voices = match list(studio).await {
        Ok(voices) => voices,
        Err(DomainError::A2e(err)) if err.is_transient() => {
            return super::presets::check_voice(requested.map(String::from));
        }
        Err(err) => return Err(err),
    };
    match requested {
        Some(id) if voices.iter().any(|v| v.id == id) => Ok(Some(id.to_string())),
        Some(id) => Err(DomainError::invalid(
            "unknown_voice",
            format!("There is no voice \"{id}\": pick one of GET /api/a2e/voices."),
        )),
        None => first(studio).await.map(Some),
    }
}
