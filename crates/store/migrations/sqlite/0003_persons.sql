-- Persons and attribution (issue 6): accounts linked into persons, and a
-- country for every account and person. The PostgreSQL twin
-- (migrations/postgres/0003_persons.sql) differs only in types.
--
-- The three tables are derived data: `tiaki attribute` (and every ingest
-- that stored something) replaces their whole content in one transaction,
-- computed from every intake's accounts, so links across reports count.
-- Ids are assigned by the recompute (1..n, in a fixed order), so a rerun on
-- the same data gives the same rows.
-- JSON columns hold tiaki-attrib values (Evidence, CountryShare, Finding).

CREATE TABLE persons (
    id              INTEGER PRIMARY KEY,
    label           TEXT NOT NULL UNIQUE,      -- "P-" + lowest member account id
    country         TEXT,                      -- ISO 3166-1 alpha-2; NULL: no evidence
    confidence      REAL NOT NULL,             -- [0, 1]
    runner_up       TEXT,
    runner_up_share REAL,
    evidence        TEXT NOT NULL DEFAULT '[]',  -- [Evidence]
    accounts        INTEGER NOT NULL,
    computed_at     TEXT NOT NULL,
    shares          TEXT NOT NULL DEFAULT '[]'   -- [CountryShare], every country with votes
);
CREATE INDEX persons_country ON persons (country);

CREATE TABLE account_attribution (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    person_id       INTEGER REFERENCES persons (id),
    country         TEXT,
    confidence      REAL NOT NULL,
    runner_up       TEXT,
    runner_up_share REAL,
    evidence        TEXT NOT NULL DEFAULT '[]',  -- [Evidence]
    findings        TEXT NOT NULL DEFAULT '[]',  -- [Finding]: malformed e-mails, phones, IPs
    computed_at     TEXT NOT NULL,
    shares          TEXT NOT NULL DEFAULT '[]'   -- [CountryShare]
);
CREATE INDEX account_attribution_person ON account_attribution (person_id);

CREATE TABLE account_links (
    id          INTEGER PRIMARY KEY,
    a           INTEGER NOT NULL,            -- accounts.id, a < b
    b           INTEGER NOT NULL,
    kind        TEXT NOT NULL,               -- email | phone | device | ip_time | shared_upload
    evidence    TEXT NOT NULL,               -- the shared value (ip_time: the IP and both times)
    weight      REAL NOT NULL,
    pair_weight REAL NOT NULL DEFAULT 0      -- all links between a and b combined (noisy-or)
);
CREATE INDEX account_links_a ON account_links (a);
CREATE INDEX account_links_b ON account_links (b);
