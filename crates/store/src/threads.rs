//! Referral threads (`migrations/*/0013_threads.sql`): messages between the
//! coordination unit and a country's liaison officers on a referral, their
//! attachments' metadata (the bytes are in `tiaki_core::blobs`) and read
//! receipts. The store keeps what it is given: limits, scope and the blob
//! store are `tiaki_core::threads`'. Both backends share the SQL
//! (`sql/threads.rs`).

use tiaki_types::access::Role;

use crate::{StoreError, Timestamp};

/// A message to store, with its attachments (already in the blob store).
#[derive(Debug, Clone)]
pub struct NewThreadMessage {
    pub referral_id: String,
    /// `users.id` of the author.
    pub author_id: i64,
    pub author_name: String,
    pub author_role: Role,
    pub author_country: String,
    pub body: String,
    pub attachments: Vec<NewThreadAttachment>,
}

/// An attachment of a message to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewThreadAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 (hex) of the plaintext: the blob's name.
    pub sha256: String,
}

/// Who wrote a message, as they were when they wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadAuthor {
    pub name: String,
    pub role: Role,
    pub country: String,
}

/// A stored attachment (its metadata; the bytes are downloaded apart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadAttachment {
    pub id: i64,
    pub message_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
}

/// That a user read a message, and when (first time).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadReceipt {
    /// The reader's user name.
    pub name: String,
    pub role: Role,
    pub country: String,
    pub read_at: String,
}

/// A stored message with its attachments and read receipts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadMessage {
    pub id: i64,
    pub referral_id: String,
    pub author: ThreadAuthor,
    pub body: String,
    pub created_at: String,
    pub attachments: Vec<ThreadAttachment>,
    /// Everyone but the author who has read the message, in reading order.
    pub read_by: Vec<ReadReceipt>,
}

/// How many messages of one referral's thread a user has not read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    pub referral_id: String,
    pub unread: u64,
}

crate::surface::store_trait! {
    /// The storage interface of referral threads.
    pub trait ThreadStore {
        /// Stores a message and its attachments in one transaction; returns
        /// it as stored. An unknown referral is
        /// [`StoreError::NoSuchReferral`].
        async fn add_thread_message(
            &self,
            new: &NewThreadMessage,
            now: &Timestamp,
        ) -> Result<ThreadMessage, StoreError>;
        /// A referral's thread, oldest message first, with attachments and
        /// read receipts.
        async fn thread_messages(&self, referral_id: &str) -> Result<Vec<ThreadMessage>, StoreError>;
        /// One attachment of a message of `referral_id`'s thread.
        async fn thread_attachment(
            &self,
            referral_id: &str,
            attachment_id: i64,
        ) -> Result<Option<ThreadAttachment>, StoreError>;
        /// Marks the messages of a referral's thread up to `up_to` (a
        /// message id, inclusive; `None`: all) read by `user_id`, except the
        /// user's own; returns how many were newly marked.
        async fn mark_thread_read(
            &self,
            referral_id: &str,
            user_id: i64,
            up_to: Option<i64>,
            now: &Timestamp,
        ) -> Result<u64, StoreError>;
        /// Per referral (of `country`, or every country), the messages
        /// `user_id` has not read (not counting their own); referrals with
        /// none are left out.
        async fn thread_unread(
            &self,
            user_id: i64,
            country: Option<&str>,
        ) -> Result<Vec<UnreadCount>, StoreError>;
        /// The countries engaged (the `countries_engaged` figure): those
        /// with a referral that is acknowledged or further and on whose
        /// thread a liaison officer of the country wrote, or for which an
        /// outcome (`investigation_opened`, `arrest`,
        /// `children_safeguarded`, `note`) was recorded. Sorted.
        async fn engaged_countries(&self) -> Result<Vec<String>, StoreError>;
    }
}
