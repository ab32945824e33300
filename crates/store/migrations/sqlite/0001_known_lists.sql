-- Known hash lists and their entries (issue 4).
-- Portable on purpose: a PostgreSQL twin of this file (migrations/postgres/)
-- changes only the types (BLOB -> BYTEA, INTEGER -> BIGINT).
-- Times are ISO-8601 UTC text; JSON is text.

-- Store-wide counters. `index_generation` is bumped in the same transaction
-- as every change to `entries`; the index file records the generation it
-- was built at, so a stale index is detected at start-up and rebuilt.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('index_generation', '0');

CREATE TABLE lists (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    source          TEXT,
    format          TEXT NOT NULL,
    imported_at     TEXT NOT NULL,
    category_scheme TEXT,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    negative        BOOLEAN NOT NULL DEFAULT FALSE,
    -- PDQ match distance for this list; NULL: the caller's default (31).
    distance        INTEGER,
    -- Document-level provenance: format version, VICS profile, cases, unknown fields.
    extra           TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE entries (
    id                  INTEGER PRIMARY KEY,
    list_id             INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    md5                 BLOB,
    sha1                BLOB,
    sha256              BLOB,
    pdq                 BLOB,
    pdq_quality         INTEGER,
    -- vPDQ frames as JSON ([{"frame","timestamp","quality","pdq"}]).
    vpdq                TEXT,
    photodna            TEXT,
    category_scheme     TEXT,
    category_code       TEXT,
    category_class      TEXT,
    series              TEXT,
    victim_identified   BOOLEAN,
    offender_identified BOOLEAN,
    distributed         BOOLEAN,
    baseline            BOOLEAN,
    submissions         BIGINT,
    size                BIGINT,
    note                TEXT,
    source_id           TEXT,
    case_id             TEXT,
    extra               TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX entries_list ON entries (list_id, id);
