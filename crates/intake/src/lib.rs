//! Intake readers: provider-report/1 bundles and NCMEC CyberTipline XML.
//!
//! Both sources map to one normalised [`model`]: a [`ReportHeader`], and
//! [`Account`], [`Media`] and [`Event`] records. Readers stream (a bundle's
//! NDJSON files are read line by line with bounded memory), validate every
//! rule of spec/provider-report.md, keep unknown fields in `extra`, and
//! report bad input as errors naming file, line and reason:
//!
//! * a bundle whose archive, manifest, required files or `files_sha256` are
//!   wrong is rejected whole by [`Bundle::open`] ([`BundleError`]);
//! * a bad line is a [`LineError`] from the record iterator, and reading
//!   goes on;
//! * a malformed CyberTipline file is a [`CyberTipError`] for that file, and
//!   the other files of a folder are still read.
//!
//! This crate stores nothing and computes no file hashes: the caller (the
//! `tiaki ingest` command) does both, on top of this API.
//!
//! ```no_run
//! use std::path::Path;
//! use tiaki_intake::{Bundle, Limits};
//!
//! let mut bundle = Bundle::open(Path::new("report.tar.zst"), Path::new("/tmp/stage"), &Limits::default())?;
//! println!("{} / {}", bundle.header().provider_name, bundle.header().report_id);
//! for item in bundle.accounts() {
//!     match item {
//!         Ok(rec) => println!("account {} (line {})", rec.value.id, rec.line),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! for item in bundle.media() {
//!     if let Err(e) = item {
//!         eprintln!("{e}");
//!     }
//! }
//! # Ok::<(), tiaki_intake::BundleError>(())
//! ```

#![forbid(unsafe_code)]

mod archive;
pub mod bundle;
pub mod cybertip;
pub mod error;
mod fields;
pub mod generate;
mod idset;
pub mod manifest;
pub mod model;
mod records;

pub use archive::{EXPANSION_ALLOWANCE, Limits};
pub use bundle::{AccountReader, Bundle, EventReader, MediaReader};
pub use cybertip::{CyberTip, CyberTipError, CyberTipOptions, CyberTipReport};
pub use error::{BundleError, LineError, LineErrorKind};
pub use model::{
    Account, EstimatedLocation, Event, Login, Media, ProvidedHashes, Record, ReportHeader,
    SourceKind,
};

// Each error's code in the one table (`tiaki_types::codes`).
mod codes {
    use tiaki_types::codes::{Code, ErrorCode};

    use crate::{BundleError, CyberTipError};

    impl ErrorCode for BundleError {
        fn error_code(&self) -> Code {
            match self {
                BundleError::Io { source, .. } => source.error_code(),
                BundleError::LimitExceeded { .. } => Code::PayloadTooLarge,
                _ => Code::InvalidInput,
            }
        }
    }

    impl ErrorCode for CyberTipError {
        fn error_code(&self) -> Code {
            match self {
                CyberTipError::Io { source, .. } => source.error_code(),
                CyberTipError::TooLarge { .. } => Code::PayloadTooLarge,
                _ => Code::InvalidInput,
            }
        }
    }
}
