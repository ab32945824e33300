-- SQLite compares text bytewise already (BINARY collation); this number
-- keeps the two backends' migrations in step with PostgreSQL's 0006.
SELECT 1;
