-- Intake (issue 5): provider reports and CyberTipline reports, their
-- accounts, media, events and findings, and the media's matches.
-- The PostgreSQL twin (migrations/postgres/0002_intake.sql) differs only in
-- types. Natural keys (provider, report_id), (intake_id, provider_id) make
-- every insert idempotent: an ingest resumed after kill -9 re-reads its
-- bundle and `ON CONFLICT DO NOTHING` skips what is already stored.

CREATE TABLE intakes (
    id           INTEGER PRIMARY KEY,
    source_kind  TEXT NOT NULL,            -- provider-report | cybertip
    provider     TEXT NOT NULL,
    report_id    TEXT NOT NULL,
    path         TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    completed_at TEXT,
    state        TEXT NOT NULL,            -- reading | hashing | complete
    hash_only    BOOLEAN NOT NULL,
    header       TEXT NOT NULL DEFAULT '{}',
    UNIQUE (provider, report_id)
);

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    intake_id        INTEGER NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    provider_id      TEXT NOT NULL,
    line             INTEGER NOT NULL,
    username         TEXT,
    declared_country TEXT,
    data             TEXT NOT NULL DEFAULT '{}',
    UNIQUE (intake_id, provider_id)
);

CREATE TABLE media (
    id                 INTEGER PRIMARY KEY,
    intake_id          INTEGER NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    provider_id        TEXT NOT NULL,
    line               INTEGER NOT NULL,
    account            TEXT NOT NULL,      -- the account's provider_id in the same intake
    file               TEXT,               -- absolute path of the file to hash; NULL: hash-only
    original_name      TEXT,
    uploaded_at        TEXT,
    upload_ip          TEXT,
    viewed_by_provider BOOLEAN,
    md5                BLOB,
    sha1               BLOB,
    sha256             BLOB,
    pdq                BLOB,
    pdq_quality        INTEGER,
    vpdq               TEXT,               -- [{"frame","timestamp","quality","pdq"}]
    kind               TEXT,               -- image | video | other
    width              INTEGER,
    height             INTEGER,
    bytes              INTEGER,
    hash_state         TEXT NOT NULL,      -- provided | pending | claimed | hashed | failed
    hash_error         TEXT,
    worker             TEXT,               -- who claimed / hashed it
    claimed_at         TEXT,
    stored             BOOLEAN NOT NULL DEFAULT FALSE,  -- blob kept in DIR/blobs
    triage             TEXT,               -- known | new; NULL until matched
    data               TEXT NOT NULL DEFAULT '{}',
    UNIQUE (intake_id, provider_id)
);
-- Only the queue is indexed (partial: stays small); every other media
-- index would slow the bulk insert of millions of rows.
CREATE INDEX media_queue ON media (id) WHERE hash_state IN ('pending', 'claimed');

CREATE TABLE media_matches (
    media_id  INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    entry_id  INTEGER NOT NULL,
    list_id   INTEGER NOT NULL,
    kind      TEXT NOT NULL,               -- exact | pdq | vpdq
    distance  INTEGER NOT NULL,
    variant   TEXT,
    PRIMARY KEY (media_id, entry_id, kind)
);
CREATE INDEX media_matches_entry ON media_matches (entry_id);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    intake_id INTEGER NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    at        TEXT,
    data      TEXT NOT NULL DEFAULT '{}',
    UNIQUE (intake_id, line)
);

-- Everything the intake could not take as it was: bad lines (file, line),
-- provider/computed hash disagreements, files that could not be hashed.
CREATE TABLE findings (
    id        INTEGER PRIMARY KEY,
    intake_id INTEGER NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    file      TEXT NOT NULL,
    line      INTEGER NOT NULL,            -- 0 when not about a line
    subject   TEXT NOT NULL DEFAULT '',    -- account / media provider id, when known
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    UNIQUE (intake_id, file, line, subject, code)
);

-- Which store this is: an index file kept on another machine (a worker's
-- data directory) names the store it reflects.
INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
