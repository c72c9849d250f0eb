-- Money and A2E work exactly once.
-- jobs.lease_token: a fresh token per claim; every write a step makes checks it (fencing), so a
--   step whose lease was taken over by another worker cannot write.
-- jobs.deadline_at: past it, the job gives up (its domain work ends failed, its credits refunded).
-- jobs.reservation_key: the credit reservation this job owns (settled or refunded by it).
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
ALTER TABLE jobs ADD COLUMN deadline_at BIGINT;
ALTER TABLE jobs ADD COLUMN reservation_key TEXT;
CREATE INDEX jobs_reservation ON jobs(reservation_key);
-- The A2E step a character is in (JSON, `CharacterWork`): what was asked of A2E and whether the
-- answer came back, so a lost answer is reconciled instead of repeated.
ALTER TABLE character_references ADD COLUMN work TEXT NOT NULL DEFAULT '{}';
-- A passing note for the user while work waits (e.g. "Waiting for A2E").
ALTER TABLE character_references ADD COLUMN notice TEXT;
ALTER TABLE generations ADD COLUMN notice TEXT;
-- Open reservations are found by the reconciler.
CREATE INDEX credit_ledger_kind ON credit_ledger(kind, created_at);
