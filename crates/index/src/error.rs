//! The crate's error type.

use crate::EntryId;

/// Why an index operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A PDQ hash below the quality threshold: such hashes match too much
    /// (near-blank images) and never enter the index.
    #[error("entry {id}: PDQ quality {quality} is below the minimum {min}, not indexed")]
    LowQuality { id: EntryId, quality: u8, min: u8 },

    /// A single segment would hold more hashes than multi-index hashing can
    /// address.
    #[error("a segment of {len} hashes exceeds the maximum of {max}")]
    SegmentTooLarge { len: usize, max: usize },

    /// A digest string or byte slice of the wrong length or with non-hex
    /// characters.
    #[error("invalid {kind} digest: {reason}")]
    InvalidDigest { kind: &'static str, reason: String },

    #[error("index file I/O: {0}")]
    Io(#[from] std::io::Error),

    /// The file does not start with the index file magic.
    #[error("not a Tiaki index file (bad magic bytes)")]
    BadMagic,

    /// The file was written by a newer (or unknown) format version.
    #[error("unsupported index file version {found} (this build reads version {supported})")]
    UnsupportedVersion { found: u32, supported: u32 },

    /// The checksum at the end of the file does not match its contents.
    #[error("index file checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum { stored: u32, computed: u32 },

    /// The file is structurally invalid (a length or an offset out of range).
    #[error("corrupt index file: {0}")]
    Corrupt(&'static str),
}

impl From<tiaki_types::hashes::DigestError> for IndexError {
    fn from(e: tiaki_types::hashes::DigestError) -> IndexError {
        IndexError::InvalidDigest {
            kind: e.kind,
            reason: e.reason,
        }
    }
}

impl tiaki_types::codes::ErrorCode for IndexError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        use tiaki_types::codes::Code;
        match self {
            IndexError::Io(e) => tiaki_types::codes::ErrorCode::error_code(e),
            IndexError::LowQuality { .. } | IndexError::InvalidDigest { .. } => {
                Code::InvalidArgument
            }
            IndexError::SegmentTooLarge { .. } => Code::Internal,
            _ => Code::StoreCorrupt,
        }
    }
}
