-- Idempotency keys of paid API requests (Stripe's semantics): the first answer per (user, key) is
-- kept for 24 hours and replayed. The primary key is the claim: only one INSERT can win it.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    idem_key TEXT NOT NULL,
    -- SHA-256 of method, path, content type and body: the same key with other parameters is refused.
    fingerprint TEXT NOT NULL,
    -- 'running' while the first request is being answered, then 'done'.
    state TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status_code BIGINT,
    content_type TEXT,
    body TEXT,
    created_at BIGINT NOT NULL,
    -- Refreshed while running: a 'running' row left unrefreshed for minutes was abandoned (crash).
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
