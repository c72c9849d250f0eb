//! Pre-flight of what an avatar is trained from, read from the file itself before anything is
//! kept, spent or sent to A2E, so a person learns at once what to change instead of waiting
//! for A2E's training to fail. The limits follow A2E's training guidance: videos in MP4 or MOV
//! of at least 10 seconds; images of one face, large enough to show it.

use super::error::DomainError;
use crate::store::media::{sniff, MediaKind};
use std::io::Cursor;

/// A2E: "The video length should be at least 10 seconds."
const MIN_VIDEO_SECONDS: f64 = 10.0;
/// Longer clips add nothing to an avatar and take long to upload and train.
const MAX_VIDEO_SECONDS: f64 = 600.0;
/// The face must be clear: below this a face is a few dozen pixels.
const MIN_VIDEO_SIDE: u32 = 360;
const MIN_IMAGE_SIDE: u32 = 256;
const MAX_IMAGE_SIDE: u32 = 8192;
/// Longer side over shorter side: a portrait or a landscape, not a banner.
const MAX_ASPECT: f64 = 3.0;

/// What was read from a file's header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Probe {
    Image {
        width: u32,
        height: u32,
    },
    Video {
        width: u32,
        height: u32,
        seconds: f64,
    },
}

/// Refuses (400, one sentence saying what to change) a file A2E could not train from.
pub async fn check_training_media(bytes: bytes::Bytes) -> Result<Probe, DomainError> {
    // Parsing is CPU work on untrusted bytes: off the async threads, and a panic stays there.
    let probe = tokio::task::spawn_blocking(move || probe(&bytes))
        .await
        .unwrap_or_else(|_| Err(unreadable("file")))?;
    judge(probe)?;
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
        Some((MediaKind::Video, _, _)) => Err(unsuitable(
            "A2E trains avatars from MP4 or MOV videos: convert this one to MP4 (for example \
             `ffmpeg -i clip.webm clip.mp4`) and upload that.",
        )),
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

fn judge(probe: Probe) -> Result<(), DomainError> {
    match probe {
        Probe::Image { width, height } => {
            let (short, long) = (width.min(height), width.max(height));
            if short < MIN_IMAGE_SIDE {
                return Err(unsuitable(format!(
                    "This image is {width}×{height} pixels: A2E needs at least \
                     {MIN_IMAGE_SIDE} pixels on each side to see the face. Upload a larger one."
                )));
            }
            if long > MAX_IMAGE_SIDE {
                return Err(unsuitable(format!(
                    "This image is {width}×{height} pixels: scale it down to at most \
                     {MAX_IMAGE_SIDE} pixels on its longer side."
                )));
            }
            check_aspect(width, height, "image")
        }
        Probe::Video {
            width,
            height,
            seconds,
        } => {
            if seconds < MIN_VIDEO_SECONDS {
                return Err(unsuitable(format!(
                    "This video lasts {seconds:.1} s: A2E needs at least {MIN_VIDEO_SECONDS:.0} \
                     seconds of the person. Upload a longer clip."
                )));
            }
            if seconds > MAX_VIDEO_SECONDS {
                return Err(unsuitable(format!(
                    "This video lasts {:.0} minutes: cut it to at most {:.0} minutes.",
                    seconds / 60.0,
                    MAX_VIDEO_SECONDS / 60.0
                )));
            }
            if width.min(height) < MIN_VIDEO_SIDE {
                return Err(unsuitable(format!(
                    "This video is {width}×{height}: A2E needs at least {MIN_VIDEO_SIDE}p to \
                     see the face clearly. Upload a sharper clip."
                )));
            }
            check_aspect(width, height, "video")
        }
    }
}

fn check_aspect(width: u32, height: u32, what: &str) -> Result<(), DomainError> {
    let (short, long) = (width.min(height), width.max(height));
    if f64::from(long) > f64::from(short) * MAX_ASPECT {
        return Err(unsuitable(format!(
            "This {what} is {width}×{height}, a strip rather than a picture of a person: crop it \
             to at most {MAX_ASPECT:.0}:1."
        )));
    }
    Ok(())
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

    fn image(width: u32, height: u32) -> Result<(), DomainError> {
        judge(Probe::Image { width, height })
    }

    fn video(width: u32, height: u32, seconds: f64) -> Result<(), DomainError> {
        judge(Probe::Video {
            width,
            height,
            seconds,
        })
    }

    #[test]
    fn images_need_a_visible_face_and_a_picture_shape() {
        assert!(image(512, 768).is_ok());
        assert!(image(256, 256).is_ok());
        assert!(image(255, 400).is_err());
        assert!(image(9000, 6000).is_err());
        assert!(image(300, 1000).is_err(), "a banner");
    }

    #[test]
    fn videos_need_ten_seconds_and_enough_pixels() {
        assert!(video(1280, 720, 12.0).is_ok());
        assert!(video(720, 1280, 10.0).is_ok(), "portrait phones");
        assert!(video(1280, 720, 9.5).is_err());
        assert!(video(1280, 720, 601.0).is_err());
        assert!(video(320, 240, 30.0).is_err());
    }

    #[test]
    fn messages_say_what_to_change() {
        let err = video(1280, 720, 4.0).unwrap_err().to_string();
        assert!(
            err.contains("4.0 s") && err.contains("at least 10"),
            "{err}"
        );
        let err = image(100, 80).unwrap_err().to_string();
        assert!(err.contains("100×80") && err.contains("larger"), "{err}");
    }

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
