-- The training watch reads every training in flight at each poll interval, in id order:
-- a partial index keeps that read small whatever the number of finished characters.
CREATE INDEX character_references_training ON character_references(id)
    WHERE avatar_status = 'training';
