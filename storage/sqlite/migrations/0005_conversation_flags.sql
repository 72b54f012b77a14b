-- 0005: the user's pinned and archived conversations.
--
-- pinned is when the user pinned the conversation (microseconds, like every
-- time here), NULL when it is not pinned: the time orders the pinned
-- conversations (the most recently pinned first) and stays put when the
-- conversation is pinned again. archived is 0 or 1; the store sets it back
-- to 0 when a new message becomes the conversation's newest (see
-- InsertMessages), so an archived conversation comes back on new activity
-- and not when older history is imported.
--
-- Existing conversations are neither pinned nor archived.
ALTER TABLE conversations ADD COLUMN pinned INTEGER;
ALTER TABLE conversations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
