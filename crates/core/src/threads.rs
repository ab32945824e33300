//! Referral threads (issue 19): follow-up, support and guidance between the
//! coordination unit and a country's liaison officers, one thread per
//! referral, with attachments and read receipts.
//!
//! Scope is the referral's: a caller sees and writes on the thread of a
//! referral of their scope ([`crate::access::scope`]) and nothing else,
//! and anything outside it is [`ThreadError::NotFound`], as a missing
//! referral is. Attachments go straight into the encrypted blob store
//! ([`crate::blobs`]: age to the store's identity, content-addressed) as
//! they arrive ([`Upload`]), each at most [`MAX_ATTACHMENT_BYTES`], at most
//! [`MAX_ATTACHMENTS`] a message; the store keeps their metadata
//! (`tiaki_store::threads`).

use tiaki_store::threads::{NewThreadAttachment, NewThreadMessage, ThreadAttachment};
use tiaki_store::{ReferralStore, StoreError, ThreadStore, Timestamp};
use tiaki_types::codes::{Code, ErrorCode};
use tiaki_types::hex;

use crate::access::{self, Action, Principal};
use crate::blobs::{BlobError, BlobStore, BlobWriter};

pub use tiaki_store::threads::{ReadReceipt, ThreadAuthor, ThreadMessage, UnreadCount};
pub use tiaki_store::threads::ThreadAttachment as AttachmentInfo;

/// The longest message body, in characters (Unicode scalar values).
pub const MAX_BODY_CHARS: usize = 20_000;
/// The largest attachment, in bytes (20 MiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;
/// The most attachments one message carries.
pub const MAX_ATTACHMENTS: usize = 5;
/// The longest attachment file name, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Why a thread operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ThreadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// No such referral or attachment in the caller's scope (or the role
    /// may not do it): the same answer as for a missing one.
    #[error("not found")]
    NotFound,
    #[error("a message body must have 1 to {MAX_BODY_CHARS} characters, not {0}")]
    BadBody(usize),
    #[error("a message carries at most {MAX_ATTACHMENTS} attachments")]
    TooManyAttachments,
    #[error("attachment {name:?} is larger than the limit of {MAX_ATTACHMENT_BYTES} bytes")]
    TooLarge { name: String },
    #[error("file name {name:?} is not accepted: {why}")]
    BadFileName { name: String, why: &'static str },
    #[error("content type {0:?} is not a media type (type/subtype)")]
    BadContentType(String),
}

impl ErrorCode for ThreadError {
    fn error_code(&self) -> Code {
        match self {
            ThreadError::Store(e) => e.error_code(),
            ThreadError::Blob(e) => e.error_code(),
            ThreadError::NotFound => Code::NotFound,
            ThreadError::TooLarge { .. } => Code::PayloadTooLarge,
            ThreadError::BadBody(_)
            | ThreadError::TooManyAttachments
            | ThreadError::BadFileName { .. }
            | ThreadError::BadContentType(_) => Code::InvalidInput,
        }
    }
}

/// A referral's thread as one caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thread {
    pub referral_id: String,
    /// Oldest first.
    pub messages: Vec<ThreadMessage>,
    /// Messages of others the caller has not marked read.
    pub unread: u64,
}

/// What marking a thread read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadMarked {
    /// Messages newly marked read (already read ones and the caller's own
    /// are not counted).
    pub marked: u64,
}

/// `Ok` when the referral exists and is in `who`'s scope.
async fn in_scope<S: ReferralStore>(
    store: &S,
    who: &Principal,
    referral_id: &str,
) -> Result<(), ThreadError> {
    match store.referral(referral_id).await? {
        Some(r) if access::scope(who).covers(&r.country) => Ok(()),
        _ => Err(ThreadError::NotFound),
    }
}

/// Checks a message body: 1 to [`MAX_BODY_CHARS`] characters, not only
/// white space.
pub fn check_body(body: &str) -> Result<(), ThreadError> {
    let n = body.chars().count();
    if body.trim().is_empty() || n > MAX_BODY_CHARS {
        return Err(ThreadError::BadBody(if body.trim().is_empty() { 0 } else { n }));
    }
    Ok(())
}

