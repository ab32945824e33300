-- Persons and country attribution (issue 6). STAND-IN COPY: the branch that
-- implements issue 6 owns this file; its table and column names are fixed,
-- and this copy exists only so the referral ledger (0004) can be built on it.

CREATE TABLE persons (
    id              INTEGER PRIMARY KEY,
    label           TEXT NOT NULL UNIQUE,
    country         TEXT,
    confidence      REAL NOT NULL,
    runner_up       TEXT,
    runner_up_share REAL,
    evidence        TEXT NOT NULL DEFAULT '[]',
    accounts        INTEGER NOT NULL,
    computed_at     TEXT NOT NULL
);

CREATE TABLE account_attribution (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    person_id       INTEGER REFERENCES persons (id),
    country         TEXT,
    confidence      REAL NOT NULL,
    runner_up       TEXT,
    runner_up_share REAL,
    evidence        TEXT NOT NULL DEFAULT '[]',
    findings        TEXT NOT NULL DEFAULT '[]',
    computed_at     TEXT NOT NULL
);

CREATE TABLE account_links (
    id       INTEGER PRIMARY KEY,
    a        INTEGER NOT NULL,
    b        INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    evidence TEXT NOT NULL,
    weight   REAL NOT NULL
);
