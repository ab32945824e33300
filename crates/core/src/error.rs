//! The pipeline's errors: one readable sentence each.

use std::path::PathBuf;

pub use tiaki_types::codes::{Code, ErrorCode};

/// Why a pipeline step failed as a whole (bad lines and unhashable files
/// are findings, not errors).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Store(#[from] tiaki_store::StoreError),
    #[error(transparent)]
    Blob(#[from] crate::blobs::BlobError),
    #[error("the bundle is rejected, nothing was stored: {0}")]
    Rejected(#[from] tiaki_intake::BundleError),
    #[error("{0}")]
    CyberTip(#[from] tiaki_intake::CyberTipError),
    #[error("{0}: reading stopped before the end; run the same command again to resume")]
    ReadFailed(tiaki_intake::LineError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Geo(#[from] tiaki_attrib::GeoError),
    #[error("the reader thread stopped unexpectedly")]
    ReaderLost,
    #[error("the ingest's writer task stopped unexpectedly")]
    WriterLost,
}

impl ErrorCode for CoreError {
    fn error_code(&self) -> Code {
        match self {
            CoreError::Store(e) => e.error_code(),
            CoreError::Blob(e) => e.error_code(),
            CoreError::Rejected(e) => e.error_code(),
            CoreError::CyberTip(e) => e.error_code(),
            CoreError::ReadFailed(_) => Code::Io,
            CoreError::Io { source, .. } => source.error_code(),
            CoreError::Geo(e) => e.error_code(),
            CoreError::ReaderLost | CoreError::WriterLost => Code::Internal,
        }
    }
}

impl ErrorCode for crate::blobs::BlobError {
    fn error_code(&self) -> Code {
        use crate::blobs::BlobError;
        match self {
            BlobError::Io { source, .. } => source.error_code(),
            BlobError::BadIdentity { .. } | BlobError::Decrypt { .. } => Code::BadKey,
            BlobError::Encrypt { .. } => Code::Internal,
            BlobError::Tampered { .. } => Code::StoreCorrupt,
        }
    }
}

impl ErrorCode for crate::refer::ReferError {
    fn error_code(&self) -> Code {
        use crate::refer::ReferError as E;
        match self {
            E::Store(e) => e.error_code(),
            E::Key(e) => e.error_code(),
            E::Io { source, .. } => source.error_code(),
            E::IncompleteKeys { .. } | E::NoKeys(_) => Code::NotFound,
            E::StoredAgency { .. } | E::StoredAccount { .. } => Code::StoreCorrupt,
            E::Build { source, .. } => source.error_code(),
            E::Blob(e) => e.error_code(),
            E::Worker(_) => Code::Internal,
            E::Agencies(e) => e.error_code(),
            E::Outcome { .. } | E::UnknownReferral { .. } => Code::InvalidInput,
            E::NoSuchReferral(_) => Code::NotFound,
            E::Passphrase(_) => Code::InvalidArgument,
            E::Verify { source, .. } => source.error_code(),
            E::Open { source, .. } => source.error_code(),
            E::Backwards { .. } => Code::Conflict,
        }
    }
}

/// The code of the first error in a cause chain that has one: the
/// binaries' one way from an error to an HTTP or exit status. An error no
/// library names (a binary's own argument check) is the caller's to fix.
pub fn code_of<'a>(chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>) -> Code {
    fn one(e: &(dyn std::error::Error + 'static)) -> Option<Code> {
        if let Some(e) = e.downcast_ref::<CoreError>() {
            return Some(e.error_code());
        }
        if let Some(e) = e.downcast_ref::<crate::refer::ReferError>() {
            return Some(e.error_code());
        }
        if let Some(e) = e.downcast_ref::<crate::blobs::BlobError>() {
            return Some(e.error_code());
        }
        if let Some(e) = e.downcast_ref::<crate::banks::BankError>() {
            return Some(e.error_code());
        }
        if let Some(e) = e.downcast_ref::<tiaki_store::StoreError>() {
            return Some(e.error_code());
        }
        macro_rules! coded {
            ($($t:ty),*) => {$(
                if let Some(e) = e.downcast_ref::<$t>() {
                    return Some(e.error_code());
                }
            )*};
        }
        coded!(
            crate::audit::AuditError,
            crate::vid::VidError,
            tiaki_types::time::TimeError,
            tiaki_types::hashes::DigestError,
            tiaki_formats::ImportError,
            tiaki_formats::DocumentError,
            tiaki_media::DecodeError,
            tiaki_video::VideoError,
            tiaki_intake::BundleError,
            tiaki_intake::CyberTipError,
            tiaki_attrib::GeoError,
            tiaki_index::IndexError,
            tiaki_referral::KeyError,
            tiaki_referral::VerifyError,
            tiaki_referral::OpenError,
            tiaki_referral::AgencyError,
            tiaki_referral::ContentError,
            tiaki_referral::BuildError
        );
        if let Some(e) = e.downcast_ref::<std::io::Error>() {
            return Some(e.error_code());
        }
        None
    }
    chain
        .into_iter()
        .find_map(one)
        .unwrap_or(Code::InvalidArgument)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that only wraps another, as `anyhow`'s context does.
    #[derive(Debug, thiserror::Error)]
    #[error("while doing something")]
    struct Context(#[source] CoreError);

    #[test]
    fn the_first_coded_error_of_the_chain_decides() {
        let inner = CoreError::Rejected(tiaki_intake::BundleError::LimitExceeded {
            archive: PathBuf::from("b.zip"),
            what: "entries".into(),
        });
        let outer = Context(inner);
        let chain =
            std::iter::successors(Some(&outer as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            });
        assert_eq!(code_of(chain), Code::PayloadTooLarge);
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            code_of([&missing as &(dyn std::error::Error + 'static)]),
            Code::NotFound
        );
        // Nothing coded: the binary's own argument checks.
        let plain = std::fmt::Error;
        assert_eq!(
            code_of([&plain as &(dyn std::error::Error + 'static)]),
            Code::InvalidArgument
        );
        let store = CoreError::Store(tiaki_store::StoreError::NoSuchList("x".into()));
        assert_eq!(
            code_of([&store as &(dyn std::error::Error + 'static)]),
            Code::NotFound
        );
    }
}
