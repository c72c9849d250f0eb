//! What A2E can train an avatar from, judged from a file's header: the same rules and the same
//! sentences in the browser (before a large file is sent) and on the server (before anything is
//! kept, charged or sent to A2E). They follow A2E's training guidance: videos in MP4 or MOV of at
//! least 10 seconds; images of one face, large enough to show it.

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

/// A2E trains from MP4 and MOV only.
pub const NOT_MP4: &str = "A2E trains avatars from MP4 or MOV videos: convert this one to MP4 \
     (for example `ffmpeg -i clip.webm clip.mp4`) and upload that.";

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

/// `Err` with one sentence saying what to change, when A2E could not train from it.
pub fn judge(probe: Probe) -> Result<(), String> {
    match probe {
        Probe::Image { width, height } => {
            if width.min(height) < MIN_IMAGE_SIDE {
                return Err(format!(
                    "This image is {width}×{height} pixels: A2E needs at least \
                     {MIN_IMAGE_SIDE} pixels on each side to see the face. Upload a larger one."
                ));
            }
            if width.max(height) > MAX_IMAGE_SIDE {
                return Err(format!(
                    "This image is {width}×{height} pixels: scale it down to at most \
                     {MAX_IMAGE_SIDE} pixels on its longer side."
                ));
            }
            check_aspect(width, height, "image")
        }
        Probe::Video {
            width,
            height,
            seconds,
        } => {
            if seconds < MIN_VIDEO_SECONDS {
                return Err(format!(
                    "This video lasts {seconds:.1} s: A2E needs at least {MIN_VIDEO_SECONDS:.0} \
                     seconds of the person. Upload a longer clip."
                ));
            }
            if seconds > MAX_VIDEO_SECONDS {
                return Err(format!(
                    "This video lasts {:.0} minutes: cut it to at most {:.0} minutes.",
                    seconds / 60.0,
                    MAX_VIDEO_SECONDS / 60.0
                ));
            }
            if width.min(height) < MIN_VIDEO_SIDE {
                return Err(format!(
                    "This video is {width}×{height}: A2E needs at least {MIN_VIDEO_SIDE}p to \
                     see the face clearly. Upload a sharper clip."
                ));
            }
            check_aspect(width, height, "video")
        }
    }
}

fn check_aspect(width: u32, height: u32, what: &str) -> Result<(), String> {
    let (short, long) = (width.min(height), width.max(height));
    if f64::from(long) > f64::from(short) * MAX_ASPECT {
        return Err(format!(
            "This {what} is {width}×{height}, a strip rather than a picture of a person: crop it \
             to at most {MAX_ASPECT:.0}:1."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: u32, height: u32) -> Result<(), String> {
        judge(Probe::Image { width, height })
    }

    fn video(width: u32, height: u32, seconds: f64) -> Result<(), String> {
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
        let err = video(1280, 720, 4.0).unwrap_err();
        assert!(
            err.contains("4.0 s") && err.contains("at least 10"),
            "{err}"
        );
        let err = image(100, 80).unwrap_err();
        assert!(err.contains("100×80") && err.contains("larger"), "{err}");
    }
}
