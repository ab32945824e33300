-- The victim-identification database (issue 20, part 1): series, the
-- victims and offenders recorded with them, the media linked to a series by
-- hash, and the history of every change. Portable: the PostgreSQL twin
-- differs only in types (and in how the history refuses changes).
--
-- `agency` is everywhere the contributing agency, named by its country
-- (ISO 3166-1 alpha-2) as agencies are throughout Tiaki. A row keeps its
-- current state; `vid_events` keeps how it got there.

CREATE TABLE vid_series (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    agency      TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    -- A merged series keeps its row (its history names it); its records
    -- moved to this one.
    merged_into INTEGER REFERENCES vid_series (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Victims and offenders: the status and where, when and by whom it was
-- reached (`step_*`); the transition table (tiaki_types::vid::transition)
-- is checked in the transaction that changes `status`.
CREATE TABLE vid_victims (
    id           INTEGER PRIMARY KEY,
    series_id    INTEGER NOT NULL REFERENCES vid_series (id),
    status       TEXT NOT NULL,   -- unidentified | identified | safeguarded
    step_country TEXT,
    step_agency  TEXT,
    step_date    TEXT,
    agency       TEXT NOT NULL,
    notes        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX vid_victims_series ON vid_victims (series_id);

CREATE TABLE vid_offenders (
    id           INTEGER PRIMARY KEY,
    series_id    INTEGER NOT NULL REFERENCES vid_series (id),
    status       TEXT NOT NULL,   -- unidentified | identified | arrested
    step_country TEXT,
    step_agency  TEXT,
    step_date    TEXT,
    agency       TEXT NOT NULL,
    notes        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX vid_offenders_series ON vid_offenders (series_id);

-- Media linked to a series by hash (the same columns as `media`); the file
-- itself is not required: `stored` says whether it is kept, encrypted, in the
-- blob store (tiaki_core::blobs, named by `sha256`).
CREATE TABLE vid_media (
    id          INTEGER PRIMARY KEY,
    series_id   INTEGER NOT NULL REFERENCES vid_series (id),
    kind        TEXT NOT NULL,    -- image | video | other
    md5         BLOB,
    sha1        BLOB,
    sha256      BLOB,
    pdq         BLOB,
    pdq_quality INTEGER,
    vpdq        TEXT,             -- [{"frame","timestamp","quality","pdq"}]
    stored      BOOLEAN NOT NULL DEFAULT FALSE,
    source      TEXT NOT NULL,    -- file:NAME | hash | intake:N/ID
    agency      TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE INDEX vid_media_series ON vid_media (series_id);

-- The history: one row per change, written in the change's transaction,
-- never updated or deleted (the triggers refuse both).
CREATE TABLE vid_events (
    id        INTEGER PRIMARY KEY,
    record    TEXT NOT NULL,      -- series | victim | offender | media
    record_id INTEGER NOT NULL,
    series_id INTEGER NOT NULL,   -- the record's series when it happened
    event     TEXT NOT NULL,      -- created | status | notes | merged
    from_status TEXT,
    to_status   TEXT,
    country   TEXT,
    agency    TEXT,
    date      TEXT,
    note      TEXT,
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX vid_events_series ON vid_events (series_id, id);
CREATE INDEX vid_events_record ON vid_events (record, record_id, id);

CREATE TRIGGER vid_events_no_update BEFORE UPDATE ON vid_events
BEGIN
    SELECT RAISE(ABORT, 'vid_events is append-only');
END;
CREATE TRIGGER vid_events_no_delete BEFORE DELETE ON vid_events
BEGIN
    SELECT RAISE(ABORT, 'vid_events is append-only');
END;
