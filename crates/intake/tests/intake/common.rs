//! Helpers: write small bundles from text, read everything back.

use std::fs;
use std::path::{Path, PathBuf};

use tiaki_intake::{Account, Bundle, Event, Limits, LineError, Media, Record};

pub const MANIFEST: &str = r#"{"format": "provider-report/1", "report_id": "R-1",
  "provider": {"name": "Acme File Share Ltd", "country": "NZ", "contact": "trust@acme.example"},
  "created_at": "2019-10-14T03:00:00Z", "incident_type": "distribution", "description": "d"}"#;

pub const MD5: &str = "0123456789abcdef0123456789abcdef";

/// Writes a bundle directory `dir` with these files (None = absent).
pub fn write_bundle(
    dir: &Path,
    manifest: Option<&str>,
    accounts: Option<&str>,
    media: Option<&str>,
    events: Option<&str>,
) {
    fs::create_dir_all(dir).unwrap();
    for (name, text) in [
        ("manifest.json", manifest),
        ("accounts.ndjson", accounts),
        ("media.ndjson", media),
        ("events.ndjson", events),
    ] {
        if let Some(t) = text {
            fs::write(dir.join(name), t).unwrap();
        }
    }
}

pub struct All {
    pub accounts: Vec<Record<Account>>,
    pub media: Vec<Record<Media>>,
    pub events: Vec<Record<Event>>,
    pub errors: Vec<LineError>,
}

impl All {
    pub fn error_at(&self, file: &str, line: u64) -> &LineError {
        self.errors
            .iter()
            .find(|e| e.file == file && e.line == line)
            .unwrap_or_else(|| panic!("no error at {file}:{line}; errors: {:#?}", self.errors))
    }

    /// Everything as JSON text, for whole-result comparisons.
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(&(&self.accounts, &self.media, &self.events, &self.errors)).unwrap()
    }
}

pub fn read_all(bundle: &mut Bundle) -> All {
    let mut all = All {
        accounts: Vec::new(),
        media: Vec::new(),
        events: Vec::new(),
        errors: Vec::new(),
    };
    for r in bundle.accounts() {
        match r {
            Ok(a) => all.accounts.push(a),
            Err(e) => all.errors.push(e),
        }
    }
    for r in bundle.media() {
        match r {
            Ok(a) => all.media.push(a),
            Err(e) => all.errors.push(e),
        }
    }
    for r in bundle.events() {
        match r {
            Ok(a) => all.events.push(a),
            Err(e) => all.errors.push(e),
        }
    }
    all
}

/// Opens a directory bundle (no staging needed) and reads it all.
pub fn open_dir(dir: &Path) -> All {
    let mut b = Bundle::open(dir, &dir.join("unused-staging"), &Limits::default()).unwrap();
    read_all(&mut b)
}

pub fn staging(tmp: &Path) -> PathBuf {
    tmp.join("staging")
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    tiaki_types::hex::encode(&sha2::Sha256::digest(data))
}
