-- The account pages: the itemised ledger, password changes, presets and adopted A2E avatars.

-- The credits page reads one user's entries newest first, a page at a time (keyset paging).
CREATE INDEX credit_ledger_user_time ON credit_ledger(user_id, created_at, id);

-- Sessions that logged in before this moment (ms) are ended: a password change sets it, so
-- every other browser is logged out at its next request, whatever store holds the sessions.
ALTER TABLE users ADD COLUMN sessions_valid_after BIGINT NOT NULL DEFAULT 0;

-- Named defaults saved from a trained character, to start a new character or a canvas
-- generation from. The character may be deleted later; the preset keeps its values.
CREATE TABLE presets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    character_id TEXT REFERENCES character_references(id) ON DELETE SET NULL,
    outfit_description TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT 'V2.1' CHECK (model_version IN ('V2.1', 'V1.0')),
    voice TEXT,
    aspect_ratio TEXT,
    motion_clip_url TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

-- One character per A2E avatar, whoever holds it: an avatar is never adopted twice.
DROP INDEX character_references_avatar;
CREATE UNIQUE INDEX character_references_avatar ON character_references(avatar_id);

-- Avatars adopted from the A2E account (trained elsewhere): deleting the character gives the
-- avatar back to the account's list instead of removing it at A2E.
CREATE TABLE avatar_imports (
    avatar_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    character_id TEXT NOT NULL REFERENCES character_references(id) ON DELETE CASCADE,
    imported_at BIGINT NOT NULL
);
CREATE INDEX avatar_imports_user ON avatar_imports(user_id);
