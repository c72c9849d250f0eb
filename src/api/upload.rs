//! Multipart uploads, read as they stream in. A file's kind is found from its first bytes, and
//! the upload is refused as soon as it outgrows that kind's limit (413), before more of it is
//! buffered. The storage quota is checked once the file is whole (`domain::media`), because a
//! file the user already keeps takes no more room. Text fields are small.

use crate::error::AppError;
use crate::store::media::{sniff, MediaError, MediaKind, MediaLimits};
use axum::extract::multipart::{Field, MultipartError};
use bytes::{Bytes, BytesMut};

/// Enough of a file to recognise every accepted format.
const SNIFF_BYTES: usize = 8 * 1024;
/// The most a text field of a form may hold: prompts are at most 2,000 characters.
const MAX_FORM_TEXT: usize = 8 * 1024;

pub fn bad_form(e: MultipartError) -> AppError {
    AppError::new(e.status().as_u16(), "invalid_form", e.body_text())
}

/// A file field, refused early when too large or of a kind not in `accept`.
pub async fn read_file(
    mut field: Field<'_>,
    limits: &MediaLimits,
    accept: &[MediaKind],
) -> Result<(Bytes, MediaKind), AppError> {
    let mut bytes = BytesMut::new();
    let mut kind = None;
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        bytes.extend_from_slice(&chunk);
        if kind.is_none() && bytes.len() >= SNIFF_BYTES {
            kind = Some(kind_of(&bytes, accept)?);
        }
        if let Some(kind) = kind {
            check_size(bytes.len(), kind, limits)?;
        }
    }
    if bytes.is_empty() {
        return Err(AppError::bad_request(
            "missing_file",
            "The file is empty: attach it as `file`.",
        ));
    }
    let kind = match kind {
        Some(kind) => kind,
        None => kind_of(&bytes, accept)?,
    };
    check_size(bytes.len(), kind, limits)?;
    Ok((bytes.freeze(), kind))
}

fn kind_of(bytes: &[u8], accept: &[MediaKind]) -> Result<MediaKind, AppError> {
    match sniff(bytes) {
        Some((kind, _, _)) if accept.contains(&kind) => Ok(kind),
        _ => Err(AppError::new(
            415,
            "unsupported_media_type",
            format!("Upload {}.", describe(accept)),
        )),
    }
}

fn describe(accept: &[MediaKind]) -> String {
    let names: Vec<&str> = accept
        .iter()
        .map(|kind| match kind {
            MediaKind::Image => "a PNG, JPEG, WebP or GIF image",
            MediaKind::Video => "an MP4, WebM or MOV video",
            MediaKind::Audio => "an MP3, WAV, OGG, M4A, AAC or FLAC audio file",
        })
        .collect();
    names.join(", or ")
}

/// Refuses a file past its kind's limit (413).
fn check_size(len: usize, kind: MediaKind, limits: &MediaLimits) -> Result<(), AppError> {
    let limit = limits.for_kind(kind);
    if len as u64 > limit {
        return Err(MediaError::TooLarge {
            limit_mb: limit >> 20,
        }
        .into());
    }
    Ok(())
}

/// A text field, refused (400) once it outgrows `MAX_FORM_TEXT`, before more is buffered.
pub async fn small_text(mut field: Field<'_>) -> Result<String, AppError> {
    let name = field.name().unwrap_or("field").to_string();
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        if bytes.len() + chunk.len() > MAX_FORM_TEXT {
            return Err(AppError::bad_request(
                "field_too_long",
                format!("The form field `{name}` is too long (at most {MAX_FORM_TEXT} bytes)."),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| AppError::bad_request("invalid_form", format!("`{name}` is not UTF-8 text.")))
}
