//! Per-country referral packages.
//!
//! One package is two files:
//!
//! ```text
//! referral-<ID>.tar.age           tar archive, age-encrypted to the receiving agency
//! referral-<ID>.tar.age.minisig   minisign signature of the .tar.age file by the issuer
//! ```
//!
//! The archive holds, in this order, `manifest.json` (the SHA-256 of every
//! other file), `accounts.ndjson`, `media.vics.json` (VICS 2.0),
//! optionally `media/<sha256>.<ext>` files, and `summary.html`. A recipient
//! needs only the standard `minisign` and `age` tools; see the crate's
//! README for the commands.
//!
//! Modules, and why they are separate:
//!
//! * [`keys`]: the issuer's minisign key pair (generate, load, sign).
//! * [`agency`]: the agencies TOML file and its age recipients.
//! * [`content`]: the plain-data input one package is built from. This crate
//!   has no database: the caller gathers records and passes them in, with
//!   the creation time, so rebuilding gives the same archive.
//! * [`build`]: deterministic tar → age → file, then the signature.
//! * [`verify`]: signature check and safe opening, for receiving countries
//!   that run Tiaki.
//!
//! **Determinism.** Equal [`PackageContent`] (including `created_at`) and
//! equal [`BuildOptions`] give a byte-identical plaintext tar: fixed header
//! fields (mode 0644, uid/gid 0, empty owner names, mtime = `created_at`),
//! fixed entry order, and documents serialised in input order. The age
//! ciphertext, and so the `.tar.age` file and its signature, differ on every
//! build, as age uses a fresh file key each time; "same content" therefore
//! means the same decrypted tar, whose SHA-256 is in
//! [`BuiltPackage::tar_sha256`] and in the signed comment.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod agency;
pub mod build;
pub mod content;
mod hashing;
pub mod keys;
pub mod manifest;
pub mod summary;
pub mod verify;
pub mod vics;

pub use agency::{AgeRecipient, Agency, AgencyError, parse_agencies};
pub use build::{BuildError, BuildOptions, BuiltPackage, build_package, package_file_name};
pub use content::{
    ContentError, Evidence, Figure, Identifier, MediaMatch, MediaStatus, PackageAccount,
    PackageContent, PackageMedia,
};
pub use keys::{GeneratedKeyFiles, IssuerKeys, IssuerPublicKey, KeyError};
pub use manifest::Manifest;
pub use verify::{
    AgeIdentity, OpenError, Opened, TrustedComment, VerifiedInfo, VerifyError, open,
    signature_path, verify,
};

// Each error's code in the one table (`tiaki_types::codes`): what the CLI
// exits with and the service answers.
mod codes {
    use tiaki_types::codes::{Code, ErrorCode};

    use crate::{AgencyError, BuildError, ContentError, KeyError, OpenError, VerifyError};

    impl ErrorCode for KeyError {
        fn error_code(&self) -> Code {
            match self {
                KeyError::EmptyPassphrase => Code::InvalidArgument,
                KeyError::Minisign(_) => Code::Internal,
                _ => Code::BadKey,
            }
        }
    }

    impl ErrorCode for VerifyError {
        fn error_code(&self) -> Code {
            match self {
                VerifyError::Io { source, .. } => source.error_code(),
                // A signature that does not hold, or a file that is not one.
                _ => Code::BadKey,
            }
        }
    }

    impl ErrorCode for OpenError {
        fn error_code(&self) -> Code {
            match self {
                OpenError::Verify(e) => e.error_code(),
                OpenError::Io { source, .. } => source.error_code(),
                OpenError::Identity(_) | OpenError::WrongIdentity | OpenError::Decrypt(_) => {
                    Code::BadKey
                }
                // A package whose content breaks its own manifest: damaged
                // or forged input.
                _ => Code::InvalidInput,
            }
        }
    }

    impl ErrorCode for AgencyError {
        fn error_code(&self) -> Code {
            Code::InvalidInput
        }
    }

    impl ErrorCode for ContentError {
        fn error_code(&self) -> Code {
            Code::InvalidArgument
        }
    }

    impl ErrorCode for BuildError {
        fn error_code(&self) -> Code {
            match self {
                BuildError::Content(e) => e.error_code(),
                BuildError::Io { source, .. } | BuildError::Document { source, .. } => {
                    source.error_code()
                }
                BuildError::MediaFile { .. } => Code::StoreCorrupt,
                BuildError::Encrypt(_) => Code::Internal,
                BuildError::Sign(e) => e.error_code(),
            }
        }
    }
}