/// Checks an attachment's file name: a plain name (no directory, no
/// control characters, no quotes) of 1 to [`MAX_FILE_NAME_BYTES`] bytes,
/// so that it is safe in a download's `Content-Disposition` and on the
/// receiver's disk.
pub fn check_file_name(name: &str) -> Result<(), ThreadError> {
    let bad = |why| {
        Err(ThreadError::BadFileName {
            name: name.chars().take(80).collect(),
            why,
        })
    };
    if name.trim().is_empty() {
        return bad("it is empty");
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return bad("it is longer than 255 bytes");
    }
    if name == "." || name == ".." {
        return bad("it names a directory");
    }
    if name.contains(['/', '\\']) {
        return bad("it contains a path separator");
    }
    if name.chars().any(|c| c.is_control() || c == '"') {
        return bad("it contains a control character or a quote");
    }
    if name != name.trim() {
        return bad("it starts or ends with white space");
    }
    Ok(())
}

/// Checks a content type (`type/subtype`, RFC 6838 characters, parameters
/// allowed after `;`); `None` or empty is `application/octet-stream`.
pub fn check_content_type(content_type: Option<&str>) -> Result<String, ThreadError> {
    let Some(t) = content_type.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok("application/octet-stream".into());
    };
    let essence = t.split(';').next().unwrap_or_default().trim();
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let ok = t.len() <= 255
        && t.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence.split_once('/').is_some_and(|(a, b)| token(a) && token(b));
    if ok {
        Ok(t.to_owned())
    } else {
        Err(ThreadError::BadContentType(t.chars().take(80).collect()))
    }
}

/// An attachment being received: its bytes are encrypted into the blob
/// store as they arrive and never exceed [`MAX_ATTACHMENT_BYTES`].
#[derive(Debug)]
pub struct Upload {
    file_name: String,
    content_type: String,
    writer: BlobWriter,
}

impl Upload {
    /// Starts an upload after checking its name and type.
    pub fn start(
        blobs: &BlobStore,
        file_name: &str,
        content_type: Option<&str>,
    ) -> Result<Upload, ThreadError> {
        check_file_name(file_name)?;
        let content_type = check_content_type(content_type)?;
        Ok(Upload {
            file_name: file_name.to_owned(),
            content_type,
            writer: blobs.writer()?,
        })
    }

    /// Appends bytes; [`ThreadError::TooLarge`] (and nothing kept) past the
    /// limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), ThreadError> {
        if self.writer.size() + chunk.len() as u64 > MAX_ATTACHMENT_BYTES {
            return Err(ThreadError::TooLarge {
                name: self.file_name.clone(),
            });
        }
        Ok(self.writer.write(chunk)?)
    }

    /// Completes the blob (blocking file I/O: call it off the async
    /// workers) and gives the attachment to post.
    pub fn finish(self) -> Result<NewThreadAttachment, ThreadError> {
        let (sha256, size) = self.writer.finish()?;
        Ok(NewThreadAttachment {
            file_name: self.file_name,
            content_type: self.content_type,
            size,
            sha256: hex::encode(&sha256),
        })
    }
}

/// Posts a message by `author` on `referral_id`'s thread with attachments
/// already in the blob store ([`Upload`]).
pub async fn post_message<S: ReferralStore + ThreadStore>(
    store: &S,
    author: &Principal,
    referral_id: &str,
    body: &str,
    attachments: Vec<NewThreadAttachment>,
    now: &Timestamp,
) -> Result<ThreadMessage, ThreadError> {
    if !access::allows(author.role, Action::PostThreads) {
        return Err(ThreadError::NotFound);
    }
    in_scope(store, author, referral_id).await?;
    check_body(body)?;
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(ThreadError::TooManyAttachments);
    }
    for a in &attachments {
        check_file_name(&a.file_name)?;
        if a.size > MAX_ATTACHMENT_BYTES {
            return Err(ThreadError::TooLarge {
                name: a.file_name.clone(),
            });
        }
    }
    let new = NewThreadMessage {
        referral_id: referral_id.to_owned(),
        author_id: author.user_id,
        author_name: author.name.clone(),
        author_role: author.role,
        author_country: author.country.clone(),
        body: body.to_owned(),
        attachments,
    };
    Ok(store.add_thread_message(&new, now).await?)
}

/// `referral_id`'s thread as `viewer` sees it (with their unread count).
pub async fn thread<S: ReferralStore + ThreadStore>(
    store: &S,
    viewer: &Principal,
    referral_id: &str,
) -> Result<Thread, ThreadError> {
    if !access::allows(viewer.role, Action::ReadReferrals) {
        return Err(ThreadError::NotFound);
    }
    in_scope(store, viewer, referral_id).await?;
    let messages = store.thread_messages(referral_id).await?;
    // User names are unique and never change: a receipt is the viewer's by name.
    let unread = messages
        .iter()
        .filter(|m| m.author.name != viewer.name && !m.read_by.iter().any(|r| r.name == viewer.name))
        .count() as u64;
    Ok(Thread {
        referral_id: referral_id.to_owned(),
        messages,
        unread,
    })
}

