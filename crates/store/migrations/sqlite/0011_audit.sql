-- The audit log (issue 19, part 5; `tiaki_core::audit`): one row per audited
-- event, each row's hash covering its fields and the previous row's hash
-- (`prev_hash`), so that an edited, deleted or moved row breaks the chain;
-- and signed checkpoints of the chain's head, so that deleting the newest
-- rows is detected too. Every field is kept as the text the hash covers.
-- Rows are appended one at a time with the writer lock held (SQLite's
-- BEGIN IMMEDIATE; PostgreSQL's advisory lock), so the chain never forks;
-- UNIQUE (prev_hash) says so once more.
-- The PostgreSQL twin differs only in types and in how the triggers are
-- written.

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    country     TEXT,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    remote_addr TEXT,
    prev_hash   TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_at ON audit_log (at, seq);

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    seq       INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    at        TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- Append-only for Tiaki itself: an UPDATE or DELETE is refused. This guards
-- against mistakes, not against whoever can drop a trigger; that is what the
-- hash chain and the signed checkpoints are for (docs/security.md).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
