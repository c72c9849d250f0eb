-- Accounts, personal API tokens and the credit ledger.
-- Written once for SQLite and PostgreSQL: TEXT ids (UUIDs made by the app), BIGINT unix-millisecond times.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    -- Bumped by every ledger write: taking this row's write lock serialises one user's credit changes.
    ledger_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Append-only: the balance is the sum of amounts. A reservation is a negative entry; it is later
-- either settled (a zero entry that closes it) or refunded (a positive entry of the same size).
CREATE TABLE credit_ledger (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'refund')),
    amount BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    reservation_key TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX credit_ledger_user ON credit_ledger(user_id);
CREATE INDEX credit_ledger_reservation ON credit_ledger(reservation_key);
