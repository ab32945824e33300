-- Referrals (issue 7): receiving agencies, the referral ledger and outcome
-- events. The PostgreSQL twin (migrations/postgres/0004_referrals.sql)
-- differs only in types.

-- One agency per country (an import upserts by country) ...
CREATE TABLE agencies (
    country       TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    age_recipient TEXT NOT NULL,
    contact       TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- ... and every version an import brought, so a package's recipient can be
-- traced back after the agency changed its key.
CREATE TABLE agency_history (
    id            INTEGER PRIMARY KEY,
    country       TEXT NOT NULL,
    name          TEXT NOT NULL,
    age_recipient TEXT NOT NULL,
    contact       TEXT NOT NULL,
    imported_at   TEXT NOT NULL
);

-- One package sent (or to be sent) to one country's agency.
-- state: built | sent | acknowledged | investigating | closed (only forward).
CREATE TABLE referrals (
    id         TEXT PRIMARY KEY,
    country    TEXT NOT NULL,
    agency     TEXT NOT NULL,
    state      TEXT NOT NULL,
    accounts   INTEGER NOT NULL,
    persons    INTEGER NOT NULL,
    media      INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    package    TEXT NOT NULL,
    tar_sha256 TEXT NOT NULL
);
CREATE INDEX referrals_country ON referrals (country, id);

-- Which accounts a referral carried: an account referred once is not
-- referred again unless asked (`referrals build --again`).
CREATE TABLE referral_accounts (
    referral_id TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (referral_id, account_id)
);
CREATE INDEX referral_accounts_account ON referral_accounts (account_id);

-- A package gathers the media of its accounts: media by uploader.
CREATE INDEX media_account ON media (intake_id, account);

-- The ledger: our own events (built, rebuilt, sent, ...) and the outcome
-- events agencies report. count 0 and note '' stand for "not given", so the
-- natural key below makes a re-import of the same events a no-op (NULLs
-- would never compare equal in a UNIQUE constraint).
CREATE TABLE referral_events (
    id          INTEGER PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    event       TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT '',
    imported_at TEXT NOT NULL,
    UNIQUE (referral_id, at, event, count, note)
);
