-- Referral threads (issue 19, part 2): messages between the coordination
-- unit and a country's liaison officers on one referral, their attachments
-- and read receipts. Portable: the PostgreSQL twin differs only in types.
--
-- A message keeps its author's name, role and country as they were when it
-- was written (a later role or country change does not rewrite the thread);
-- `countries_engaged` in `tiaki stats` counts liaison officers' messages by
-- these columns.
CREATE TABLE thread_messages (
    id             INTEGER PRIMARY KEY,
    referral_id    TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    author_id      INTEGER NOT NULL REFERENCES users (id),
    author_name    TEXT NOT NULL,
    author_role    TEXT NOT NULL,
    author_country TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX thread_messages_referral ON thread_messages (referral_id, id);

-- A message's files. The bytes are in the encrypted blob store
-- (tiaki_core::blobs: DIR/blobs/<2 hex>/<sha256>.age, age to the store's
-- identity); `sha256` (hex of the plaintext) is the blob's name.
CREATE TABLE thread_attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES thread_messages (id) ON DELETE CASCADE,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL
);
CREATE INDEX thread_attachments_message ON thread_attachments (message_id);

-- Read receipts: who read which message, first time only. An author never
-- has a row for their own message.
CREATE TABLE thread_reads (
    message_id INTEGER NOT NULL REFERENCES thread_messages (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    read_at    TEXT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX thread_reads_user ON thread_reads (user_id);
