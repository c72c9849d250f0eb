//! Pre-flight of what an avatar is trained from, read from the file itself (in Rust: `imagesize`,
//! `mp4`) before anything is kept, spent or sent to A2E, so a person learns at once what to
//! change instead of waiting for A2E's training to fail. The rules: `crate::training_media`.

use super::error::DomainError;
use crate::store::media::{sniff, MediaKind};
pub use crate::training_media::Probe;
use crate::training_media::{judge, NOT_MP4};
use std::io::Cursor;

/// Refuses (400, one sentence saying what to change) a file A2E could not train from.
pub async fn check_training_media(bytes: bytes::Bytes) -> Result<Probe, DomainError> {
    // Parsing is CPU work on untrusted bytes: off the async threads, and a panic stays there.
    let probe = tokio::task::spawn_blocking(move || probe(&bytes))
        .await
        .unwrap_or_else(|_| Err(unreadable("file")))?;
    judge(probe).map_err(unsuitable)?;
    Ok(probe)
}

fn probe(bytes: &[u8]) -> Result<Probe, DomainError> {
    match sniff(bytes) {
        Some((MediaKind::Image, _, _)) => {
            let size = imagesize::blob_size(bytes).map_err(|_| unreadable("image"))?;
            Ok(Probe::Image {
                width: size.width.try_into().unwrap_or(u32::MAX),
                height: size.height.try_into().unwrap_or(u32::MAX),
            })
        }
        Some((MediaKind::Video, "video/mp4" | "video/quicktime", _)) => probe_mp4(bytes),
        Some((MediaKind::Video, _, _)) => Err(unsuitable(NOT_MP4)),
        _ => Err(DomainError::UnsupportedMedia(
            "Upload a PNG, JPEG, WebP or GIF image, or an MP4 or MOV video.".into(),
        )),
    }
}

/// Length from the movie header, picture size from the largest video track's header.
fn probe_mp4(bytes: &[u8]) -> Result<Probe, DomainError> {
    let reader = mp4::Mp4Reader::read_header(Cursor::new(bytes), bytes.len() as u64)
        .map_err(|_| unreadable("video"))?;
    let (width, height) = reader
        .tracks()
        .values()
        .filter(|t| matches!(t.track_type(), Ok(mp4::TrackType::Video)))
        .map(|t| (u32::from(t.width()), u32::from(t.height())))
        .max_by_key(|(w, h)| w * h)
        .ok_or_else(|| unsuitable("This video has no picture: upload a clip of the person."))?;
    Ok(Probe::Video {
        width,
        height,
        seconds: seconds_of(&reader.moov).ok_or_else(|| {
            unsuitable(
                "This video's length could not be read (a streamed recording?): export it \
                 again as a regular MP4 and upload that.",
            )
        })?,
    })
}

/// The movie's length: its header's, or for a fragmented file the fragments' total.
fn seconds_of(moov: &mp4::MoovBox) -> Option<f64> {
    let timescale = f64::from(moov.mvhd.timescale);
    let units = match moov.mvhd.duration {
        0 => moov.mvex.as_ref()?.mehd.as_ref()?.fragment_duration,
        units => units,
    };
    (timescale > 0.0 && units > 0).then(|| units as f64 / timescale)
}

fn unsuitable(message: impl Into<String>) -> DomainError {
    DomainError::invalid("unsuitable_for_training", message)
}

fn unreadable(what: &str) -> DomainError {
    unsuitable(format!(
        "This {what} could not be read: is it a complete file? Export it again and upload that."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_from_the_bytes() {
        let mut png = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png, 300, 400);
            encoder.set_color(png::ColorType::Grayscale);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&vec![0u8; 300 * 400]).unwrap();
        }
        assert_eq!(
            probe(&png).unwrap(),
            Probe::Image {
                width: 300,
                height: 400
            }
        );
        let webm = [
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42,
            0x82, 0x84, b'w', b'e', b'b', b'm', 0, 0, 0, 0,
        ];
        let err = probe(&webm).unwrap_err().to_string();
        assert!(err.contains("MP4 or MOV"), "{err}");
        let broken_mp4 = [
            0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0,
        ];
        assert!(probe(&broken_mp4).is_err());
    }
}
