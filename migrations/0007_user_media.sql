-- Which user keeps which stored file, for storage quotas and for removing files nothing uses.
-- Files are content-addressed and shared: a file is removed once no user keeps it.
CREATE TABLE media_objects (
    media_key TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    -- Last time any user claimed it: a fresh claim protects it from removal.
    claimed_at BIGINT NOT NULL
);

CREATE TABLE user_media (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    media_key TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- When the sweep last found it still in use.
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, media_key)
);
CREATE INDEX user_media_key ON user_media(media_key);
CREATE INDEX user_media_checked ON user_media(checked_at);
