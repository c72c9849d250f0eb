-- The character library: tags one row each (indexed filtering), how often each character was
-- used, which generations used it (provenance), and its training history as events.

-- Tags, lowercase. `character_references.tags` stays as the display copy, written with them.
CREATE TABLE character_tags (
    character_id TEXT NOT NULL REFERENCES character_references(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (character_id, tag)
);
CREATE INDEX character_tags_user_tag ON character_tags(user_id, tag, character_id);

UPDATE character_references SET tags = LOWER(tags);

-- Splits the comma lists character by character: one portable recursive query for both databases.
WITH RECURSIVE split(id, user_id, rest, cur, tag) AS (
    SELECT id, user_id, tags || ',', CAST('' AS TEXT), CAST(NULL AS TEXT)
    FROM character_references WHERE tags <> ''
    UNION ALL
    SELECT id, user_id, substr(rest, 2),
        CASE WHEN substr(rest, 1, 1) = ',' THEN '' ELSE cur || substr(rest, 1, 1) END,
        CASE WHEN substr(rest, 1, 1) = ',' THEN cur ELSE NULL END
    FROM split WHERE rest <> ''
)
INSERT INTO character_tags (character_id, user_id, tag)
SELECT DISTINCT id, user_id, TRIM(tag) FROM split WHERE tag IS NOT NULL AND TRIM(tag) <> '';

-- Sorting: by a lowercase name (the same order on both databases), by use.
ALTER TABLE character_references ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';
UPDATE character_references SET sort_name = LOWER(name);
ALTER TABLE character_references ADD COLUMN times_used BIGINT NOT NULL DEFAULT 0;

-- Each character a generation used (once per generation), written with the generation.
CREATE TABLE generation_characters (
    generation_id TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    character_id TEXT NOT NULL REFERENCES character_references(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (generation_id, character_id)
);
CREATE INDEX generation_characters_character ON generation_characters(character_id, created_at, generation_id);

-- Earlier generations name their characters inside the `refs` JSON (serde writes no spaces).
INSERT INTO generation_characters (generation_id, character_id, user_id, created_at)
SELECT g.id, c.id, g.user_id, g.created_at
FROM generations g JOIN character_references c
    ON c.user_id = g.user_id AND g.refs LIKE '%"character_id":"' || c.id || '"%';
UPDATE character_references SET times_used =
    (SELECT COUNT(*) FROM generation_characters gc WHERE gc.character_id = character_references.id);

-- Keyset paging: every sort order has an index ending in the id that breaks ties.
DROP INDEX character_references_user;
CREATE INDEX character_references_user_new ON character_references(user_id, created_at, id);
CREATE INDEX character_references_user_name ON character_references(user_id, sort_name, id);
CREATE INDEX character_references_user_used ON character_references(user_id, times_used, id);
DROP INDEX generations_user;
CREATE INDEX generations_user_new ON generations(user_id, created_at, id);

-- Training history: what happened to a character's avatar, when.
CREATE TABLE character_events (
    id TEXT PRIMARY KEY,
    character_id TEXT NOT NULL REFERENCES character_references(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('queued', 'portrait_drawn', 'training_started', 'progress',
        'continued', 'failed', 'done')),
    detail TEXT NOT NULL DEFAULT '',
    progress BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX character_events_character ON character_events(character_id, created_at, id);

-- Earlier characters get the history their row still tells.
INSERT INTO character_events (id, character_id, user_id, kind, detail, created_at)
SELECT 'q-' || id, id, user_id, 'queued', 'Created', created_at FROM character_references;
INSERT INTO character_events (id, character_id, user_id, kind, detail, created_at)
SELECT 's-' || id, id, user_id, 'training_started', '', training_started_at
FROM character_references WHERE training_started_at IS NOT NULL;
INSERT INTO character_events (id, character_id, user_id, kind, detail, progress, created_at)
SELECT 'd-' || id, id, user_id, 'done', '', 100, updated_at
FROM character_references WHERE avatar_status = 'completed';
INSERT INTO character_events (id, character_id, user_id, kind, detail, created_at)
SELECT 'f-' || id, id, user_id, 'failed', COALESCE(avatar_error, ''), updated_at
FROM character_references WHERE avatar_status = 'failed';
