-- Generations: scenes, motion transfers, image-to-videos, lipsyncs and fight sequences.
CREATE TABLE generations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('scene', 'motion_transfer', 'image_to_video', 'lipsync', 'fight_sequence')),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    progress BIGINT NOT NULL DEFAULT 0,
    -- JSON: the request as understood (prompt, sources, settings).
    inputs TEXT NOT NULL,
    -- JSON: per character reference, whether its avatar or its image was used.
    refs TEXT NOT NULL DEFAULT '[]',
    -- JSON: the A2E work in flight, and for fight sequences each step's state.
    work TEXT NOT NULL DEFAULT '{}',
    result_urls TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    cost BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX generations_user ON generations(user_id, created_at);
