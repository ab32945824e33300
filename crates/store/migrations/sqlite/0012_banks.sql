-- HMA-compatible banks (issue 19, part 3): what Meta's Hasher-Matcher-
-- Actioner keeps for a bank and its content that lists and entries lacked,
-- and the log that lets another process catch its index up without a
-- rebuild. The PostgreSQL twin differs only in types.

-- HMA's `matching_enabled_ratio`: the share of lookups in which the bank
-- counts (0.0..=1.0). A disabled list (`enabled` false) never counts,
-- whatever its ratio.
ALTER TABLE lists ADD COLUMN enabled_ratio REAL NOT NULL DEFAULT 1.0;

-- HMA's `disable_until_ts` (unix seconds): NULL or 1 enabled, 0 disabled,
-- else the entry does not match in lookups before that time.
ALTER TABLE entries ADD COLUMN disable_until_ts INTEGER;

-- Every entry deleted, with the index generation its deletion committed as
-- (written in the same transaction). An index that reflects generation G
-- catches up by dropping the ids logged after G and adding the entries
-- above the highest id it holds: ids are never reused (a new id is above
-- every id here too), so "above the highest id" is exactly "added since".
CREATE TABLE entry_removals (
    entry_id   INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL
);
CREATE INDEX entry_removals_generation ON entry_removals (generation);
