-- Characters with their A2E avatars, and the durable job queue that tracks A2E work.

CREATE TABLE character_references (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    outfit_description TEXT NOT NULL DEFAULT '',
    -- Own media store URLs (A2E's expire); video_url only for video-trained characters.
    image_url TEXT,
    video_url TEXT,
    source TEXT NOT NULL CHECK (source IN ('generated', 'uploaded_image', 'uploaded_video')),
    gender TEXT,
    avatar_id TEXT,
    avatar_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (avatar_status IN ('pending', 'training', 'completed', 'failed')),
    avatar_error TEXT,
    avatar_progress BIGINT,
    training_started_at BIGINT,
    training_eta_at BIGINT,
    preview_url TEXT,
    model_version TEXT NOT NULL DEFAULT 'V2.1' CHECK (model_version IN ('V2.1', 'V1.0')),
    training_kind TEXT NOT NULL DEFAULT 'image' CHECK (training_kind IN ('image', 'video')),
    continued BIGINT NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX character_references_avatar ON character_references(avatar_id);
CREATE INDEX character_references_user ON character_references(user_id, created_at);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    subject_id TEXT,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    -- At most one unfinished job per key (e.g. one training tracker per character).
    dedupe_key TEXT UNIQUE,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_subject ON jobs(subject_id);
