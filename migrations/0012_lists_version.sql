-- How many times the user's listed rows (characters, their tags, generations, which characters
-- each used) have changed: a page of a list read at one count is still right while it stands.
-- On SQLite, triggers move it (installed at every start: `store::page_cache`) and pages are
-- kept in memory under it; PostgreSQL reads every page from the database and leaves it at 0.
ALTER TABLE users ADD COLUMN lists_version BIGINT NOT NULL DEFAULT 0;
