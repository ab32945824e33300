-- The SHA-256 of the file a list was imported from (issue 17). An import is
-- one transaction, but `lists import` goes on to match earlier intakes
-- against the new list; a run killed after the commit is finished by running
-- the same command again, which knows the list by name and this hash (the
-- same file: match again, import nothing; another file: the name is taken).
-- NULL for lists imported before this column existed.
ALTER TABLE lists ADD COLUMN file_sha256 TEXT;
