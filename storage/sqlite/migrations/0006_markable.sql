-- 0006: whether an inbound message asked for chat markers (XEP-0333
-- <markable/>), so that reading it sends a displayed marker after a restart
-- too, and for messages that came from the archive or as carbons.
--
-- Existing messages are not markable: the facts were not kept.
ALTER TABLE messages ADD COLUMN markable INTEGER NOT NULL DEFAULT 0 CHECK (markable IN (0, 1));
