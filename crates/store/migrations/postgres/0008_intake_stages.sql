-- The pipeline's stages per intake (issue 16, `tiaki_core::pipeline`): a row
-- says the stage finished for this intake and when. An ingest killed between
-- two stages leaves the later ones without a row, so running the same
-- command again knows what is left to do (an intake's records all stored
-- was already told by `intakes.state`; linking and attribution were not).
-- The SQLite twin differs only in types.

CREATE TABLE intake_stages (
    intake_id    BIGINT NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    PRIMARY KEY (intake_id, stage)
);

-- Intakes completed before this table existed finished every stage up to
-- triage (`complete` is set last, after hashing and matching). Whether their
-- linking and attribution ran is not known, so those rows are left out: the
-- next ingest links and attributes the store once more.
INSERT INTO intake_stages (intake_id, stage, completed_at)
SELECT i.id, s.stage, i.completed_at
FROM intakes i
CROSS JOIN (SELECT 'store' AS stage UNION ALL SELECT 'hash' UNION ALL SELECT 'match'
            UNION ALL SELECT 'triage') s
WHERE i.state = 'complete' AND i.completed_at IS NOT NULL;
