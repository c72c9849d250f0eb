//! The studio's own media store: every kept result and upload, content-addressed, served at
//! `/media/…`. On local disk (`MEDIA_DIR`) by default, or in an S3-compatible bucket so several
//! instances share it. A2E's URLs expire; these do not.

mod serve;
mod sniff;

pub use serve::routes;
pub use sniff::{sniff, MediaKind};

use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Where media lives: a local folder or an S3-compatible bucket.
#[derive(Debug, Clone)]
pub enum Backend {
    Local(std::path::PathBuf),
    S3 {
        bucket: String,
        region: String,
        endpoint: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        allow_http: bool,
    },
}

#[derive(Debug, Clone)]
pub struct MediaLimits {
    pub image_bytes: u64,
    pub video_bytes: u64,
    pub audio_bytes: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            image_bytes: 20 << 20,
            video_bytes: 200 << 20,
            audio_bytes: 50 << 20,
        }
    }
}

impl MediaLimits {
    pub fn for_kind(&self, kind: MediaKind) -> u64 {
        match kind {
            MediaKind::Image => self.image_bytes,
            MediaKind::Video => self.video_bytes,
            MediaKind::Audio => self.audio_bytes,
        }
    }

    fn largest(&self) -> u64 {
        self.image_bytes.max(self.video_bytes).max(self.audio_bytes)
    }
}

/// Whether `key` is the name of one of our files (`<sha256 hex>.<ext>`).
pub fn is_key(key: &str) -> bool {
    serve::valid_key(key)
}

/// A file in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    /// Public URL (from `PUBLIC_BASE_URL`), fetchable by A2E and browsers.
    pub url: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("the file is empty")]
    Empty,
    #[error("{0}")]
    Unsupported(String),
    #[error("the file is larger than {limit_mb} MB")]
    TooLarge { limit_mb: u64 },
    #[error("the storage quota is used up ({used_mb} of {quota_mb} MB)")]
    StorageFull { used_mb: u64, quota_mb: u64 },
    #[error("could not fetch the media: {0}")]
    Fetch(String),
    #[error("the media store failed: {0}")]
    Io(String),
}

impl From<MediaError> for crate::error::AppError {
    fn from(err: MediaError) -> Self {
        use crate::error::AppError;
        match err {
            MediaError::Empty => AppError::bad_request("empty_file", "The file is empty."),
            MediaError::Unsupported(what) => AppError::new(415, "unsupported_media_type", what),
            MediaError::TooLarge { limit_mb } => AppError::new(
                413,
                "too_large",
                format!("The file is larger than the {limit_mb} MB allowed."),
            ),
            // RFC 4331: a quota that a request would exceed is 507 Insufficient Storage.
            MediaError::StorageFull { used_mb, quota_mb } => AppError::new(
                507,
                "storage_full",
                format!("Your storage is full ({used_mb} of {quota_mb} MB used): delete characters or generations you no longer need."),
            ),
            MediaError::Fetch(detail) => AppError::new(
                502,
                "media_fetch_failed",
                format!("Could not fetch the media: {detail}"),
            ),
            MediaError::Io(detail) => {
                tracing::error!(%detail, "media store failure");
                AppError::internal()
            }
        }
    }
}

#[derive(Clone)]
pub struct MediaStore {
    objects: Arc<dyn ObjectStore>,
    public_base: Arc<str>,
    limits: MediaLimits,
}

impl MediaStore {
    pub fn local(dir: &Path, public_base_url: &str, limits: MediaLimits) -> Result<Self, String> {
        Self::open(&Backend::Local(dir.to_path_buf()), public_base_url, limits)
    }

