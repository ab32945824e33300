//! The pipeline's errors: one readable sentence each.

use std::path::PathBuf;

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
