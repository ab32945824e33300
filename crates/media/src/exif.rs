//! The EXIF fields investigators use: camera, serial number, capture time,
//! position and software.

use exif::{In, Tag, Value};

/// EXIF fields of one file. Absent fields are `None`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ExifInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime_original: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gps: Option<Gps>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    /// EXIF orientation (1..=8), reported but never applied to the pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orientation: Option<u16>,
}

/// A position in decimal degrees (WGS 84 as recorded by the device).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
}

impl ExifInfo {
    pub fn is_empty(&self) -> bool {
        self == &ExifInfo::default()
    }
}

fn ascii(f: &exif::Exif, tag: Tag) -> Option<String> {
    let field = f.get_field(tag, In::PRIMARY)?;
    match &field.value {
        Value::Ascii(parts) => {
            let s: Vec<String> = parts
                .iter()
                .map(|p| {
                    String::from_utf8_lossy(p)
                        .trim_end_matches('\0')
                        .trim()
                        .to_string()
                })
                .filter(|s| !s.is_empty())
                .collect();
            if s.is_empty() {
                None
            } else {
                Some(s.join(" "))
            }
        }
        Value::Undefined(b, _) => {
            let s = String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .trim()
                .to_string();
            if s.is_empty() { None } else { Some(s) }
        }
        _ => None,
    }
}

fn degrees(f: &exif::Exif, tag: Tag, ref_tag: Tag, negative: u8) -> Option<f64> {
    let field = f.get_field(tag, In::PRIMARY)?;
    let Value::Rational(r) = &field.value else {
        return None;
    };
    let part = |i: usize| r.get(i).filter(|x| x.denom != 0).map(|x| x.to_f64());
    let d = part(0)? + part(1).unwrap_or(0.0) / 60.0 + part(2).unwrap_or(0.0) / 3600.0;
    let sign = match f.get_field(ref_tag, In::PRIMARY).map(|x| &x.value) {
        Some(Value::Ascii(v)) if v.first().and_then(|s| s.first()) == Some(&negative) => -1.0,
        _ => 1.0,
    };
    let v = sign * d;
    v.is_finite().then_some(v)
}

/// Reads EXIF from a JPEG, TIFF, PNG, WebP or HEIF container. Files without
/// EXIF, or with EXIF too damaged to read, give `None`: EXIF is evidence
/// worth having, not a reason to fail a file.
pub fn read_exif(bytes: &[u8]) -> Option<ExifInfo> {
    let mut cursor = std::io::Cursor::new(bytes);
    let f = exif::Reader::new().read_from_container(&mut cursor).ok()?;
    let gps = match (
        degrees(&f, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S'),
        degrees(&f, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'),
    ) {
        (Some(lat), Some(lon)) if lat.abs() <= 90.0 && lon.abs() <= 180.0 => Some(Gps { lat, lon }),
        _ => None,
    };
    let orientation = f
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|x| x.value.get_uint(0))
        .filter(|v| (1..=8).contains(v))
        .map(|v| v as u16);
    let info = ExifInfo {
        make: ascii(&f, Tag::Make),
        model: ascii(&f, Tag::Model),
        serial: ascii(&f, Tag::BodySerialNumber),
        datetime_original: ascii(&f, Tag::DateTimeOriginal),
        gps,
        software: ascii(&f, Tag::Software),
        orientation,
    };
    (!info.is_empty()).then_some(info)
}
