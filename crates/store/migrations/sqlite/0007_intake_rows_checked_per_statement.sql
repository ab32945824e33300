-- PostgreSQL's 0007 replaces the per-row foreign keys of media and events
-- with per-statement checks (its per-row check is a query each). SQLite's
-- per-row check is an index probe in the same process and stays; this
-- number keeps the two backends' migrations in step.
SELECT 1;
