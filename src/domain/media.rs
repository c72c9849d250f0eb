//! Whose stored files are whose: each user's storage quota (`USER_STORAGE_MB`), and removing
//! files nothing uses any more. Files are content-addressed and may be shared by users; a file
//! goes once no user keeps it.
//!
//! A user keeps a file from the moment it is stored for them (an upload, a copy of a URL they
//! gave, a result A2E made for them) until none of their characters or generations mentions it:
//! deleting one releases its files at once, and a recurring sweep releases uploads never used.
//! Paid results are always kept, even past the quota; the quota refuses uploads and new work.

use super::error::DomainError;
use super::studio::Studio;
use crate::jobs::{queue, Job, JobHandler, NewJob, Outcome};
use crate::store::media::{MediaError, MediaKind, StoredMedia};
use crate::store::{ledger, media_usage, now_millis};
use bytes::Bytes;

pub const MEDIA_SWEEP_JOB: &str = "sweep_media";
/// Claims looked at per sweep, so one sweep stays short.
const SWEEP_BATCH: i64 = 500;

/// What a user keeps against their quota.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub used: u64,
    /// `None`: no quota.
    pub quota: Option<u64>,
}

impl Usage {
    /// Bytes the user may still add.
    pub fn room(&self) -> u64 {
        self.quota
            .map_or(u64::MAX, |quota| quota.saturating_sub(self.used))
    }

    fn full(&self) -> MediaError {
        MediaError::StorageFull {
            used_mb: self.used.div_ceil(1 << 20),
            quota_mb: self.quota.unwrap_or_default() >> 20,
        }
    }
}

pub async fn usage(studio: &Studio, user_id: &str) -> Result<Usage, DomainError> {
    let used = media_usage::usage(&studio.db.pool, user_id).await?;
    Ok(Usage {
        used: used.max(0) as u64,
        quota: (studio.user_storage_bytes > 0).then_some(studio.user_storage_bytes),
    })
}

/// The room left for an upload or new work: refused (507) once nothing is left.
pub async fn room(studio: &Studio, user_id: &str) -> Result<u64, DomainError> {
    let usage = usage(studio, user_id).await?;
    match usage.room() {
        0 => Err(usage.full().into()),
        room => Ok(room),
    }
}

/// Stores a user's upload (checked by content, of the `expected` kind) within their quota.
pub async fn keep_upload(
    studio: &Studio,
    user_id: &str,
    bytes: Bytes,
    expected: impl Into<Option<MediaKind>>,
) -> Result<StoredMedia, DomainError> {
    let media = studio.media.put_upload(bytes.clone(), expected).await?;
    claim(studio, user_id, &media, true).await?;
    studio.media.ensure_stored(&media.key, &bytes).await?;
    Ok(media)
}

/// Keeps, for the user, a file we already store (one of their own `/media/…` URLs).
pub async fn keep_own(
    studio: &Studio,
    user_id: &str,
    url: &str,
    kind: MediaKind,
) -> Option<Result<StoredMedia, DomainError>> {
    let found = studio.media.own(url, kind).await?;
    Some(match found {
        Ok(media) => claim(studio, user_id, &media, true).await.map(|()| media),
        Err(err) => Err(err.into()),
    })
}

/// Downloads what a user pointed at (a client the outbound gate checked), within their room.
pub async fn keep_user_url(
    studio: &Studio,
    user_id: &str,
    client: &reqwest::Client,
    url: &str,
    kind: MediaKind,
) -> Result<StoredMedia, DomainError> {
    let usage = usage(studio, user_id).await?;
    let room = usage.room();
    let media = match studio.media.copy_user_url(client, url, kind, room).await {
        Err(MediaError::TooLarge { .. }) if room < studio.media.limits().for_kind(kind) => {
            return Err(usage.full().into())
        }
        other => other?,
    };
    claim(studio, user_id, &media, true).await?;
    Ok(media)
}

/// Downloads and keeps a result A2E made for the user: paid for, so kept past the quota.
pub async fn keep_result(
    studio: &Studio,
    user_id: &str,
    url: &str,
) -> Result<StoredMedia, MediaError> {
    let media = studio.media.copy_from_url(&studio.http, url).await?;
    if let Err(err) = claim(studio, user_id, &media, false).await {
        return Err(MediaError::Io(format!("recording the result: {err}")));
    }
    Ok(media)
}

