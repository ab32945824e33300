#![allow(dead_code, clippy::panic, clippy::unwrap_used, clippy::expect_used)]

pub mod synth;

use std::path::PathBuf;

use tiaki_formats::{Collected, ImportOptions, import_all};

pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Imports a test file with format detection, the file name as hint.
pub fn import_file(rel: &str) -> Collected {
    let opts = ImportOptions {
        file_name: Some(rel.to_string()),
        ..ImportOptions::default()
    };
    import_all(&read(rel)[..], &opts).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn import_bytes(bytes: &[u8]) -> Result<Collected, tiaki_formats::ImportError> {
    import_all(bytes, &ImportOptions::default())
}
