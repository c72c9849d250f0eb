//! What a file is, from its first bytes, never from its name.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

impl MediaKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Image => "an image",
            Self::Video => "a video",
            Self::Audio => "an audio file",
        }
    }
}

/// Kind, MIME type and file extension of an allowed file, or `None`.
pub fn sniff(bytes: &[u8]) -> Option<(MediaKind, &'static str, &'static str)> {
    let kind = infer::get(bytes)?;
    let found = match kind.mime_type() {
        "image/png" => (MediaKind::Image, "image/png", "png"),
        "image/jpeg" => (MediaKind::Image, "image/jpeg", "jpg"),
        "image/webp" => (MediaKind::Image, "image/webp", "webp"),
        "image/gif" => (MediaKind::Image, "image/gif", "gif"),
        "video/mp4" => (MediaKind::Video, "video/mp4", "mp4"),
        "video/webm" => (MediaKind::Video, "video/webm", "webm"),
        "video/quicktime" => (MediaKind::Video, "video/quicktime", "mov"),
        "audio/mpeg" => (MediaKind::Audio, "audio/mpeg", "mp3"),
        "audio/x-wav" | "audio/wav" => (MediaKind::Audio, "audio/wav", "wav"),
        "audio/ogg" => (MediaKind::Audio, "audio/ogg", "ogg"),
        "audio/m4a" | "audio/x-m4a" | "audio/mp4" => (MediaKind::Audio, "audio/mp4", "m4a"),
        "audio/x-flac" | "audio/flac" => (MediaKind::Audio, "audio/flac", "flac"),
        "audio/aac" => (MediaKind::Audio, "audio/aac", "aac"),
        _ => return None,
    };
    Some(found)
}

/// The MIME type of a stored key, by the extension `sniff` gave it.
pub fn mime_of_key(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or_default() {
        "png" => "image/png",
        "jpg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "m4a" => "audio/mp4",
        "flac" => "audio/flac",
        "aac" => "audio/aac",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_not_the_name() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(sniff(&png).map(|s| s.1), Some("image/png"));
        assert_eq!(sniff(b"<html><script>alert(1)</script></html>"), None);
        assert_eq!(sniff(b"just some text pretending to be a .png"), None);
        let wav = b"RIFF\x24\x00\x00\x00WAVEfmt ";
        assert_eq!(sniff(wav).map(|s| s.0), Some(MediaKind::Audio));
        let webm = [
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42,
            0x82, 0x84, b'w', b'e', b'b', b'm',
        ];
        assert_eq!(sniff(&webm).map(|s| s.0), Some(MediaKind::Video));
    }
}
