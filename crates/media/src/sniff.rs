//! What a file is, from its first bytes (never from its name alone).

/// The broad kind reported by `tiaki hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Image,
    Video,
    Other,
}

/// A recognised container or image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaFormat {
    Jpeg,
    Png,
    Gif,
    WebP,
    Bmp,
    Tiff,
    /// ISO base media (MP4, MOV, 3GP, M4V).
    IsoBmff,
    /// Matroska / WebM.
    Matroska,
    Avi,
    Asf,
    Flv,
    MpegTs,
    MpegPs,
    Ogg,
}

impl MediaFormat {
    pub fn kind(self) -> Kind {
        match self {
            MediaFormat::Jpeg
            | MediaFormat::Png
            | MediaFormat::Gif
            | MediaFormat::WebP
            | MediaFormat::Bmp
            | MediaFormat::Tiff => Kind::Image,
            _ => Kind::Video,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "jpeg",
            MediaFormat::Png => "png",
            MediaFormat::Gif => "gif",
            MediaFormat::WebP => "webp",
            MediaFormat::Bmp => "bmp",
            MediaFormat::Tiff => "tiff",
            MediaFormat::IsoBmff => "mp4",
            MediaFormat::Matroska => "matroska",
            MediaFormat::Avi => "avi",
            MediaFormat::Asf => "asf",
            MediaFormat::Flv => "flv",
            MediaFormat::MpegTs => "mpegts",
            MediaFormat::MpegPs => "mpegps",
            MediaFormat::Ogg => "ogg",
        }
    }
}

/// Recognises a format from the first bytes of a file (at least 16 are
/// needed for every rule; 188×2 more for MPEG-TS).
pub fn sniff(head: &[u8]) -> Option<MediaFormat> {
    let starts = |p: &[u8]| head.starts_with(p);
    let at = |off: usize, p: &[u8]| head.get(off..off + p.len()) == Some(p);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some(MediaFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some(MediaFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some(MediaFormat::Gif);
    }
    if starts(b"RIFF") && at(8, b"WEBP") {
        return Some(MediaFormat::WebP);
    }
    if starts(b"RIFF") && at(8, b"AVI ") {
        return Some(MediaFormat::Avi);
    }
    if starts(b"BM") && head.len() >= 18 && at(6, &[0, 0, 0, 0]) {
        return Some(MediaFormat::Bmp);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some(MediaFormat::Tiff);
    }
    if at(4, b"ftyp") {
        // HEIF/AVIF still images share the container; they are not videos.
        let brand = head.get(8..12).unwrap_or_default();
        if matches!(brand, b"heic" | b"heix" | b"mif1" | b"avif" | b"heif") {
            return None;
        }
        return Some(MediaFormat::IsoBmff);
    }
    if at(4, b"moov") || at(4, b"mdat") || at(4, b"free") || at(4, b"wide") {
        return Some(MediaFormat::IsoBmff);
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(MediaFormat::Matroska);
    }
    if starts(&[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) {
        return Some(MediaFormat::Asf);
    }
    if starts(b"FLV\x01") {
        return Some(MediaFormat::Flv);
    }
    if starts(b"OggS") {
        return Some(MediaFormat::Ogg);
    }
    if starts(&[0x00, 0x00, 0x01, 0xBA]) {
        return Some(MediaFormat::MpegPs);
    }
    if head.len() > 188 * 2 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47 {
        return Some(MediaFormat::MpegTs);
    }
    None
}

/// File-name extensions that claim a media file. A file with one of these
/// whose content is not recognised gets an error rather than `kind: other`,
/// so that a renamed or damaged file is never silently passed over.
pub fn extension_claims_media(name: &str) -> bool {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some(
            "jpg"
                | "jpeg"
                | "jpe"
                | "jfif"
                | "png"
                | "apng"
                | "gif"
                | "webp"
                | "bmp"
                | "tif"
                | "tiff"
                | "mp4"
                | "m4v"
                | "mov"
                | "3gp"
                | "mkv"
                | "webm"
                | "avi"
                | "wmv"
                | "asf"
                | "flv"
                | "ts"
                | "mts"
                | "m2ts"
                | "mpg"
                | "mpeg"
                | "ogv"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_formats() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"),
            Some(MediaFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(MediaFormat::Png)
        );
        assert_eq!(
            sniff(b"\0\0\0\x20ftypisom\0\0\0\0"),
            Some(MediaFormat::IsoBmff)
        );
        assert_eq!(sniff(b"\0\0\0\x20ftypheic\0\0\0\0"), None);
        assert_eq!(sniff(b"hello world, not media"), None);
        assert_eq!(sniff(b""), None);
        assert!(extension_claims_media("a/b/IMG_1.JPG"));
        assert!(!extension_claims_media("notes.txt"));
    }
}
