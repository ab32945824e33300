-- media and events take millions of rows per intake. A foreign key checks
-- each inserted row with its own query (an SPI SELECT ... FOR KEY SHARE per
-- row): a quarter of the server's time in a 2,000,000-line intake. The same
-- rules, checked once per statement:
--  * an inserted row's intake exists, and is locked against deletion until
--    the transaction ends (what the key's FOR KEY SHARE did);
--  * intake_id never changes (the row trigger fires only for UPDATEs that
--    name the column, which Tiaki's never do);
--  * deleting an intake deletes its media and events (was ON DELETE CASCADE;
--    media_matches still cascade from media by their key).
ALTER TABLE media DROP CONSTRAINT media_intake_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_intake_id_fkey;

CREATE FUNCTION intake_rows_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing BIGINT;
BEGIN
    SELECT n.intake_id INTO missing
      FROM (SELECT DISTINCT intake_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM intakes i WHERE i.id = n.intake_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation
            USING MESSAGE = format('insert into %s: intake %s does not exist', TG_TABLE_NAME, missing);
    END IF;
    PERFORM 1 FROM intakes WHERE id IN (SELECT DISTINCT intake_id FROM new_rows) FOR KEY SHARE;
    RETURN NULL;
END
$$;

CREATE FUNCTION intake_id_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.intake_id IS DISTINCT FROM OLD.intake_id THEN
        RAISE foreign_key_violation
            USING MESSAGE = format('%s.intake_id cannot change', TG_TABLE_NAME);
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION intake_delete_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM media WHERE intake_id = OLD.id;
    DELETE FROM events WHERE intake_id = OLD.id;
    RETURN OLD;
END
$$;

CREATE TRIGGER media_intake_exists AFTER INSERT ON media
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION intake_rows_exist();
CREATE TRIGGER events_intake_exists AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION intake_rows_exist();
CREATE TRIGGER media_intake_fixed BEFORE UPDATE OF intake_id ON media
    FOR EACH ROW EXECUTE FUNCTION intake_id_fixed();
CREATE TRIGGER events_intake_fixed BEFORE UPDATE OF intake_id ON events
    FOR EACH ROW EXECUTE FUNCTION intake_id_fixed();
CREATE TRIGGER intakes_delete_rows BEFORE DELETE ON intakes
    FOR EACH ROW EXECUTE FUNCTION intake_delete_rows();
