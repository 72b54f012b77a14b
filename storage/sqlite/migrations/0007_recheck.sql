-- 0007: the archive recheck's state survives a restart.
--
-- recheck_from is the archive time (microseconds) from which forward
-- catch-ups have read since the last completed recheck, NULL when none
-- is pending: the next recheck reaches back there (see the engine's
-- SyncOptions.RecheckAfter). precise is 1 once the archive has stamped a
-- result with sub-second digits, which decides how the recheck pages.
--
-- Existing cursors have no recheck pending; their archive's stamps are
-- learnt again from the next results.
ALTER TABLE mam_cursors ADD COLUMN recheck_from INTEGER;
ALTER TABLE mam_cursors ADD COLUMN precise INTEGER NOT NULL DEFAULT 0 CHECK (precise IN (0, 1));
