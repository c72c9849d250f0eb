-- Housekeeping first: a recurring job (the training watch, the reconciler, the media sweep) is
-- claimed before user work that fell due earlier, so a burst of ten thousand starts no longer
-- holds the training watch's rounds back by minutes.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET priority = 1 WHERE user_id IS NULL AND dedupe_key = kind;
-- The claim reads due jobs in this order and stops after a batch, however many are due.
CREATE INDEX jobs_due_first ON jobs(state, priority DESC, run_at);
