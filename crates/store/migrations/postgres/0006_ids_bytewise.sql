-- Provider ids are identifiers, not words: byte order ("C") instead of the
-- database's locale makes each comparison in their unique indexes a memcmp
-- (the media index takes 2,000,000 inserts in an operation's intake).
-- Ordering is unchanged for the ASCII ids providers use.
ALTER TABLE media ALTER COLUMN provider_id TYPE TEXT COLLATE "C";
ALTER TABLE media ALTER COLUMN account TYPE TEXT COLLATE "C";
ALTER TABLE accounts ALTER COLUMN provider_id TYPE TEXT COLLATE "C";