    /// Opens the configured backend; errors are one line, fit to print at start-up.
    pub fn open(
        backend: &Backend,
        public_base_url: &str,
        limits: MediaLimits,
    ) -> Result<Self, String> {
        let objects: Arc<dyn ObjectStore> = match backend {
            Backend::Local(dir) => {
                let fail = |e: &dyn std::fmt::Display| {
                    format!("cannot use MEDIA_DIR {}: {e}", dir.display())
                };
                std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(dir)
                        .map_err(|e| fail(&e))?,
                )
            }
            Backend::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_allow_http(*allow_http);
                if let Some(endpoint) = endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) = (access_key_id, secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                Arc::new(
                    builder
                        .build()
                        .map_err(|e| format!("cannot use the S3 bucket {bucket}: {e}"))?,
                )
            }
        };
        Ok(Self {
            objects,
            public_base: public_base_url.trim_end_matches('/').into(),
            limits,
        })
    }

    pub fn limits(&self) -> &MediaLimits {
        &self.limits
    }

    pub fn public_url(&self, key: &str) -> String {
        format!("{}/media/{key}", self.public_base)
    }

    /// The key of one of our own URLs, if it is one.
    pub fn key_from_url(&self, url: &str) -> Option<String> {
        let key = url
            .strip_prefix(&*self.public_base)?
            .strip_prefix("/media/")?;
        serve::valid_key(key).then(|| key.to_string())
    }

    /// Stores bytes of any allowed kind (results copied from A2E).
    pub async fn put(&self, bytes: Bytes) -> Result<StoredMedia, MediaError> {
        let kind = self.check(&bytes, None)?;
        self.write(bytes, kind).await
    }

    /// Stores a user's upload, which must be of the `expected` kind (or any kind when `None`).
    pub async fn put_upload(
        &self,
        bytes: Bytes,
        expected: impl Into<Option<MediaKind>>,
    ) -> Result<StoredMedia, MediaError> {
        let kind = self.check(&bytes, expected.into())?;
        self.write(bytes, kind).await
    }

    fn check(
        &self,
        bytes: &[u8],
        expected: Option<MediaKind>,
    ) -> Result<(MediaKind, &'static str, &'static str), MediaError> {
        if bytes.is_empty() {
            return Err(MediaError::Empty);
        }
        let (kind, mime, ext) = sniff(bytes).ok_or_else(|| {
            MediaError::Unsupported("This file type is not accepted: use PNG, JPEG, WebP or GIF images, MP4, WebM or MOV videos, or MP3, WAV, OGG, M4A or FLAC audio.".into())
        })?;
        if let Some(expected) = expected.filter(|e| *e != kind) {
            return Err(MediaError::Unsupported(format!(
                "Expected {}, got {}.",
                expected.describe(),
                kind.describe()
            )));
        }
        let limit = self.limits.for_kind(kind);
        if bytes.len() as u64 > limit {
            return Err(MediaError::TooLarge {
                limit_mb: limit >> 20,
            });
        }
        Ok((kind, mime, ext))
    }

    async fn write(
        &self,
        bytes: Bytes,
        (_, mime, ext): (MediaKind, &'static str, &'static str),
    ) -> Result<StoredMedia, MediaError> {
        let size = bytes.len() as u64;
        let key = format!("{}.{ext}", hex::encode(Sha256::digest(&bytes)));
        let path = ObjectPath::from(key.as_str());
        // Same key, same bytes: a stored copy is already right. Both backends write atomically.
        if self.objects.head(&path).await.is_err() {
            self.objects
                .put(&path, bytes.into())
                .await
                .map_err(|e| MediaError::Io(format!("storing {size} bytes: {e}")))?;
        }
        Ok(StoredMedia {
            url: self.public_url(&key),
            key,
            content_type: mime.to_string(),
            size,
        })
    }

    /// Downloads an A2E result and keeps it. Only http(s), with a size cap and a timeout.
    pub async fn copy_from_url(
        &self,
        http: &reqwest::Client,
        url: &str,
    ) -> Result<StoredMedia, MediaError> {
        self.copy_capped(http, url, self.limits.largest()).await
    }

    /// Downloads what a user pointed at (through a client the outbound gate checked and
    /// pinned), capped by the kind expected and the user's room left, and keeps it as an
    /// upload of that kind.
    pub async fn copy_user_url(
        &self,
        http: &reqwest::Client,
        url: &str,
        kind: MediaKind,
        room: u64,
    ) -> Result<StoredMedia, MediaError> {
        let cap = self.limits.for_kind(kind).min(room);
        let fetched = self.copy_capped(http, url, cap).await?;
        let bytes = self.read(&fetched.key).await.unwrap_or_default();
        self.put_upload(bytes, kind).await
    }

    /// A user's own media URL, read from the store itself (no HTTP): `None` when not ours.
    pub async fn own(&self, url: &str, kind: MediaKind) -> Option<Result<StoredMedia, MediaError>> {
        let key = self.key_from_url(url)?;
        let bytes = self.read(&key).await?;
        Some(self.put_upload(bytes, kind).await)
    }

    async fn copy_capped(
        &self,
        http: &reqwest::Client,
        url: &str,
        cap: u64,
    ) -> Result<StoredMedia, MediaError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(MediaError::Fetch("only http(s) URLs can be fetched".into()));
        }
        let mut response = http
            .get(url)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(|e| {
                MediaError::Fetch(if e.is_timeout() {
                    "timed out".into()
                } else {
                    "could not connect".into()
                })
            })?;
        if !response.status().is_success() {
            return Err(MediaError::Fetch(format!(
                "the server answered {}",
                response.status()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| MediaError::Fetch("the download broke off".into()))?
        {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(MediaError::TooLarge {
                    limit_mb: cap >> 20,
                });
            }
            body.extend_from_slice(&chunk);
        }
        self.put(body.into()).await
    }

    /// Reads a stored file's bytes.
    pub async fn read(&self, key: &str) -> Option<Bytes> {
        let path = self.path_of(key)?;
        self.objects.get(&path).await.ok()?.bytes().await.ok()
    }

    /// Deletes a stored file (gone already is fine).
    pub async fn delete(&self, key: &str) -> Result<(), MediaError> {
        let Some(path) = self.path_of(key) else {
            return Ok(());
        };
        match self.objects.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(MediaError::Io(format!("deleting {key}: {e}"))),
        }
    }

    /// Writes the bytes again if the file went missing (a removal that raced a new claim).
    pub async fn ensure_stored(&self, key: &str, bytes: &Bytes) -> Result<(), MediaError> {
        let Some(path) = self.path_of(key) else {
            return Ok(());
        };
        if self.objects.head(&path).await.is_err() {
            self.objects
                .put(&path, bytes.clone().into())
                .await
                .map_err(|e| MediaError::Io(format!("restoring {key}: {e}")))?;
        }
        Ok(())
    }

    pub(crate) fn path_of(&self, key: &str) -> Option<ObjectPath> {
        serve::valid_key(key).then(|| ObjectPath::from(key))
    }

    pub(crate) fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }
}