/// Marks `referral_id`'s thread read by `reader` up to message `up_to`
/// (inclusive; `None`: every message).
pub async fn mark_read<S: ReferralStore + ThreadStore>(
    store: &S,
    reader: &Principal,
    referral_id: &str,
    up_to: Option<i64>,
    now: &Timestamp,
) -> Result<ReadMarked, ThreadError> {
    if !access::allows(reader.role, Action::ReadReferrals) {
        return Err(ThreadError::NotFound);
    }
    in_scope(store, reader, referral_id).await?;
    let marked = store
        .mark_thread_read(referral_id, reader.user_id, up_to, now)
        .await?;
    Ok(ReadMarked { marked })
}

/// Per referral of `reader`'s scope, the messages they have not read.
pub async fn unread_counts<S: ThreadStore>(
    store: &S,
    reader: &Principal,
) -> Result<Vec<UnreadCount>, ThreadError> {
    if !access::allows(reader.role, Action::ReadReferrals) {
        return Ok(Vec::new());
    }
    let scope = access::scope(reader);
    Ok(store.thread_unread(reader.user_id, scope.country()).await?)
}

/// The metadata of an attachment of `referral_id`'s thread, in `viewer`'s
/// scope.
pub async fn attachment<S: ReferralStore + ThreadStore>(
    store: &S,
    viewer: &Principal,
    referral_id: &str,
    attachment_id: i64,
) -> Result<AttachmentInfo, ThreadError> {
    if !access::allows(viewer.role, Action::ReadReferrals) {
        return Err(ThreadError::NotFound);
    }
    in_scope(store, viewer, referral_id).await?;
    store
        .thread_attachment(referral_id, attachment_id)
        .await?
        .ok_or(ThreadError::NotFound)
}

/// The decrypted bytes of an attachment, checked against its SHA-256
/// (blocking file I/O and decryption: call it off the async workers).
pub fn read_attachment(blobs: &BlobStore, a: &ThreadAttachment) -> Result<Vec<u8>, ThreadError> {
    let sha: [u8; 32] = hex::decode::<32>(&a.sha256).map_err(|_| {
            StoreError::Corrupt(format!(
                "thread_attachments {}: sha256 {:?} is not 64 hex digits",
            a.id, a.sha256
        ))
    })?;
    Ok(blobs.read(&sha)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_names_and_types_are_checked() {
        assert!(check_body("Kia ora").is_ok());
        assert!(check_body(&"ā".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(matches!(check_body(" \n"), Err(ThreadError::BadBody(0))));
        assert!(matches!(
            check_body(&"a".repeat(MAX_BODY_CHARS + 1)),
            Err(ThreadError::BadBody(20_001))
        ));
        for ok in ["notes.pdf", "rāpoto 2026.txt", ".hidden"] {
            assert!(check_file_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(256);
        for bad in ["", " ", ".", "..", "a/b", "..\\x", "a\u{0}b", "a\"b", " a", long.as_str()] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_content_type(None).unwrap(), "application/octet-stream");
        assert_eq!(check_content_type(Some("")).unwrap(), "application/octet-stream");
        assert_eq!(
            check_content_type(Some("text/plain; charset=utf-8")).unwrap(),
            "text/plain; charset=utf-8"
        );
        for bad in ["text", "text/", "/plain", "text/pl ain", "tëxt/plain", "a/b\r\nX: y"] {
            assert!(check_content_type(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_upload_stops_at_the_limit_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::open(dir.path()).unwrap();
        let mut up = Upload::start(&blobs, "big.bin", None).unwrap();
        let chunk = vec![1u8; 1 << 20];
        for _ in 0..20 {
            up.write(&chunk).unwrap();
        }
        assert!(matches!(up.write(&[1]), Err(ThreadError::TooLarge { .. })));
        drop(up);
        let left = std::fs::read_dir(dir.path().join("blobs")).unwrap().count();
        assert_eq!(left, 0);
        let mut up = Upload::start(&blobs, "small.txt", Some("text/plain")).unwrap();
        up.write(b"benign").unwrap();
        let a = up.finish().unwrap();
        assert_eq!((a.size, a.content_type.as_str()), (6, "text/plain"));
        let info = AttachmentInfo {
            id: 1,
            message_id: 1,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
        };
        assert_eq!(read_attachment(&blobs, &info).unwrap(), b"benign");
    }
}