/// Records that the user keeps the file; with `enforce`, refuses a new file past the quota.
async fn claim(
    studio: &Studio,
    user_id: &str,
    media: &StoredMedia,
    enforce: bool,
) -> Result<(), DomainError> {
    let now = now_millis();
    let size = media.size as i64;
    let mut tx = studio.db.pool.begin().await?;
    // Serialises this user's claims, so two uploads at once cannot both slip under the quota.
    ledger::lock_user(&mut tx, user_id).await?;
    media_usage::note_object(&mut tx, &media.key, size, now).await?;
    if enforce && !media_usage::holds(&mut tx, user_id, &media.key).await? {
        let usage = Usage {
            used: media_usage::usage(&mut *tx, user_id).await?.max(0) as u64,
            quota: (studio.user_storage_bytes > 0).then_some(studio.user_storage_bytes),
        };
        if media.size > usage.room() {
            // The object row stays, so the sweep removes the unclaimed file later.
            tx.commit().await?;
            return Err(usage.full().into());
        }
    }
    media_usage::claim(&mut tx, user_id, &media.key, size, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The keys of our own media mentioned in a text (a URL, a JSON column).
pub fn keys_in(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = text
        .split("/media/")
        .skip(1)
        .filter_map(|rest| {
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '.')
                .unwrap_or(rest.len());
            let key = rest[..end].trim_end_matches('.');
            crate::store::media::is_key(key).then(|| key.to_string())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// After a row was deleted: releases the files it mentioned, in a task of its own (a client
/// hanging up must not stop it).
pub fn release_row(studio: &Studio, user_id: &str, row: &impl serde::Serialize) {
    let keys = keys_in(&serde_json::to_string(row).unwrap_or_default());
    let (studio, user_id) = (studio.clone(), user_id.to_string());
    tokio::spawn(async move { release(&studio, &user_id, &keys).await });
}

/// After a row was deleted: releases each of its files the user no longer mentions anywhere,
/// and removes those no user keeps. Failures are logged: the sweep finishes the job later.
pub async fn release(studio: &Studio, user_id: &str, keys: &[String]) {
    for key in keys {
        if let Err(err) = release_one(studio, user_id, key, now_millis()).await {
            tracing::warn!(error = %err, "could not release a media file (the sweep will)");
        }
    }
}

/// After the rows that kept them are gone (an account deleted): removes each file no user
/// keeps any more. Failures are logged: the sweep finishes the job later.
pub async fn remove_unkept(studio: &Studio, keys: &[String]) {
    for key in keys {
        let removed = async {
            let mut conn = studio.db.pool.acquire().await?;
            remove_if_unkept(studio, &mut conn, key, now_millis() + 1).await
        };
        if let Err(err) = removed.await {
            tracing::warn!(error = %err, "could not remove a media file (the sweep will)");
        }
    }
}

async fn release_one(
    studio: &Studio,
    user_id: &str,
    key: &str,
    unclaimed_before: i64,
) -> Result<(), DomainError> {
    let mut conn = studio.db.pool.acquire().await?;
    if media_usage::referenced(&mut conn, user_id, key).await? {
        media_usage::mark_checked(&mut conn, user_id, key, now_millis()).await?;
        return Ok(());
    }
    media_usage::release(&mut conn, user_id, key).await?;
    remove_if_unkept(studio, &mut conn, key, unclaimed_before).await
}

async fn remove_if_unkept(
    studio: &Studio,
    conn: &mut sqlx::AnyConnection,
    key: &str,
    unclaimed_before: i64,
) -> Result<(), DomainError> {
    // The row goes first: a claim racing it re-creates the row and checks the bytes are there.
    if media_usage::forget(conn, key, unclaimed_before).await? {
        studio.media.delete(key).await?;
        tracing::info!(media = %key, "removed a media file nothing uses");
    }
    Ok(())
}

/// Releases claims unused for `grace_ms` and removes files no user keeps; answers how many
/// files were removed.
pub async fn sweep(studio: &Studio, grace_ms: i64) -> Result<usize, DomainError> {
    let before = now_millis() - grace_ms;
    let mut conn = studio.db.pool.acquire().await?;
    for (user_id, key) in media_usage::unchecked(&mut conn, before, SWEEP_BATCH).await? {
        release_one(studio, &user_id, &key, before).await?;
    }
    let unkept = media_usage::unkept(&mut conn, before, SWEEP_BATCH).await?;
    for key in &unkept {
        remove_if_unkept(studio, &mut conn, key, before).await?;
    }
    Ok(unkept.len())
}

/// Makes sure the sweep is queued (once, whatever the number of instances).
pub async fn schedule(studio: &Studio, every_ms: i64) -> Result<(), sqlx::Error> {
    queue::enqueue(
        &studio.db,
        NewJob::recurring(MEDIA_SWEEP_JOB, every_ms, serde_json::json!({})),
    )
    .await?;
    Ok(())
}

/// The sweep: files unused for the grace period go.
pub struct MediaSweeper {
    pub studio: Studio,
    pub every_ms: i64,
    pub grace_ms: i64,
}

#[async_trait::async_trait]
impl JobHandler for MediaSweeper {
    async fn run(&self, _job: &Job) -> Outcome {
        if let Err(err) = sweep(&self.studio, self.grace_ms).await {
            tracing::warn!(error = %err, "the media sweep did not finish");
        }
        Outcome::Again {
            after_ms: self.every_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::keys_in;

    #[test]
    fn finds_media_keys_in_text() {
        let key = format!("{}.png", "a".repeat(64));
        let other = format!("{}.mp4", "b".repeat(64));
        let text = format!(
            r#"{{"image":"http://x/media/{key}","v":["https://y/media/{other}?t=1","/media/{key}"]}}"#
        );
        assert_eq!(keys_in(&text), vec![key, other]);
        assert!(keys_in("/media/../etc/passwd /media/abc.png").is_empty());
    }
}
