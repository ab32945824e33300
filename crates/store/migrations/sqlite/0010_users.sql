-- Users and API tokens of the service (issue 19). Portable: the PostgreSQL
-- twin differs only in types.
--
-- A user belongs to one agency's country and has one role (the names of
-- tiaki_types::access::Role). `password` is an Argon2id PHC string, NULL for
-- an API-only account (a matcher) that logs in with tokens alone.
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    country    TEXT NOT NULL,
    role       TEXT NOT NULL,
    password   TEXT,
    disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- API tokens: only the SHA-256 of a token is kept (a token is 256 random
-- bits, so a plain hash is enough: nothing to brute-force), shown once when
-- made. A token answers only while its user is enabled, it is not revoked
-- and `expires_at` (when set) is in the future.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    token_sha256 BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Browser sessions (the UI): like tokens, only the SHA-256 of the cookie's
-- value is kept. `csrf` is the token a state-changing request must echo in
-- its X-CSRF-Token header. A session ends at `expires_at` (absolute) or
-- when `last_seen_at` is older than the idle timeout, whichever is first.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    token_sha256 BLOB NOT NULL UNIQUE,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, per account name and per client address, for rate
-- limiting (OWASP ASVS 2.2.1) shared by every `tiaki serve` process on the
-- store. Old rows are pruned as new ones come.
CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    addr  TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_addr ON login_failures (addr, at);
